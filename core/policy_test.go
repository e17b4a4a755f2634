package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPolicyHooks(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "policy.toml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hooked := &specs.Spec{Hooks: &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}}
	plain := &specs.Spec{Hooks: &specs.Hooks{}}
	untrusted := map[string]string{"trust": "untrusted"}

	// No policy file: hooks run, as in runc.
	none, err := LoadPolicy(filepath.Join(t.TempDir(), "absent.toml"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := none.CheckHooks(hooked, untrusted); err != nil {
		t.Errorf("no policy refused hooks: %v", err)
	}

	path := write("[[rule]]\nname = \"untrusted-code\"\nlabel = \"trust=untrusted\"\nmin_isolation = \"sandbox\"\nhooks = \"deny\"\n")
	p, err := LoadPolicy(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.CheckHooks(hooked, untrusted)
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), `rule "untrusted-code" (`+path+`:2) for label trust=untrusted denies hooks`) ||
		!strings.Contains(err.Error(), "poststop") {
		t.Errorf("CheckHooks with the label = %v; want FailedPrecondition naming the rule and the hooks", err)
	}
	for name, got := range map[string]error{
		"without the label": p.CheckHooks(hooked, map[string]string{"trust": "me"}),
		"without hooks":     p.CheckHooks(plain, untrusted),
	} {
		if got != nil {
			t.Errorf("%s: %v, want allowed", name, got)
		}
	}

	all, err := LoadPolicy(write("hooks = \"deny\"\n"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := all.CheckHooks(hooked, nil); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("hooks = deny: %v, want FailedPrecondition", err)
	}

	if _, err := LoadPolicy(write("hooks = \"maybe\"\n"), true, nil); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), ":1: hooks") {
		t.Errorf("hooks = maybe: %v, want InvalidArgument with the line", err)
	}
}
