package driver

import (
	"context"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

var _ SandboxDriver = (*Client)(nil)

// CreateSandbox implements SandboxDriver.
func (c *Client) CreateSandbox(ctx context.Context, spec *SandboxSpec) (*Sandbox, error) {
	p, err := sandboxSpecToProto(spec)
	if err != nil {
		return nil, err
	}
	resp, err := invoke(ctx, c, "create sandbox", c.rpc.CreateSandbox, &driverv1.CreateSandboxRequest{Spec: p})
	if err != nil {
		return nil, err
	}
	return sandboxFromProto(resp.GetSandbox()), nil
}

// StartSandbox implements SandboxDriver.
func (c *Client) StartSandbox(ctx context.Context, id string) (*Sandbox, error) {
	resp, err := invoke(ctx, c, "start sandbox", c.rpc.StartSandbox, &driverv1.StartSandboxRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return sandboxFromProto(resp.GetSandbox()), nil
}

// SandboxStatus implements SandboxDriver.
func (c *Client) SandboxStatus(ctx context.Context, id string) (*Sandbox, error) {
	resp, err := invoke(ctx, c, "sandbox status", c.rpc.SandboxStatus, &driverv1.SandboxStatusRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return sandboxFromProto(resp.GetSandbox()), nil
}

// WaitSandbox implements SandboxDriver.
func (c *Client) WaitSandbox(ctx context.Context, id string) (*ExitStatus, error) {
	resp, err := invoke(ctx, c, "wait sandbox", c.rpc.WaitSandbox, &driverv1.WaitSandboxRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return exitFromProto(resp.GetExit()), nil
}

// StopSandbox implements SandboxDriver.
func (c *Client) StopSandbox(ctx context.Context, req *StopSandboxRequest) error {
	r := &driverv1.StopSandboxRequest{}
	if req != nil {
		r.Id, r.TimeoutMs = req.ID, req.Timeout.Milliseconds()
	}
	_, err := invoke(ctx, c, "stop sandbox", c.rpc.StopSandbox, r)
	return err
}

// ShutdownSandbox implements SandboxDriver.
func (c *Client) ShutdownSandbox(ctx context.Context, req *ShutdownSandboxRequest) error {
	r := &driverv1.ShutdownSandboxRequest{}
	if req != nil {
		r.Id, r.Force = req.ID, req.Force
	}
	_, err := invoke(ctx, c, "shutdown sandbox", c.rpc.ShutdownSandbox, r)
	return err
}

// ListSandboxes implements SandboxDriver.
func (c *Client) ListSandboxes(ctx context.Context) ([]*Sandbox, error) {
	resp, err := invoke(ctx, c, "list sandboxes", c.rpc.ListSandboxes, &driverv1.ListSandboxesRequest{})
	if err != nil {
		return nil, err
	}
	out := make([]*Sandbox, 0, len(resp.GetSandboxes()))
	for _, s := range resp.GetSandboxes() {
		out = append(out, sandboxFromProto(s))
	}
	return out, nil
}

// SandboxMetrics implements SandboxDriver.
func (c *Client) SandboxMetrics(ctx context.Context, id string) (*Stats, error) {
	resp, err := invoke(ctx, c, "sandbox metrics", c.rpc.SandboxMetrics, &driverv1.SandboxMetricsRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return statsFromProto(resp.GetStats()), nil
}
