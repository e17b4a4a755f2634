package core

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefaultSpecCarriesDockerSeccompProfile(t *testing.T) {
	img := &Image{Kind: KindRootfs, Ref: "r", Dir: t.TempDir()}
	spec, err := BuildSpec(img, "c1", t.TempDir(), SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := spec.Linux.Seccomp
	if sc == nil || sc.DefaultAction != "SCMP_ACT_ERRNO" || len(sc.Syscalls) < 5 {
		t.Fatalf("want docker's default profile (ERRNO by default, an allow list), got %+v", sc)
	}
	if !IsDefaultSeccomp(spec) {
		t.Error("IsDefaultSeccomp: want true for the default spec")
	}
	// A bundle's own spec keeps having none, as runc would run it.
	bundle := &Image{Kind: KindBundle, Ref: "b", Spec: DefaultSpec(t.TempDir(), "h")}
	spec, err = BuildSpec(bundle, "c2", t.TempDir(), SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Linux.Seccomp != nil {
		t.Error("a bundle's spec got a seccomp profile it did not ask for")
	}
}

func TestSecurityOptions(t *testing.T) {
	img := &Image{Kind: KindRootfs, Ref: "r", Dir: t.TempDir()}
	spec, err := BuildSpec(img, "c", t.TempDir(), SpecOptions{Security: SecurityOptions{
		CapDrop: []string{"ALL"}, CapAdd: []string{"net_admin", "CAP_SYS_TIME"}, Seccomp: SeccompUnconfined,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Process.Capabilities.Bounding; !slices.Equal(got, []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}) {
		t.Errorf("caps after --cap-drop ALL --cap-add net_admin,CAP_SYS_TIME: %v", got)
	}
	if spec.Linux.Seccomp != nil {
		t.Error("seccomp=unconfined left a profile")
	}
	spec, err = BuildSpec(img, "c", t.TempDir(), SpecOptions{Security: SecurityOptions{Privileged: true}})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Linux.Seccomp != nil || len(spec.Linux.MaskedPaths) != 0 || len(spec.Process.Capabilities.Bounding) < 30 {
		t.Errorf("--privileged: seccomp %v, masked %v, %d caps", spec.Linux.Seccomp != nil, spec.Linux.MaskedPaths, len(spec.Process.Capabilities.Bounding))
	}
	// A capability-dependent rule: CAP_SYS_ADMIN adds mount etc. to the profile.
	spec, err = BuildSpec(img, "c", t.TempDir(), SpecOptions{Security: SecurityOptions{CapAdd: []string{"SYS_ADMIN"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !IsDefaultSeccomp(spec) || !profileAllows(spec.Linux.Seccomp.Syscalls, "mount") {
		t.Error("--cap-add SYS_ADMIN: want the default profile computed with it (mount allowed)")
	}
	for _, o := range []SecurityOptions{{CapAdd: []string{"NOPE"}}, {Seccomp: filepath.Join(t.TempDir(), "missing.json")}} {
		if _, err := BuildSpec(img, "c", t.TempDir(), SpecOptions{Security: o}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: want InvalidArgument, got %v", o, err)
		}
	}
	prof := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["unshare"],"action":"SCMP_ACT_ERRNO"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err = BuildSpec(img, "c", t.TempDir(), SpecOptions{Security: SecurityOptions{Seccomp: prof}})
	if err != nil || spec.Linux.Seccomp.DefaultAction != "SCMP_ACT_ALLOW" {
		t.Fatalf("seccomp=FILE: %v %+v", err, spec.Linux.Seccomp)
	}
	var o SecurityOptions
	if err := o.SecurityOpts([]string{"apparmor=x"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("apparmor: want InvalidArgument, got %v", err)
	}
	if err := o.SecurityOpts([]string{"no-new-privileges=false", "seccomp=unconfined"}); err != nil || *o.NoNewPrivileges || o.Seccomp != SeccompUnconfined {
		t.Errorf("parse: %v %+v", err, o)
	}
}

func profileAllows(rules []specs.LinuxSyscall, name string) bool {
	for _, r := range rules {
		if r.Action == "SCMP_ACT_ALLOW" && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}
