package linux

import (
	"errors"
	"os"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// sandboxCgroup is a sandbox's default cgroup path: beside the driver's
// containers' (ocispec.CgroupsPath), named pod-ID.
func sandboxCgroup(scope, id string) string { return ocispec.CgroupsPath(scope, "pod-"+id) }

// cgroupManager returns the fs manager of the cgroup at path with res.
func cgroupManager(path string, res *specs.LinuxResources) (cgroups.Manager, error) {
	m, _, err := cgroupManagerConfig(path, res)
	return m, err
}

func cgroupManagerConfig(path string, res *specs.LinuxResources) (cgroups.Manager, *cgroups.Cgroup, error) {
	spec := &specs.Spec{Linux: &specs.Linux{CgroupsPath: path, Resources: res}}
	cfg, err := specconv.CreateCgroupConfig(&specconv.CreateOpts{Spec: spec}, nil)
	if err != nil {
		return nil, nil, err
	}
	// The sandbox's containers have their own device rules.
	cfg.Resources.SkipDevices = true
	m, err := manager.New(cfg)
	return m, cfg, err
}

// applyCgroup makes the cgroup at path with res and puts pid in it.
func applyCgroup(path string, res *specs.LinuxResources, pid int) error {
	m, cfg, err := cgroupManagerConfig(path, res)
	if err != nil {
		return err
	}
	if err := m.Apply(pid); err != nil {
		return err
	}
	return m.Set(cfg.Resources)
}

// destroyCgroup removes the cgroup at path (its containers' are removed by
// their own deletes first); a cgroup already gone is fine.
func destroyCgroup(path string) error {
	if path == "" {
		return nil
	}
	m, err := cgroupManager(path, nil)
	if err != nil {
		return err
	}
	if err := m.Destroy(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// cgroupStats reads the usage of the cgroup at path.
func cgroupStats(path string) (*driver.Stats, error) {
	m, err := cgroupManager(path, nil)
	if err != nil {
		return nil, err
	}
	s, err := m.GetStats()
	if err != nil {
		return nil, driver.FailedPreconditionf("sandbox metrics: cgroup %s: %v", path, err)
	}
	return &driver.Stats{
		Fields:           []string{"cpu", "memory", "pids"},
		CPUUsageNanos:    s.CpuStats.CpuUsage.TotalUsage,
		MemoryUsageBytes: s.MemoryStats.Usage.Usage,
		MemoryLimitBytes: s.MemoryStats.Usage.Limit,
		PidsCurrent:      s.PidsStats.Current,
		PidsLimit:        s.PidsStats.Limit,
	}, nil
}
