package vm

import (
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/drivers/vm/wire"
)

// The pod's /dev/shm. CRI gives every container of a pod a read-write bind
// of one host directory (the pod's shm, a tmpfs CRI mounts) onto /dev/shm,
// so that the containers share POSIX shared memory, as they share the IPC
// namespace. A VM's virtiofs devices are fixed at boot, and shared memory
// on the host would not be the guest's anyway: in a pod's VM such a bind
// is the pod's own shm instead, a tmpfs of the guest (wire.PodShm, mounted
// by the agent) that every container of the pod binds. Nothing of it is
// seen on the host.

const devShm = "/dev/shm"

// isPodShm reports whether m is a read-write bind of a directory onto
// /dev/shm (source relative to bundle when not absolute).
func isPodShm(bundle string, m specs.Mount) bool {
	if filepath.Clean(m.Destination) != devShm || !isBind(m) || slices.Contains(m.Options, "ro") {
		return false
	}
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src)
	}
	fi, err := os.Stat(src)
	return err == nil && fi.IsDir()
}

// withoutPodShm returns spec without its pod shm binds (a copy when it
// had any) and those binds.
func withoutPodShm(bundle string, spec *specs.Spec) (*specs.Spec, []specs.Mount) {
	var shm []specs.Mount
	keep := slices.DeleteFunc(slices.Clone(spec.Mounts), func(m specs.Mount) bool {
		if isPodShm(bundle, m) {
			shm = append(shm, m)
			return true
		}
		return false
	})
	if len(shm) == 0 {
		return spec, nil
	}
	s := *spec
	s.Mounts = keep
	return &s, shm
}

// addPodShm gives a guest spec the pod's shm in place of the binds shm.
func addPodShm(g *specs.Spec, shm []specs.Mount) {
	for _, m := range shm {
		m.Source = wire.PodShm
		m.Type = "bind"
		if !slices.Contains(m.Options, "rbind") && !slices.Contains(m.Options, "bind") {
			m.Options = append(slices.Clone(m.Options), "rbind")
		}
		g.Mounts = append(g.Mounts, m)
	}
}
