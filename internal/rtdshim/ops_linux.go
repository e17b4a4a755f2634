//go:build linux

package rtdshim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	cgroupsv1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroupsv2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	eventstypes "github.com/containerd/containerd/api/events"
	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/api/types/task"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/opencontainers/cgroups"

	"github.com/rtd-project/rtd/driver"
)

// Pids lists a container's processes; execs carry their exec id, as with
// containerd's runc shim.
func (s *service) Pids(ctx context.Context, r *taskAPI.PidsRequest) (*taskAPI.PidsResponse, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, err
	}
	if !c.caps.Pids {
		return nil, toGRPC(driver.NotImplementedf("pids of %s: driver %q does not list processes", r.ID, c.drv.Name))
	}
	var ps []driver.ProcessInfo
	err = c.drv.Retry(ctx, func(cl *driver.Client) (err error) { ps, err = cl.Pids(ctx, r.ID); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("pids of %s: %w", r.ID, err))
	}
	resp := &taskAPI.PidsResponse{}
	for _, p := range ps {
		pi := &task.ProcessInfo{Pid: p.Pid}
		if p.ExecID != "" {
			a, err := typeurl.MarshalAnyToProto(&options.ProcessDetails{ExecID: p.ExecID})
			if err != nil {
				return nil, toGRPC(err)
			}
			pi.Info = a
		}
		resp.Processes = append(resp.Processes, pi)
	}
	return resp, nil
}

// Pause freezes a container.
func (s *service) Pause(ctx context.Context, r *taskAPI.PauseRequest) (*emptypb.Empty, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, err
	}
	if !c.caps.Pause {
		return nil, toGRPC(driver.NotImplementedf("pause %s: driver %q does not support pause", r.ID, c.drv.Name))
	}
	if err := c.drv.Do(ctx, func(cl *driver.Client) error { return cl.Pause(ctx, r.ID) }); err != nil {
		return nil, toGRPC(fmt.Errorf("pause %s: %w", r.ID, err))
	}
	s.ev.send(&eventstypes.TaskPaused{ContainerID: r.ID})
	return empty, nil
}

// Resume thaws a paused container.
func (s *service) Resume(ctx context.Context, r *taskAPI.ResumeRequest) (*emptypb.Empty, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, err
	}
	if !c.caps.Pause {
		return nil, toGRPC(driver.NotImplementedf("resume %s: driver %q does not support pause", r.ID, c.drv.Name))
	}
	if err := c.drv.Do(ctx, func(cl *driver.Client) error { return cl.Resume(ctx, r.ID) }); err != nil {
		return nil, toGRPC(fmt.Errorf("resume %s: %w", r.ID, err))
	}
	s.ev.send(&eventstypes.TaskResumed{ContainerID: r.ID})
	return empty, nil
}

// Update changes a running container's resources (specs.LinuxResources as
// JSON, as containerd sends them).
func (s *service) Update(ctx context.Context, r *taskAPI.UpdateTaskRequest) (*emptypb.Empty, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, err
	}
	if !c.caps.Update {
		return nil, toGRPC(driver.NotImplementedf("update %s: driver %q does not support resource updates", r.ID, c.drv.Name))
	}
	var res specs.LinuxResources
	if err := json.Unmarshal(r.GetResources().GetValue(), &res); err != nil {
		return nil, toGRPC(driver.InvalidArgumentf("update %s: resources: %v", r.ID, err))
	}
	err = c.drv.Do(ctx, func(cl *driver.Client) error { return cl.Update(ctx, &driver.UpdateRequest{ID: r.ID, Resources: &res}) })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("update %s: %w", r.ID, err))
	}
	return empty, nil
}

// Stats answers containerd's cgroup metrics type (v1 or v2, as the host
// mounts cgroups; CRI and `ctr task metrics` read both), holding only what
// the driver says it measured.
func (s *service) Stats(ctx context.Context, r *taskAPI.StatsRequest) (*taskAPI.StatsResponse, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, err
	}
	if !c.caps.Stats {
		return nil, toGRPC(driver.NotImplementedf("stats of %s: driver %q does not measure resources", r.ID, c.drv.Name))
	}
	var st *driver.Stats
	err = c.drv.Retry(ctx, func(cl *driver.Client) (err error) { st, err = cl.Stats(ctx, r.ID); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("stats of %s: %w", r.ID, err))
	}
	a, err := typeurl.MarshalAnyToProto(metricsOf(st, cgroups.IsCgroup2UnifiedMode()))
	if err != nil {
		return nil, toGRPC(err)
	}
	return &taskAPI.StatsResponse{Stats: a}, nil
}

// metricsOf converts the driver's stats to cgroups v1 or v2 metrics.
func metricsOf(st *driver.Stats, v2 bool) any {
	has := func(f string) bool { return slices.Contains(st.Fields, f) }
	if v2 {
		m := &cgroupsv2.Metrics{}
		if has("cpu") {
			m.CPU = &cgroupsv2.CPUStat{UsageUsec: st.CPUUsageNanos / 1000}
		}
		if has("memory") {
			m.Memory = &cgroupsv2.MemoryStat{Usage: st.MemoryUsageBytes, UsageLimit: st.MemoryLimitBytes}
		}
		if has("pids") {
			m.Pids = &cgroupsv2.PidsStat{Current: st.PidsCurrent, Limit: st.PidsLimit}
		}
		return m
	}
	m := &cgroupsv1.Metrics{}
	if has("cpu") {
		m.CPU = &cgroupsv1.CPUStat{Usage: &cgroupsv1.CPUUsage{Total: st.CPUUsageNanos}}
	}
	if has("memory") {
		m.Memory = &cgroupsv1.MemoryStat{Usage: &cgroupsv1.MemoryEntry{Usage: st.MemoryUsageBytes, Limit: st.MemoryLimitBytes}}
	}
	if has("pids") {
		m.Pids = &cgroupsv1.PidsStat{Current: st.PidsCurrent, Limit: st.PidsLimit}
	}
	return m
}
