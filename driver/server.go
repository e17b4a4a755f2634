package driver

import (
	"context"
	"fmt"
	"runtime/debug"

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

// server adapts a Driver to the generated gRPC service, in the driver
// process. Every error leaves through errgrpc.ToGRPC so its errdefs class
// survives, and a panic in a driver method becomes an Internal error naming
// the method instead of killing the process.
type server struct {
	driverv1.UnimplementedDriverServer
	impl   Driver
	logger hclog.Logger
}

var _ driverv1.DriverServer = (*server)(nil)

// finish turns a panic into an error and any error into a gRPC status. Use
// it deferred, with the named error result of the handler.
func (s *server) finish(method string, setTrailer func(metadata.MD) error, errp *error) {
	if r := recover(); r != nil {
		if s.logger != nil {
			s.logger.Error("driver method panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		*errp = fmt.Errorf("driver panicked in %s: %v: %w", method, r, errdefs.ErrInternal)
	}
	if *errp != nil {
		_ = setTrailer(metadata.Pairs(originKey, "driver"))
		*errp = errgrpc.ToGRPC(*errp)
	}
}

func unaryTrailer(ctx context.Context) func(metadata.MD) error {
	return func(md metadata.MD) error { return grpc.SetTrailer(ctx, md) }
}

func (s *server) Info(ctx context.Context, _ *driverv1.InfoRequest) (_ *driverv1.InfoResponse, retErr error) {
	defer s.finish("info", unaryTrailer(ctx), &retErr)
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, err
	}
	return &driverv1.InfoResponse{Info: infoToProto(info)}, nil
}

func (s *server) Create(ctx context.Context, req *driverv1.CreateRequest) (_ *driverv1.CreateResponse, retErr error) {
	defer s.finish("create", unaryTrailer(ctx), &retErr)
	resp, err := s.impl.Create(ctx, createRequestFromProto(req))
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return &driverv1.CreateResponse{}, nil
	}
	return &driverv1.CreateResponse{Pid: resp.Pid}, nil
}

func (s *server) Start(ctx context.Context, req *driverv1.StartRequest) (_ *driverv1.StartResponse, retErr error) {
	defer s.finish("start", unaryTrailer(ctx), &retErr)
	if err := s.impl.Start(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &driverv1.StartResponse{}, nil
}

func (s *server) State(ctx context.Context, req *driverv1.StateRequest) (_ *driverv1.StateResponse, retErr error) {
	defer s.finish("state", unaryTrailer(ctx), &retErr)
	st, err := s.impl.State(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.StateResponse{State: stateToProto(st)}, nil
}

func (s *server) Wait(ctx context.Context, req *driverv1.WaitRequest) (_ *driverv1.WaitResponse, retErr error) {
	defer s.finish("wait", unaryTrailer(ctx), &retErr)
	exit, err := s.impl.Wait(ctx, &WaitRequest{ID: req.GetId(), ExecID: req.GetExecId()})
	if err != nil {
		return nil, err
	}
	return &driverv1.WaitResponse{Exit: exitToProto(exit)}, nil
}

func (s *server) Kill(ctx context.Context, req *driverv1.KillRequest) (_ *driverv1.KillResponse, retErr error) {
	defer s.finish("kill", unaryTrailer(ctx), &retErr)
	err := s.impl.Kill(ctx, &KillRequest{ID: req.GetId(), ExecID: req.GetExecId(), Signal: req.GetSignal(), All: req.GetAll()})
	if err != nil {
		return nil, err
	}
	return &driverv1.KillResponse{}, nil
}

func (s *server) Delete(ctx context.Context, req *driverv1.DeleteRequest) (_ *driverv1.DeleteResponse, retErr error) {
	defer s.finish("delete", unaryTrailer(ctx), &retErr)
	exit, err := s.impl.Delete(ctx, &DeleteRequest{ID: req.GetId(), Force: req.GetForce()})
	if err != nil {
		return nil, err
	}
	return &driverv1.DeleteResponse{Exit: exitToProto(exit)}, nil
}

func (s *server) List(ctx context.Context, _ *driverv1.ListRequest) (_ *driverv1.ListResponse, retErr error) {
	defer s.finish("list", unaryTrailer(ctx), &retErr)
	states, err := s.impl.List(ctx)
	if err != nil {
		return nil, err
	}
	resp := &driverv1.ListResponse{}
	for _, st := range states {
		if st != nil {
			resp.Containers = append(resp.Containers, stateToProto(st))
		}
	}
	return resp, nil
}

func (s *server) Exec(ctx context.Context, req *driverv1.ExecRequest) (_ *driverv1.ExecResponse, retErr error) {
	defer s.finish("exec", unaryTrailer(ctx), &retErr)
	r, err := execRequestFromProto(req)
	if err != nil {
		return nil, err
	}
	resp, err := s.impl.Exec(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return &driverv1.ExecResponse{}, nil
	}
	return &driverv1.ExecResponse{Pid: resp.Pid}, nil
}

func (s *server) ResizePty(ctx context.Context, req *driverv1.ResizePtyRequest) (_ *driverv1.ResizePtyResponse, retErr error) {
	defer s.finish("resize pty", unaryTrailer(ctx), &retErr)
	err := s.impl.ResizePty(ctx, &ResizePtyRequest{
		ID: req.GetId(), ExecID: req.GetExecId(), Width: req.GetWidth(), Height: req.GetHeight(),
	})
	if err != nil {
		return nil, err
	}
	return &driverv1.ResizePtyResponse{}, nil
}

func (s *server) CloseIO(ctx context.Context, req *driverv1.CloseIORequest) (_ *driverv1.CloseIOResponse, retErr error) {
	defer s.finish("close io", unaryTrailer(ctx), &retErr)
	if err := s.impl.CloseIO(ctx, &CloseIORequest{ID: req.GetId(), ExecID: req.GetExecId()}); err != nil {
		return nil, err
	}
	return &driverv1.CloseIOResponse{}, nil
}

func (s *server) Pause(ctx context.Context, req *driverv1.PauseRequest) (_ *driverv1.PauseResponse, retErr error) {
	defer s.finish("pause", unaryTrailer(ctx), &retErr)
	if err := s.impl.Pause(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &driverv1.PauseResponse{}, nil
}

func (s *server) Resume(ctx context.Context, req *driverv1.ResumeRequest) (_ *driverv1.ResumeResponse, retErr error) {
	defer s.finish("resume", unaryTrailer(ctx), &retErr)
	if err := s.impl.Resume(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &driverv1.ResumeResponse{}, nil
}

func (s *server) Stats(ctx context.Context, req *driverv1.StatsRequest) (_ *driverv1.StatsResponse, retErr error) {
	defer s.finish("stats", unaryTrailer(ctx), &retErr)
	st, err := s.impl.Stats(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.StatsResponse{Stats: statsToProto(st)}, nil
}

func (s *server) Update(ctx context.Context, req *driverv1.UpdateRequest) (_ *driverv1.UpdateResponse, retErr error) {
	defer s.finish("update", unaryTrailer(ctx), &retErr)
	r, err := updateRequestFromProto(req)
	if err != nil {
		return nil, err
	}
	if err := s.impl.Update(ctx, r); err != nil {
		return nil, err
	}
	return &driverv1.UpdateResponse{}, nil
}

func (s *server) Pids(ctx context.Context, req *driverv1.PidsRequest) (_ *driverv1.PidsResponse, retErr error) {
	defer s.finish("pids", unaryTrailer(ctx), &retErr)
	ps, err := s.impl.Pids(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.PidsResponse{Processes: processesToProto(ps)}, nil
}

func (s *server) Events(req *driverv1.EventsRequest, stream driverv1.Driver_EventsServer) (retErr error) {
	defer s.finish("events", func(md metadata.MD) error { stream.SetTrailer(md); return nil }, &retErr)
	send := func(e *Event) error { return stream.Send(eventToProto(e)) }
	r := eventsRequestFromProto(req)
	if rp, ok := s.impl.(EventReplayer); ok {
		return rp.EventsFrom(stream.Context(), r, send)
	}
	if !r.IsZero() {
		return NotImplementedf("events: this driver cannot replay events from a cursor (after %d, since %v)", r.After, r.Since)
	}
	return s.impl.Events(stream.Context(), send)
}

func (s *server) Checkpoint(ctx context.Context, req *driverv1.CheckpointRequest) (_ *driverv1.CheckpointResponse, retErr error) {
	defer s.finish("checkpoint", unaryTrailer(ctx), &retErr)
	err := s.impl.Checkpoint(ctx, &CheckpointRequest{ID: req.GetId(), Path: req.GetPath(), LeaveRunning: req.GetLeaveRunning()})
	if err != nil {
		return nil, err
	}
	return &driverv1.CheckpointResponse{}, nil
}

func (s *server) Restore(ctx context.Context, req *driverv1.RestoreRequest) (_ *driverv1.RestoreResponse, retErr error) {
	defer s.finish("restore", unaryTrailer(ctx), &retErr)
	resp, err := s.impl.Restore(ctx, &RestoreRequest{Create: *createRequestFromProto(req.GetCreate()), Path: req.GetPath()})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return &driverv1.RestoreResponse{}, nil
	}
	return &driverv1.RestoreResponse{Pid: resp.Pid}, nil
}
