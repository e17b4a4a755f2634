package vm

import (
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPodPIDPath: a PID namespace path names the pod's namespace only
// when it is /proc/QEMUPID/ns/pid of the pod's VM, in a pod that does not
// share the guest's; any other path is still refused as the host's.
func TestPodPIDPath(t *testing.T) {
	pid := func(path string) specs.LinuxNamespace {
		return specs.LinuxNamespace{Type: specs.PIDNamespace, Path: path}
	}
	for path, want := range map[string]bool{
		"/proc/4242/ns/pid":   true,
		"/proc/42420/ns/pid":  false,
		"/proc/424/ns/pid":    false,
		"/proc/4242/ns/ipc":   false,
		"/proc/1/ns/pid":      false,
		"/proc/4242/ns/pid/x": false,
		"":                    false,
	} {
		if got := namesPodPID(pid(path), 4242); got != want {
			t.Errorf("namesPodPID(%q) = %v, want %v", path, got, want)
		}
	}
	if namesPodPID(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: "/proc/4242/ns/pid"}, 4242) {
		t.Error("an ipc namespace named the pod's PID namespace")
	}
	spec := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, pid("/proc/4242/ns/pid")}}}
	own := &podConfig{Namespaces: []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace}}
	if !joinsPodPID(spec, own, 4242) {
		t.Error("a container naming the pod's VM does not join the pod's PID namespace")
	}
	if joinsPodPID(spec, &podConfig{Namespaces: []specs.LinuxNamespaceType{specs.PIDNamespace}}, 4242) {
		t.Error("a pod sharing the guest's PID namespace rewrote the path")
	}
	// checkPodSpec: the pod's path passes, another process's is the host's.
	bundle := t.TempDir()
	ok := &specs.Spec{Process: &specs.Process{Args: []string{"sh"}}, Root: &specs.Root{Path: bundle}, Linux: spec.Linux}
	if err := checkPodSpec("c", bundle, ok, own, 4242); err != nil {
		t.Errorf("the pod's PID namespace path refused: %v", err)
	}
	host := *ok
	host.Linux = &specs.Linux{Namespaces: []specs.LinuxNamespace{pid("/proc/1/ns/pid")}}
	if err := checkPodSpec("c", bundle, &host, own, 4242); !errdefs.IsInvalidArgument(err) {
		t.Errorf("the host's PID namespace: want InvalidArgument, got %v", err)
	}
	g := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}}
	if !ownsPIDNamespace(g) {
		t.Error("a new PID namespace is not the container's own")
	}
	setPodPID(g, "/proc/7/ns/pid")
	if ownsPIDNamespace(g) || g.Linux.Namespaces[0].Path != "/proc/7/ns/pid" {
		t.Errorf("setPodPID: %+v", g.Linux.Namespaces)
	}
}

// TestPodPIDOwner: the pod's PID namespace is its one running container
// with a namespace of its own; none is FailedPrecondition, several (CRI's
// TARGET mode between containers) InvalidArgument naming them.
func TestPodPIDOwner(t *testing.T) {
	if got, err := podPIDOwner("c", "pod", []string{"pause"}); err != nil || got != "pause" {
		t.Errorf("one owner: %q %v", got, err)
	}
	if _, err := podPIDOwner("c", "pod", nil); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("no owner: want FailedPrecondition, got %v", err)
	}
	_, err := podPIDOwner("c", "pod", []string{"b", "a"})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("two owners: want InvalidArgument, got %v", err)
	}
}
