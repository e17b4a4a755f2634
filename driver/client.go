package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// Client is a Driver that speaks the contract to a driver over gRPC: the
// client of a Process that Launch started, or of any connection
// (NewClient). Errors keep their errdefs class; when the process behind it
// has died, every method returns an Unavailable error naming the driver
// with its last log lines. It is safe for concurrent use.
type Client struct {
	name   string
	target string // the binary's path, or the connection's target
	rpc    driverv1.DriverClient
	proc   procState // nil over a connection of the caller's (NewClient)

	exitWait   time.Duration
	maxErrLogs int
}

var _ Driver = (*Client)(nil)
var _ EventReplayer = (*Client)(nil)

// procState is what a client knows of the driver process behind it: a
// *Process that Launch started, or a *WarmClient's warm driver.
type procState interface {
	Exited() bool
	LastLogLines() []string
}

// exited reports whether the process behind c is known to have exited.
func (c *Client) exited() bool { return c.proc != nil && c.proc.Exited() }

// deadError is the Unavailable error for a driver process that is gone:
// before the call (cause nil) or during it.
func (c *Client) deadError(op string, cause error) error {
	switch {
	case cause == nil:
		return Unavailablef("driver %q (%s) has exited, cannot %s%s", c.name, c.target, op, c.logSuffix())
	case c.exited():
		return Unavailablef("driver %q (%s) exited during %s%s", c.name, c.target, op, c.logSuffix())
	default:
		return Unavailablef("driver %q (%s) lost its connection during %s (%v)%s", c.name, c.target, op, cause, c.logSuffix())
	}
}

// logSuffix formats the process's last log lines for an error message;
// "" over a connection of the caller's, whose logs the SDK does not see.
func (c *Client) logSuffix() string {
	if c.proc == nil {
		return ""
	}
	return logSuffix(c.proc.LastLogLines(), c.maxErrLogs)
}

// logSuffix formats the last max of lines for an error message.
func logSuffix(lines []string, max int) string {
	if len(lines) == 0 {
		return "; it wrote nothing on stderr"
	}
	if len(lines) > max {
		lines = lines[len(lines)-max:]
	}
	return "; last log lines: " + strings.Join(lines, " | ")
}

// waitExited gives the exit of a dying process time to be noticed.
func (c *Client) waitExited() bool {
	if c.proc == nil {
		return false
	}
	deadline := time.Now().Add(c.exitWait)
	for !c.exited() {
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
		if status.Code(err) == codes.Unavailable || c.exited() {
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
	if c.exited() {
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
	if c.exited() {
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
