package wasm

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cgroupConfig is the runner's cgroup: path and limits (memory and CPU).
func cgroupConfig(path string, r *specs.LinuxResources) *cgroups.Cgroup {
	res := &cgroups.Resources{}
	if r != nil {
		if r.Memory != nil && r.Memory.Limit != nil {
			res.Memory = *r.Memory.Limit
		}
		if c := r.CPU; c != nil {
			if c.Shares != nil {
				res.CpuShares = *c.Shares
			}
			if c.Quota != nil {
				res.CpuQuota = *c.Quota
			}
			if c.Period != nil {
				res.CpuPeriod = *c.Period
			}
			res.CpusetCpus, res.CpusetMems = c.Cpus, c.Mems
		}
	}
	return &cgroups.Cgroup{Path: path, Resources: res}
}

// joinCgroup creates the runner's cgroup and moves pid into it, without
// limits yet: the compile of a module that is not in the cache needs more
// memory than running it, and is accounted here too.
func joinCgroup(path string, pid int) error {
	m, err := manager.New(cgroupConfig(path, nil))
	if err != nil {
		return err
	}
	if err := m.Apply(pid); err != nil {
		_ = m.Destroy()
		return err
	}
	return nil
}

// limitCgroup applies the limits once the module is compiled.
func limitCgroup(path string, r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	cfg := cgroupConfig(path, r)
	m, err := manager.New(cfg)
	if err != nil {
		return err
	}
	return m.Set(cfg.Resources)
}

// removeCgroup removes the runner's cgroup (it must be empty).
func removeCgroup(path string) error {
	m, err := manager.New(cgroupConfig(path, nil))
	if err != nil {
		return err
	}
	if err := m.Destroy(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// oomFiles are the cgroup files that tell whether the OOM killer struck
// (v1 and v2).
func oomFiles(path string) []string {
	return []string{
		filepath.Join("/sys/fs/cgroup/memory", path, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", path, "memory.events"),
	}
}
