//go:build linux

package rtdshim

import (
	"context"
	"fmt"
	goruntime "runtime"
	"strings"
	"time"

	sandboxAPI "github.com/containerd/containerd/api/runtime/sandbox/v1"
	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/pkg/protobuf"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/containerd/typeurl/v2"
	"github.com/opencontainers/cgroups"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// containerd's Sandbox API (sandboxer = "shim" in CRI's runtime handler):
// containerd starts one shim per pod and asks it, not a pause container,
// for the pod. Each pod is a driver sandbox (the driver must claim
// sandboxes): CreateSandbox creates it in the network namespace CRI made,
// StartSandbox starts it and answers the pid whose namespaces CRI names in
// the pod's containers' specs, the containers are created in it (their
// io.kubernetes.cri.sandbox-id), StopSandbox stops it with its
// containers, ShutdownSandbox removes it and ends the shim.

// apiSandbox is a pod this shim serves through the Sandbox API.
type apiSandbox struct {
	id     string
	bundle string
	netns  string // the network namespace CRI made for the pod
	drv    *core.Plugin
	info   *driver.Info
}

// sandboxService is the Sandbox API of the shim, on its task service.
type sandboxService struct{ s *service }

var _ sandboxAPI.TTRPCSandboxService = (*sandboxService)(nil)

// sandbox returns a pod of this shim, NotFound otherwise.
func (s *service) sandbox(op, id string) (*apiSandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb, ok := s.sandboxes[id]
	if !ok {
		return nil, driver.NotFoundf("%s %s: this shim serves no such sandbox", op, id)
	}
	return sb, nil
}

// driverFor is the driver of a new container: its pod's when it is in a
// pod of this shim (containerd gives such containers runc's options, not
// the handler's), else the one its options choose.
func (s *service) driverFor(ctx context.Context, id, bundle string, opts *Options) (*core.Plugin, *driver.Info, error) {
	if annotations, err := specAnnotations(bundle); err == nil {
		s.mu.Lock()
		sb, ok := s.sandboxes[annotations[criSandboxID]]
		s.mu.Unlock()
		if ok {
			return sb.drv, sb.info, nil
		}
	}
	return s.pickDriver(ctx, id, bundle, opts)
}

// inAPISandbox reports whether container id belongs to a pod of this shim
// (the sandbox it names is one), and refuses a container whose driver is
// not the pod's.
func (s *service) inAPISandbox(d *core.Plugin, id, sandboxID string) (bool, error) {
	s.mu.Lock()
	sb, ok := s.sandboxes[sandboxID]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if sb.drv != d {
		return false, driver.FailedPreconditionf("create %s in sandbox %s: the container is for driver %q, the sandbox runs on %q: give both the same runtime handler", id, sandboxID, d.Name, sb.drv.Name)
	}
	return true, nil
}

// CreateSandbox creates the pod's driver sandbox. A driver that does not
// run sandboxes is refused (FailedPrecondition) naming what to configure.
func (ss *sandboxService) CreateSandbox(ctx context.Context, r *sandboxAPI.CreateSandboxRequest) (_ *sandboxAPI.CreateSandboxResponse, retErr error) {
	defer func() { retErr = toGRPC(retErr) }()
	s, id := ss.s, r.SandboxID
	op := "create sandbox " + id
	s.mu.Lock()
	_, dup := s.sandboxes[id]
	s.mu.Unlock()
	if dup {
		return nil, driver.AlreadyExistsf("%s: this shim serves it already", op)
	}
	opts, err := loadRuntimeOptions(r.BundlePath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	cfg, err := podConfig(r.Options)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	spec := sandboxSpecOf(id, r.NetnsPath, cfg, r.Annotations)
	d, info, err := s.selectDriver(ctx, op, opts, spec.Annotations)
	if err != nil {
		return nil, err
	}
	if !info.Capabilities.Sandboxes {
		return nil, fmt.Errorf("%w; or give the runtime handler sandboxer = \"podsandbox\" (a pause container holds the pod)",
			driver.NoSandboxes(d.Name, op+" (containerd's sandboxer = \"shim\")"))
	}
	if len(r.Rootfs) > 0 {
		log.G(ctx).WithField("sandbox", id).Debug("create sandbox: a root filesystem for the sandbox is not used")
	}
	rec := bundleRecord{Root: s.root, Driver: d.Name, DriverPath: d.Path, Sandbox: id}
	if err := writeBundleRecord(r.BundlePath, rec); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	err = d.Do(ctx, func(cl *driver.Client) error { _, err := cl.CreateSandbox(ctx, spec); return err })
	if err != nil {
		s.shutdownSandbox(ctx, d, id)
		removeBundleRecord(r.BundlePath)
		return nil, fmt.Errorf("%s on driver %q: %w", op, d.Name, err)
	}
	s.mu.Lock()
	s.sandboxes[id] = &apiSandbox{id: id, bundle: r.BundlePath, netns: spec.NetNSPath, drv: d, info: info}
	s.mu.Unlock()
	return &sandboxAPI.CreateSandboxResponse{}, nil
}

// StartSandbox starts the sandbox; its pid is what holds its namespaces.
func (ss *sandboxService) StartSandbox(ctx context.Context, r *sandboxAPI.StartSandboxRequest) (*sandboxAPI.StartSandboxResponse, error) {
	sb, err := ss.s.sandbox("start sandbox", r.SandboxID)
	if err != nil {
		return nil, toGRPC(err)
	}
	var st *driver.Sandbox
	err = sb.drv.Do(ctx, func(cl *driver.Client) (err error) { st, err = cl.StartSandbox(ctx, sb.id); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("start sandbox %s on driver %q: %w", sb.id, sb.drv.Name, err))
	}
	return &sandboxAPI.StartSandboxResponse{Pid: st.Pid, CreatedAt: protobuf.ToTimestamp(st.CreatedAt)}, nil
}

// Platform is the host's: every rtd driver runs linux containers of the
// host's architecture here (the vm driver's guest as well).
func (ss *sandboxService) Platform(ctx context.Context, r *sandboxAPI.PlatformRequest) (*sandboxAPI.PlatformResponse, error) {
	if _, err := ss.s.sandbox("platform of sandbox", r.SandboxID); err != nil {
		return nil, toGRPC(err)
	}
	return &sandboxAPI.PlatformResponse{Platform: &types.Platform{OS: goruntime.GOOS, Architecture: goruntime.GOARCH}}, nil
}

// StopSandbox stops the sandbox's containers and the sandbox (its records
// stay until ShutdownSandbox).
func (ss *sandboxService) StopSandbox(ctx context.Context, r *sandboxAPI.StopSandboxRequest) (*sandboxAPI.StopSandboxResponse, error) {
	sb, err := ss.s.sandbox("stop sandbox", r.SandboxID)
	if err != nil {
		return nil, toGRPC(err)
	}
	req := &driver.StopSandboxRequest{ID: sb.id, Timeout: time.Duration(r.TimeoutSecs) * time.Second}
	err = sb.drv.Retry(ctx, func(cl *driver.Client) error { return cl.StopSandbox(ctx, req) })
	if err != nil && !errdefs.IsNotFound(err) {
		return nil, toGRPC(fmt.Errorf("stop sandbox %s on driver %q: %w", sb.id, sb.drv.Name, err))
	}
	return &sandboxAPI.StopSandboxResponse{}, nil
}

// WaitSandbox blocks until the sandbox has stopped.
func (ss *sandboxService) WaitSandbox(ctx context.Context, r *sandboxAPI.WaitSandboxRequest) (*sandboxAPI.WaitSandboxResponse, error) {
	sb, err := ss.s.sandbox("wait sandbox", r.SandboxID)
	if err != nil {
		return nil, toGRPC(err)
	}
	var st *driver.ExitStatus
	err = sb.drv.Retry(ctx, func(cl *driver.Client) (err error) { st, err = cl.WaitSandbox(ctx, sb.id); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("wait sandbox %s: %w", sb.id, err))
	}
	return &sandboxAPI.WaitSandboxResponse{ExitStatus: st.Code, ExitedAt: protobuf.ToTimestamp(st.ExitedAt)}, nil
}

// SandboxStatus answers CRI's pod state: SANDBOX_READY while the driver
// sandbox runs, SANDBOX_NOTREADY otherwise.
func (ss *sandboxService) SandboxStatus(ctx context.Context, r *sandboxAPI.SandboxStatusRequest) (*sandboxAPI.SandboxStatusResponse, error) {
	sb, err := ss.s.sandbox("status of sandbox", r.SandboxID)
	if err != nil {
		return nil, toGRPC(err)
	}
	var st *driver.Sandbox
	err = sb.drv.Retry(ctx, func(cl *driver.Client) (err error) { st, err = cl.SandboxStatus(ctx, sb.id); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("status of sandbox %s: %w", sb.id, err))
	}
	resp := &sandboxAPI.SandboxStatusResponse{
		SandboxID: sb.id, Pid: st.Pid, State: runtime.PodSandboxState_SANDBOX_NOTREADY.String(),
		CreatedAt: protobuf.ToTimestamp(st.CreatedAt),
	}
	if st.Status == driver.StatusRunning {
		resp.State = runtime.PodSandboxState_SANDBOX_READY.String()
	}
	if st.Exit != nil {
		resp.ExitedAt = protobuf.ToTimestamp(st.Exit.ExitedAt)
	}
	if r.Verbose {
		// crictl inspectp shows these beside CRI's own keys (status, info).
		resp.Info = map[string]string{
			"rtdDriver": sb.drv.Name, "rtdStatus": string(st.Status), "rtdNetNS": sb.netns, "rtdCgroup": st.CgroupPath,
			"rtdContainers": strings.Join(st.Containers, ","),
		}
	}
	return resp, nil
}

// PingSandbox answers while the driver knows the sandbox.
func (ss *sandboxService) PingSandbox(ctx context.Context, r *sandboxAPI.PingRequest) (*sandboxAPI.PingResponse, error) {
	sb, err := ss.s.sandbox("ping sandbox", r.SandboxID)
	if err != nil {
		return nil, toGRPC(err)
	}
	err = sb.drv.Retry(ctx, func(cl *driver.Client) error { _, err := cl.SandboxStatus(ctx, sb.id); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("ping sandbox %s: %w", sb.id, err))
	}
	return &sandboxAPI.PingResponse{}, nil
}

// ShutdownSandbox removes the sandbox with whatever it still holds (the
// containers of it this shim still serves are deleted first) and ends the
// shim once it serves nothing more: containerd waits for that.
func (ss *sandboxService) ShutdownSandbox(ctx context.Context, r *sandboxAPI.ShutdownSandboxRequest) (*sandboxAPI.ShutdownSandboxResponse, error) {
	s := ss.s
	sb, err := s.sandbox("shutdown sandbox", r.SandboxID)
	if err != nil {
		// A CreateSandbox that failed: containerd still shuts the shim
		// down (it waits for it to end).
		s.shutdownIfIdle()
		return nil, toGRPC(err)
	}
	for _, id := range s.containersOf(sb.id) {
		if _, err := s.Delete(ctx, &taskAPI.DeleteRequest{ID: id}); err != nil {
			log.G(ctx).WithError(err).WithField("id", id).Warn("shutdown sandbox: delete its container")
		}
	}
	err = sb.drv.Retry(ctx, func(cl *driver.Client) error {
		return cl.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: sb.id, Force: true})
	})
	if err != nil && !errdefs.IsNotFound(err) {
		return nil, toGRPC(fmt.Errorf("shutdown sandbox %s on driver %q: %w", sb.id, sb.drv.Name, err))
	}
	removeBundleRecord(sb.bundle)
	s.mu.Lock()
	delete(s.sandboxes, sb.id)
	s.mu.Unlock()
	s.shutdownIfIdle()
	return &sandboxAPI.ShutdownSandboxResponse{}, nil
}

// shutdownIfIdle ends the shim when it serves no container and no
// sandbox.
func (s *service) shutdownIfIdle() {
	s.mu.Lock()
	idle := len(s.containers) == 0 && len(s.sandboxes) == 0
	s.mu.Unlock()
	if idle {
		s.sd.Shutdown()
	}
}

// SandboxMetrics is the whole sandbox's usage, as containerd's cgroup
// metrics type (what Stats answers for a container).
func (ss *sandboxService) SandboxMetrics(ctx context.Context, r *sandboxAPI.SandboxMetricsRequest) (*sandboxAPI.SandboxMetricsResponse, error) {
	sb, err := ss.s.sandbox("metrics of sandbox", r.SandboxID)
	if err != nil {
		return nil, toGRPC(err)
	}
	var st *driver.Stats
	err = sb.drv.Retry(ctx, func(cl *driver.Client) (err error) { st, err = cl.SandboxMetrics(ctx, sb.id); return err })
	if err != nil {
		return nil, toGRPC(fmt.Errorf("metrics of sandbox %s: %w", sb.id, err))
	}
	a, err := typeurl.MarshalAnyToProto(metricsOf(st, cgroups.IsCgroup2UnifiedMode()))
	if err != nil {
		return nil, toGRPC(err)
	}
	return &sandboxAPI.SandboxMetricsResponse{Metrics: &types.Metric{Timestamp: protobuf.ToTimestamp(time.Now()), ID: sb.id, Data: a}}, nil
}

// containersOf lists the containers of this shim in sandbox id.
func (s *service) containersOf(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for cid, c := range s.containers {
		if a, err := specAnnotations(c.bundle); err == nil && a[criSandboxID] == id {
			ids = append(ids, cid)
		}
	}
	return ids
}
