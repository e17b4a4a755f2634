package driver

import (
	"context"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// server adapts a Driver to the generated gRPC service, in the driver
// process: it only converts requests and responses. What every method
// shares (capability gating, panics, error classes on the wire) is the
// guard's, installed as gRPC interceptors (intercept.go).
type server struct {
	driverv1.UnimplementedDriverServer
	impl Driver
}

var _ driverv1.DriverServer = (*server)(nil)

func (s *server) Info(ctx context.Context, _ *driverv1.InfoRequest) (*driverv1.InfoResponse, error) {
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, err
	}
	return &driverv1.InfoResponse{Info: infoToProto(info)}, nil
}

func (s *server) Create(ctx context.Context, req *driverv1.CreateRequest) (*driverv1.CreateResponse, error) {
	resp, err := s.impl.Create(ctx, createRequestFromProto(req))
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return &driverv1.CreateResponse{}, nil
	}
	return &driverv1.CreateResponse{Pid: resp.Pid}, nil
}

func (s *server) Start(ctx context.Context, req *driverv1.StartRequest) (*driverv1.StartResponse, error) {
	if err := s.impl.Start(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &driverv1.StartResponse{}, nil
}

func (s *server) State(ctx context.Context, req *driverv1.StateRequest) (*driverv1.StateResponse, error) {
	st, err := s.impl.State(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.StateResponse{State: stateToProto(st)}, nil
}

func (s *server) Wait(ctx context.Context, req *driverv1.WaitRequest) (*driverv1.WaitResponse, error) {
	exit, err := s.impl.Wait(ctx, &WaitRequest{ID: req.GetId(), ExecID: req.GetExecId()})
	if err != nil {
		return nil, err
	}
	return &driverv1.WaitResponse{Exit: exitToProto(exit)}, nil
}

func (s *server) Kill(ctx context.Context, req *driverv1.KillRequest) (*driverv1.KillResponse, error) {
	err := s.impl.Kill(ctx, &KillRequest{ID: req.GetId(), ExecID: req.GetExecId(), Signal: req.GetSignal(), All: req.GetAll()})
	if err != nil {
		return nil, err
	}
	return &driverv1.KillResponse{}, nil
}

func (s *server) Delete(ctx context.Context, req *driverv1.DeleteRequest) (*driverv1.DeleteResponse, error) {
	exit, err := s.impl.Delete(ctx, &DeleteRequest{ID: req.GetId(), Force: req.GetForce()})
	if err != nil {
		return nil, err
	}
	return &driverv1.DeleteResponse{Exit: exitToProto(exit)}, nil
}

func (s *server) List(ctx context.Context, _ *driverv1.ListRequest) (*driverv1.ListResponse, error) {
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

func (s *server) Exec(ctx context.Context, req *driverv1.ExecRequest) (*driverv1.ExecResponse, error) {
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

func (s *server) ResizePty(ctx context.Context, req *driverv1.ResizePtyRequest) (*driverv1.ResizePtyResponse, error) {
	err := s.impl.ResizePty(ctx, &ResizePtyRequest{
		ID: req.GetId(), ExecID: req.GetExecId(), Width: req.GetWidth(), Height: req.GetHeight(),
	})
	if err != nil {
		return nil, err
	}
	return &driverv1.ResizePtyResponse{}, nil
}

func (s *server) CloseIO(ctx context.Context, req *driverv1.CloseIORequest) (*driverv1.CloseIOResponse, error) {
	if err := s.impl.CloseIO(ctx, &CloseIORequest{ID: req.GetId(), ExecID: req.GetExecId()}); err != nil {
		return nil, err
	}
	return &driverv1.CloseIOResponse{}, nil
}

func (s *server) Pause(ctx context.Context, req *driverv1.PauseRequest) (*driverv1.PauseResponse, error) {
	if err := s.impl.Pause(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &driverv1.PauseResponse{}, nil
}

func (s *server) Resume(ctx context.Context, req *driverv1.ResumeRequest) (*driverv1.ResumeResponse, error) {
	if err := s.impl.Resume(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &driverv1.ResumeResponse{}, nil
}

func (s *server) Stats(ctx context.Context, req *driverv1.StatsRequest) (*driverv1.StatsResponse, error) {
	st, err := s.impl.Stats(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.StatsResponse{Stats: statsToProto(st)}, nil
}

func (s *server) Update(ctx context.Context, req *driverv1.UpdateRequest) (*driverv1.UpdateResponse, error) {
	r, err := updateRequestFromProto(req)
	if err != nil {
		return nil, err
	}
	if err := s.impl.Update(ctx, r); err != nil {
		return nil, err
	}
	return &driverv1.UpdateResponse{}, nil
}

func (s *server) Pids(ctx context.Context, req *driverv1.PidsRequest) (*driverv1.PidsResponse, error) {
	ps, err := s.impl.Pids(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &driverv1.PidsResponse{Processes: processesToProto(ps)}, nil
}

func (s *server) Events(req *driverv1.EventsRequest, stream driverv1.Driver_EventsServer) error {
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

func (s *server) Checkpoint(ctx context.Context, req *driverv1.CheckpointRequest) (*driverv1.CheckpointResponse, error) {
	err := s.impl.Checkpoint(ctx, &CheckpointRequest{ID: req.GetId(), Path: req.GetPath(), LeaveRunning: req.GetLeaveRunning()})
	if err != nil {
		return nil, err
	}
	return &driverv1.CheckpointResponse{}, nil
}

func (s *server) Restore(ctx context.Context, req *driverv1.RestoreRequest) (*driverv1.RestoreResponse, error) {
	resp, err := s.impl.Restore(ctx, &RestoreRequest{Create: *createRequestFromProto(req.GetCreate()), Path: req.GetPath()})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return &driverv1.RestoreResponse{}, nil
	}
	return &driverv1.RestoreResponse{Pid: resp.Pid}, nil
}
