package vm

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPodShm: a read-write bind of a directory onto /dev/shm (CRI's pod
// shm) becomes a bind of the pod's guest tmpfs, not a virtiofs share
// (refused in a pod); a read-only one or of a file stays a bind (copied).
func TestPodShm(t *testing.T) {
	bundle := t.TempDir()
	dir := t.TempDir()
	spec := &specs.Spec{Mounts: []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev/shm", Type: "bind", Source: dir, Options: []string{"rbind", "rw", "nosuid"}},
		{Destination: "/etc/hosts", Type: "bind", Source: bundle, Options: []string{"rbind", "ro"}},
	}}
	s, shm := withoutPodShm(bundle, spec)
	if len(shm) != 1 || len(s.Mounts) != 2 || len(spec.Mounts) != 3 {
		t.Fatalf("withoutPodShm: %d shm, %d left, %d in the original", len(shm), len(s.Mounts), len(spec.Mounts))
	}
	g, _, shares := guestSpec(bundle, s, "/root", func(i int) string { return "/b" })
	if len(shares) != 0 {
		t.Errorf("the pod shm became a virtiofs share: %v", shares)
	}
	addPodShm(g, shm)
	last := g.Mounts[len(g.Mounts)-1]
	if last.Destination != "/dev/shm" || last.Source != "/run/rtd/pod-shm" || last.Type != "bind" {
		t.Errorf("pod shm mount %+v", last)
	}
	ro := &specs.Spec{Mounts: []specs.Mount{{Destination: "/dev/shm", Type: "bind", Source: dir, Options: []string{"rbind", "ro"}}}}
	if _, shm := withoutPodShm(bundle, ro); len(shm) != 0 {
		t.Error("a read-only /dev/shm bind was taken for the pod's shm")
	}
}
