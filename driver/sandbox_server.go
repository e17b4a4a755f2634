package driver

import (
	"context"
	"time"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// sandboxes returns the driver's SandboxDriver, or NotImplemented when it
// has none (it claims the capability without implementing it).
func (s *server) sandboxes(op string) (SandboxDriver, error) {
	sd, ok := s.impl.(SandboxDriver)
	if !ok {
		return nil, NotImplementedf("%s is not supported by this driver (it does not implement driver.SandboxDriver)", op)
	}
	return sd, nil
}

func (s *server) CreateSandbox(ctx context.Context, req *driverv1.CreateSandboxRequest) (*driverv1.CreateSandboxResponse, error) {
	sd, err := s.sandboxes("create sandbox")
	if err != nil {
		return nil, err
	}
	spec, err := sandboxSpecFromProto(req.GetSpec())
	if err != nil {
		return nil, err
	}
	sb, err := sd.CreateSandbox(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &driverv1.CreateSandboxResponse{Sandbox: sandboxToProto(sb)}, nil
}

func (s *server) StartSandbox(ctx context.Context, req *driverv1.StartSandboxRequest) (*driverv1.StartSandboxResponse, error) {
	sd, err := s.sandboxes("start sandbox")
	if err != nil {
		return nil, err
	}
	sb, err := sd.StartSandbox(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.StartSandboxResponse{Sandbox: sandboxToProto(sb)}, nil
}

func (s *server) SandboxStatus(ctx context.Context, req *driverv1.SandboxStatusRequest) (*driverv1.SandboxStatusResponse, error) {
	sd, err := s.sandboxes("sandbox status")
	if err != nil {
		return nil, err
	}
	sb, err := sd.SandboxStatus(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.SandboxStatusResponse{Sandbox: sandboxToProto(sb)}, nil
}

func (s *server) WaitSandbox(ctx context.Context, req *driverv1.WaitSandboxRequest) (*driverv1.WaitSandboxResponse, error) {
	sd, err := s.sandboxes("wait sandbox")
	if err != nil {
		return nil, err
	}
	exit, err := sd.WaitSandbox(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.WaitSandboxResponse{Exit: exitToProto(exit)}, nil
}

func (s *server) StopSandbox(ctx context.Context, req *driverv1.StopSandboxRequest) (*driverv1.StopSandboxResponse, error) {
	sd, err := s.sandboxes("stop sandbox")
	if err != nil {
		return nil, err
	}
	r := &StopSandboxRequest{ID: req.GetId(), Timeout: time.Duration(req.GetTimeoutMs()) * time.Millisecond}
	if err := sd.StopSandbox(ctx, r); err != nil {
		return nil, err
	}
	return &driverv1.StopSandboxResponse{}, nil
}

func (s *server) ShutdownSandbox(ctx context.Context, req *driverv1.ShutdownSandboxRequest) (*driverv1.ShutdownSandboxResponse, error) {
	sd, err := s.sandboxes("shutdown sandbox")
	if err != nil {
		return nil, err
	}
	if err := sd.ShutdownSandbox(ctx, &ShutdownSandboxRequest{ID: req.GetId(), Force: req.GetForce()}); err != nil {
		return nil, err
	}
	return &driverv1.ShutdownSandboxResponse{}, nil
}

func (s *server) ListSandboxes(ctx context.Context, _ *driverv1.ListSandboxesRequest) (*driverv1.ListSandboxesResponse, error) {
	sd, err := s.sandboxes("list sandboxes")
	if err != nil {
		return nil, err
	}
	sbs, err := sd.ListSandboxes(ctx)
	if err != nil {
		return nil, err
	}
	resp := &driverv1.ListSandboxesResponse{}
	for _, sb := range sbs {
		if sb != nil {
			resp.Sandboxes = append(resp.Sandboxes, sandboxToProto(sb))
		}
	}
	return resp, nil
}

func (s *server) SandboxMetrics(ctx context.Context, req *driverv1.SandboxMetricsRequest) (*driverv1.SandboxMetricsResponse, error) {
	sd, err := s.sandboxes("sandbox metrics")
	if err != nil {
		return nil, err
	}
	st, err := sd.SandboxMetrics(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.SandboxMetricsResponse{Stats: statsToProto(st)}, nil
}
