//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/internal/testutil"
)

func needRunsc(t *testing.T) {
	if _, err := exec.LookPath("runsc"); err != nil {
		t.Skip("runsc not installed: make deps installs it")
	}
}

func writePolicy(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const untrustedPolicy = `# a security team's rule
[[rule]]
name = "untrusted-needs-vm"
label = "trust=untrusted"
min_isolation = "vm"
`

func TestPolicyRefusesTooWeakDriver(t *testing.T) {
	e := newEnv(t)
	p := writePolicy(t, untrustedPolicy)
	r := e.wantCode(125, "--policy", p, "run", "--rm", "--label", "trust=untrusted", "--driver", "linux", "hello")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(r.stderr, `rule "untrusted-needs-vm" (`+p+`:3)`) || !strings.Contains(r.stderr, "requires isolation vm") {
		t.Fatalf("want one line naming the rule and its place: %s", r)
	}
	if recs := e.records(); len(recs) != 0 {
		t.Fatalf("a refused run created %v", recs)
	}
	// Without the label the rule does not apply.
	e.ok("--policy", p, "run", "--rm", "--driver", "linux", "hello")
}

func TestIsolationPicksWeakestSufficientDriver(t *testing.T) {
	needRunsc(t)
	e := newEnv(t)
	r := e.ok("run", "--rm", "--isolation", "sandbox", "hello")
	if !strings.Contains(r.stdout, "kernel release:      4.4.0") {
		t.Fatalf("--isolation sandbox did not run under gVisor: %s", r)
	}
	e.ok("run", "-d", "--name", "iso", "--isolation", "sandbox", "hello")
	e.ok("wait", "iso")
	var inspect []map[string]any
	if err := json.Unmarshal([]byte(e.ok("inspect", "iso").stdout), &inspect); err != nil {
		t.Fatal(err)
	}
	rec, _ := inspect[0]["record"].(map[string]any)
	if rec == nil {
		rec = inspect[0]
	}
	if rec["driver"] != "gvisor" || rec["isolation"] != "sandbox" {
		t.Fatalf("recorded driver %v isolation %v, want gvisor sandbox", rec["driver"], rec["isolation"])
	}
	if ps := e.ok("ps", "-a").stdout; !strings.Contains(ps, "gvisor") {
		t.Fatalf("ps does not show the chosen driver:\n%s", ps)
	}
	e.ok("rm", "iso")
}

func TestPolicyDefaultsAndAllowed(t *testing.T) {
	needRunsc(t)
	e := newEnv(t)
	p := writePolicy(t, "allowed = [\"gvisor\"]\n\n[defaults]\nlinux = \"gvisor\"\n")
	r := e.ok("--policy", p, "run", "--rm", "hello")
	if !strings.Contains(r.stdout, "4.4.0") {
		t.Fatalf("the policy's default driver (gvisor) was not used: %s", r)
	}
	r = e.wantCode(125, "--policy", p, "run", "--rm", "--driver", "linux", "hello")
	if !strings.Contains(r.stderr, `allows only drivers gvisor, not "linux"`) {
		t.Fatalf("%s", r)
	}
}

func TestBadPolicyFiles(t *testing.T) {
	e := newEnv(t)
	for name, c := range map[string]struct{ body, want string }{
		"syntax":         {"allowed = [\"linux\"\n", ":1: "},
		"unknown class":  {"[[rule]]\nname = \"r\"\nlabel = \"a=b\"\nmin_isolation = \"fortress\"\n", `:4: r: unknown isolation class "fortress"`},
		"unknown driver": {"allowed = [\"linux\", \"nomad\"]\n", `:1: unknown driver "nomad"`},
		"unknown key":    {"alowed = [\"linux\"]\n", `unknown key "alowed"`},
	} {
		p := writePolicy(t, c.body)
		r := e.wantCode(125, "--policy", p, "run", "--rm", "hello")
		if !strings.Contains(r.stderr, p+c.want) && !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: want %q in the error: %s", name, c.want, r)
		}
		if len(strings.Split(strings.TrimSpace(r.stderr), "\n")) != 1 {
			t.Errorf("%s: want one line: %s", name, r)
		}
	}
	e.wantCode(125, "--policy", "/nonexistent/policy.toml", "run", "--rm", "hello")
	if recs := e.records(); len(recs) != 0 {
		t.Fatalf("bad policies created %v", recs)
	}
}

// hooksBundle is a bundle whose createRuntime hook (which runs on the host)
// writes marker.
func hooksBundle(t *testing.T, marker string) string {
	t.Helper()
	spec := testutil.Spec(rootfs(t), "true")
	spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo ran >> " + marker}}}}
	return testutil.Bundle(t, spec)
}

// docs/isolation.md's policy: labels that require a sandbox also refuse
// OCI hooks, which would run on the host as root. Without a policy hooks
// run, as in runc.
func TestPolicyDeniesHooks(t *testing.T) {
	e := newEnv(t)
	marker := filepath.Join(t.TempDir(), "hook-ran")
	bundle := hooksBundle(t, marker)

	e.ok("run", "--rm", bundle)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("without a policy the hook did not run: %v", err)
	}
	os.Remove(marker)

	all := writePolicy(t, "hooks = \"deny\"\n")
	r := e.wantCode(125, "--policy", all, "run", "--rm", bundle)
	if !strings.Contains(r.stderr, "refused OCI hooks (createRuntime)") || !strings.Contains(r.stderr, all+` (hooks = "deny")`) {
		t.Errorf("want a refusal naming the hooks and the policy: %s", r)
	}

	needRunsc(t)
	p := writePolicy(t, `[[rule]]
name = "untrusted-code"
label = "trust=untrusted"
min_isolation = "sandbox"
hooks = "deny"
`)
	r = e.wantCode(125, "--policy", p, "run", "--rm", "--label", "trust=untrusted", bundle)
	if !strings.Contains(r.stderr, `rule "untrusted-code" (`+p+`:2) for label trust=untrusted denies hooks`) {
		t.Errorf("want a refusal naming the rule and its place: %s", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a refused bundle's hook ran")
	}
	if recs := e.records(); len(recs) != 0 {
		t.Errorf("refused runs left %v", recs)
	}
	// The rule does not apply without its label.
	e.ok("--policy", p, "run", "--rm", "--driver", "linux", bundle)
}
