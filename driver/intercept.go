package driver

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// originKey is a trailer the server sets on every error it returns, so the
// client can tell a driver's own Unavailable error from a lost connection.
const originKey = "rtd-error-origin"

// servicePrefix is the gRPC method prefix of the driver service; go-plugin
// serves its own services (health, broker, stdio) on the same server, and
// the interceptors leave those alone.
var servicePrefix = "/" + driverv1.Driver_ServiceDesc.ServiceName + "/"

// gates maps each optional method to the capability that claims it. A
// method listed here answers NotImplemented from the SDK unless the
// driver's Info claims the capability, whatever the driver's code does:
// a claim and the served methods cannot drift apart.
var gates = map[string]struct {
	name    string
	claimed func(Capabilities) bool
}{
	"Exec":       {"exec", func(c Capabilities) bool { return c.Exec }},
	"ResizePty":  {"resize pty", func(c Capabilities) bool { return c.ResizePty }},
	"CloseIO":    {"close io", func(c Capabilities) bool { return c.CloseIO }},
	"Pause":      {"pause", func(c Capabilities) bool { return c.Pause }},
	"Resume":     {"resume", func(c Capabilities) bool { return c.Pause }},
	"Stats":      {"stats", func(c Capabilities) bool { return c.Stats }},
	"Update":     {"update", func(c Capabilities) bool { return c.Update }},
	"Pids":       {"pids", func(c Capabilities) bool { return c.Pids }},
	"Events":     {"events", func(c Capabilities) bool { return c.Events }},
	"Checkpoint": {"checkpoint", func(c Capabilities) bool { return c.Checkpoint }},
	"Restore":    {"restore", func(c Capabilities) bool { return c.Checkpoint }},

	"CreateSandbox":   {"create sandbox", sandboxesClaimed},
	"StartSandbox":    {"start sandbox", sandboxesClaimed},
	"SandboxStatus":   {"sandbox status", sandboxesClaimed},
	"WaitSandbox":     {"wait sandbox", sandboxesClaimed},
	"StopSandbox":     {"stop sandbox", sandboxesClaimed},
	"ShutdownSandbox": {"shutdown sandbox", sandboxesClaimed},
	"ListSandboxes":   {"list sandboxes", sandboxesClaimed},
	"SandboxMetrics":  {"sandbox metrics", sandboxesClaimed},
}

func sandboxesClaimed(c Capabilities) bool { return c.Sandboxes }

// guard is the driver service's interceptor pair. On every call it
//   - answers NotImplemented for an optional method whose capability the
//     driver does not claim (see gates),
//   - turns a panic in the driver into an Internal error naming the method
//     (the process keeps serving),
//   - sends every error through errgrpc.ToGRPC, so its errdefs class
//     survives the wire, with the originKey trailer.
type guard struct {
	impl   Driver
	logger hclog.Logger
	gated  bool // capability gating on (off for relays)

	mu   sync.Mutex
	caps *Capabilities // from the first successful Info, in or out of a call
	name string        // the driver's name, from the same Info
}

// serverOptions returns the gRPC server options that install the guard.
func (g *guard) serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(g.unary),
		grpc.ChainStreamInterceptor(g.stream),
	}
}

func (g *guard) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, retErr error) {
	method, ok := strings.CutPrefix(info.FullMethod, servicePrefix)
	if !ok {
		return handler(ctx, req)
	}
	defer g.finish(method, func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) }, &retErr)
	if err := g.gate(ctx, method); err != nil {
		return nil, err
	}
	if err := g.gateSandboxID(ctx, req); err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	if r, ok := resp.(*driverv1.InfoResponse); ok && err == nil {
		g.remember(capabilitiesFromProto(r.GetInfo().GetCapabilities()), r.GetInfo().GetName())
	}
	return resp, err
}

func (g *guard) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (retErr error) {
	method, ok := strings.CutPrefix(info.FullMethod, servicePrefix)
	if !ok {
		return handler(srv, ss)
	}
	defer g.finish(method, ss.SetTrailer, &retErr)
	if err := g.gate(ss.Context(), method); err != nil {
		return err
	}
	return handler(srv, ss)
}

// gate answers NotImplemented for an unclaimed optional method.
func (g *guard) gate(ctx context.Context, method string) error {
	gt, optional := gates[method]
	if !optional || !g.gated {
		return nil
	}
	caps, err := g.capabilities(ctx)
	if err != nil {
		return fmt.Errorf("%s: read the driver's capabilities: %w", gt.name, err)
	}
	if !gt.claimed(caps) {
		return NotImplementedf("%s is not supported by %s (not in its capabilities)", gt.name, g.driverName())
	}
	return nil
}

// gateSandboxID refuses a Create (or Restore) in a sandbox on a driver that
// does not claim sandboxes: FailedPrecondition naming the driver and what
// to use instead, rather than a container created outside its pod.
func (g *guard) gateSandboxID(ctx context.Context, req any) error {
	var create *driverv1.CreateRequest
	switch r := req.(type) {
	case *driverv1.CreateRequest:
		create = r
	case *driverv1.RestoreRequest:
		create = r.GetCreate()
	}
	if !g.gated || create.GetSandboxId() == "" {
		return nil
	}
	caps, err := g.capabilities(ctx)
	if err != nil {
		return fmt.Errorf("create %s: read the driver's capabilities: %w", create.GetId(), err)
	}
	if !caps.Sandboxes {
		g.mu.Lock()
		name := g.name
		g.mu.Unlock()
		return NoSandboxes(name, fmt.Sprintf("create %s in sandbox %s", create.GetId(), create.GetSandboxId()))
	}
	return nil
}

// driverName names the driver in messages: "driver NAME", or "this driver"
// before its Info was read.
func (g *guard) driverName() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.name == "" {
		return "this driver"
	}
	return "driver " + g.name
}

// capabilities returns the driver's claimed capabilities, asking Info once.
func (g *guard) capabilities(ctx context.Context) (Capabilities, error) {
	g.mu.Lock()
	caps := g.caps
	g.mu.Unlock()
	if caps != nil {
		return *caps, nil
	}
	info, err := g.impl.Info(ctx)
	if err != nil {
		return Capabilities{}, err
	}
	g.remember(info.Capabilities, info.Name)
	return info.Capabilities, nil
}

func (g *guard) remember(c Capabilities, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.caps == nil {
		g.caps, g.name = &c, name
	}
}

// finish turns a panic into an error and any error into a gRPC status.
func (g *guard) finish(method string, setTrailer func(metadata.MD), errp *error) {
	if r := recover(); r != nil {
		if g.logger != nil {
			g.logger.Error("driver method panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		*errp = fmt.Errorf("driver panicked in %s: %v: %w", methodName(method), r, errdefs.ErrInternal)
	}
	if *errp != nil {
		setTrailer(metadata.Pairs(originKey, "driver"))
		*errp = errgrpc.ToGRPC(*errp)
	}
}

// methodName is the lowercase name of a contract method used in messages
// ("ResizePty" -> "resize pty").
func methodName(method string) string {
	if gt, ok := gates[method]; ok {
		return gt.name
	}
	return strings.ToLower(method)
}
