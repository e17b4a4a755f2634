package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// Client is a Driver served by a driver process over go-plugin gRPC. Errors
// keep their errdefs class; when the process has died, every method returns
// an Unavailable error naming the driver with its last log lines. Create one
// with Launch; it is safe for concurrent use.
type Client struct {
	name string
	path string
	rpc  driverv1.DriverClient

	pc         *plugin.Client
	pid        int
	logs       *logRing
	stopProc   context.CancelFunc
	socketDir  string
	socketLock *os.File // flock on socketDir, held while the client lives
	closeOnce  sync.Once
	exitWait   time.Duration
	maxErrLogs int
}

var _ Driver = (*Client)(nil)
var _ EventReplayer = (*Client)(nil)

// Name is the driver's name, as given to Launch.
func (c *Client) Name() string { return c.name }

// Path is the driver binary's path.
func (c *Client) Path() string { return c.path }

// Pid is the process id of the driver process.
func (c *Client) Pid() int { return c.pid }

// Exited reports whether the driver process has exited (or been closed).
func (c *Client) Exited() bool { return c.pc != nil && c.pc.Exited() }

// LastLogLines returns the last lines the driver process wrote on stderr,
// oldest first (hclog JSON lines are shown as "level: message key=value").
func (c *Client) LastLogLines() []string { return c.logs.lines() }

// Close shuts the driver process down (gracefully, then by killing it) and
// removes its socket directory. It does not touch containers: those must
// outlive the driver process (that is the driver's job, not the SDK's).
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		if c.pc != nil {
			c.pc.Kill()
		}
		if c.stopProc != nil {
			c.stopProc()
		}
		removeSocketDir(c.socketDir)
		if c.socketLock != nil {
			c.socketLock.Close()
		}
	})
}

// deadError is the Unavailable error for a driver process that is gone:
// before the call (cause nil) or during it.
func (c *Client) deadError(op string, cause error) error {
	switch {
	case cause == nil:
		return Unavailablef("driver %q (%s) has exited, cannot %s%s", c.name, c.path, op, c.logSuffix())
	case c.Exited():
		return Unavailablef("driver %q (%s) exited during %s%s", c.name, c.path, op, c.logSuffix())
	default:
		return Unavailablef("driver %q (%s) lost its connection during %s (%v)%s", c.name, c.path, op, cause, c.logSuffix())
	}
}

// logSuffix formats the last log lines for an error message.
func (c *Client) logSuffix() string {
	lines := c.logs.lines()
	if len(lines) == 0 {
		return "; it wrote nothing on stderr"
	}
	if len(lines) > c.maxErrLogs {
		lines = lines[len(lines)-c.maxErrLogs:]
	}
	return "; last log lines: " + strings.Join(lines, " | ")
}

// waitExited gives the exit of a dying process time to be noticed.
func (c *Client) waitExited() bool {
	deadline := time.Now().Add(c.exitWait)
	for !c.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// rpcError maps an error of a call to the driver back to a native error.
func (c *Client) rpcError(ctx context.Context, op string, err error, trailer metadata.MD) error {
	if err == nil {
		return nil
	}
	fromDriver := len(trailer.Get(originKey)) > 0
	if !fromDriver {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("driver %q: %s: %w", c.name, op, ctxErr)
		}
		if status.Code(err) == codes.Unavailable || c.Exited() {
			// The connection broke: the process is dying or dead.
			c.waitExited()
			return c.deadError(op, err)
		}
	}
	return errgrpc.ToNative(err)
}

// invoke makes one unary call; op names it in errors.
func invoke[Req, Resp any](ctx context.Context, c *Client, op string,
	method func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req,
) (Resp, error) {
	var zero Resp
	if c.Exited() {
		return zero, c.deadError(op, nil)
	}
	var trailer metadata.MD
	resp, err := method(ctx, req, grpc.Trailer(&trailer))
	if err != nil {
		return zero, c.rpcError(ctx, op, err, trailer)
	}
	return resp, nil
}

// Info implements Driver.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	resp, err := invoke(ctx, c, "info", c.rpc.Info, &driverv1.InfoRequest{})
	if err != nil {
		return nil, err
	}
	return infoFromProto(resp.GetInfo()), nil
}

// Create implements Driver.
func (c *Client) Create(ctx context.Context, req *CreateRequest) (*CreateResponse, error) {
	resp, err := invoke(ctx, c, "create", c.rpc.Create, createRequestToProto(req))
	if err != nil {
		return nil, err
	}
	return &CreateResponse{Pid: resp.GetPid()}, nil
}

// Start implements Driver.
func (c *Client) Start(ctx context.Context, id string) error {
	_, err := invoke(ctx, c, "start", c.rpc.Start, &driverv1.StartRequest{Id: id})
	return err
}

// State implements Driver.
func (c *Client) State(ctx context.Context, id string) (*State, error) {
	resp, err := invoke(ctx, c, "state", c.rpc.State, &driverv1.StateRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return stateFromProto(resp.GetState()), nil
}

// Wait implements Driver.
func (c *Client) Wait(ctx context.Context, req *WaitRequest) (*ExitStatus, error) {
	r := &driverv1.WaitRequest{}
	if req != nil {
		r.Id, r.ExecId = req.ID, req.ExecID
	}
	resp, err := invoke(ctx, c, "wait", c.rpc.Wait, r)
	if err != nil {
		return nil, err
	}
	return exitFromProto(resp.GetExit()), nil
}

// Kill implements Driver.
func (c *Client) Kill(ctx context.Context, req *KillRequest) error {
	r := &driverv1.KillRequest{}
	if req != nil {
		r.Id, r.ExecId, r.Signal, r.All = req.ID, req.ExecID, req.Signal, req.All
	}
	_, err := invoke(ctx, c, "kill", c.rpc.Kill, r)
	return err
}

// Delete implements Driver.
func (c *Client) Delete(ctx context.Context, req *DeleteRequest) (*ExitStatus, error) {
	r := &driverv1.DeleteRequest{}
	if req != nil {
		r.Id, r.Force = req.ID, req.Force
	}
	resp, err := invoke(ctx, c, "delete", c.rpc.Delete, r)
	if err != nil {
		return nil, err
	}
	return exitFromProto(resp.GetExit()), nil
}

// List implements Driver.
func (c *Client) List(ctx context.Context) ([]*State, error) {
	resp, err := invoke(ctx, c, "list", c.rpc.List, &driverv1.ListRequest{})
	if err != nil {
		return nil, err
	}
	out := make([]*State, 0, len(resp.GetContainers()))
	for _, s := range resp.GetContainers() {
		out = append(out, stateFromProto(s))
	}
	return out, nil
}

// Exec implements Driver.
func (c *Client) Exec(ctx context.Context, req *ExecRequest) (*ExecResponse, error) {
	r, err := execRequestToProto(req)
	if err != nil {
		return nil, err
	}
	resp, err := invoke(ctx, c, "exec", c.rpc.Exec, r)
	if err != nil {
		return nil, err
	}
	return &ExecResponse{Pid: resp.GetPid()}, nil
}

// ResizePty implements Driver.
func (c *Client) ResizePty(ctx context.Context, req *ResizePtyRequest) error {
	r := &driverv1.ResizePtyRequest{}
	if req != nil {
		r.Id, r.ExecId, r.Width, r.Height = req.ID, req.ExecID, req.Width, req.Height
	}
	_, err := invoke(ctx, c, "resize pty", c.rpc.ResizePty, r)
	return err
}

// CloseIO implements Driver.
func (c *Client) CloseIO(ctx context.Context, req *CloseIORequest) error {
	r := &driverv1.CloseIORequest{}
	if req != nil {
		r.Id, r.ExecId = req.ID, req.ExecID
	}
	_, err := invoke(ctx, c, "close io", c.rpc.CloseIO, r)
	return err
}

// Pause implements Driver.
func (c *Client) Pause(ctx context.Context, id string) error {
	_, err := invoke(ctx, c, "pause", c.rpc.Pause, &driverv1.PauseRequest{Id: id})
	return err
}

// Resume implements Driver.
func (c *Client) Resume(ctx context.Context, id string) error {
	_, err := invoke(ctx, c, "resume", c.rpc.Resume, &driverv1.ResumeRequest{Id: id})
	return err
}

// Stats implements Driver.
func (c *Client) Stats(ctx context.Context, id string) (*Stats, error) {
	resp, err := invoke(ctx, c, "stats", c.rpc.Stats, &driverv1.StatsRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return statsFromProto(resp.GetStats()), nil
}

// Update implements Driver.
func (c *Client) Update(ctx context.Context, req *UpdateRequest) error {
	r, err := updateRequestToProto(req)
	if err != nil {
		return err
	}
	_, err = invoke(ctx, c, "update", c.rpc.Update, r)
	return err
}

// Pids implements Driver.
func (c *Client) Pids(ctx context.Context, id string) ([]ProcessInfo, error) {
	resp, err := invoke(ctx, c, "pids", c.rpc.Pids, &driverv1.PidsRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return processesFromProto(resp.GetProcesses()), nil
}

// Events implements Driver: it calls fn for each event, in order, until ctx
// is done (returning ctx.Err()), fn returns an error (returning it), or the
// driver ends the stream (returning nil, or the driver's error). Only events
// journaled after the call began arrive; EventsFrom replays from a cursor.
func (c *Client) Events(ctx context.Context, fn func(*Event) error) error {
	return c.EventsFrom(ctx, nil, fn)
}

// EventsFrom implements EventReplayer: as Events, but the stream starts at
// req's cursor (nil or zero: live events only). A driver that cannot replay
// answers a cursor with NotImplemented.
func (c *Client) EventsFrom(ctx context.Context, req *EventsRequest, fn func(*Event) error) error {
	if c.Exited() {
		return c.deadError("events", nil)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Events(sctx, eventsRequestToProto(req))
	if err != nil {
		return c.rpcError(ctx, "events", err, nil)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return c.rpcError(ctx, "events", err, stream.Trailer())
		}
		if err := fn(eventFromProto(ev)); err != nil {
			return err
		}
	}
}

// Checkpoint implements Driver.
func (c *Client) Checkpoint(ctx context.Context, req *CheckpointRequest) error {
	r := &driverv1.CheckpointRequest{}
	if req != nil {
		r.Id, r.Path, r.LeaveRunning = req.ID, req.Path, req.LeaveRunning
	}
	_, err := invoke(ctx, c, "checkpoint", c.rpc.Checkpoint, r)
	return err
}

// Restore implements Driver.
func (c *Client) Restore(ctx context.Context, req *RestoreRequest) (*CreateResponse, error) {
	r := &driverv1.RestoreRequest{}
	if req != nil {
		r.Create, r.Path = createRequestToProto(&req.Create), req.Path
	}
	resp, err := invoke(ctx, c, "restore", c.rpc.Restore, r)
	if err != nil {
		return nil, err
	}
	return &CreateResponse{Pid: resp.GetPid()}, nil
}
