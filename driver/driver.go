package driver

import (
	"context"
)

// Driver is the contract every runtime driver implements. Methods beyond the
// lifecycle (Info, Create, Start, State, Wait, Kill, Delete, List) are gated
// by Capabilities: a driver that does not support one returns an error of
// class NotImplemented at once (embed Unimplemented to get that for free).
type Driver interface {
	Info(ctx context.Context) (*Info, error)
	Create(ctx context.Context, req *CreateRequest) (*CreateResponse, error)
	Start(ctx context.Context, id string) error
	State(ctx context.Context, id string) (*State, error)
	// Wait blocks until the process ends; it can be called many times, also
	// after the process has ended, and always returns the same status.
	Wait(ctx context.Context, req *WaitRequest) (*ExitStatus, error)
	Kill(ctx context.Context, req *KillRequest) error
	// Delete is idempotent for a container that is gone from the backend but
	// still known; an id never created returns NotFound.
	Delete(ctx context.Context, req *DeleteRequest) (*ExitStatus, error)
	List(ctx context.Context) ([]*State, error)

	Exec(ctx context.Context, req *ExecRequest) (*ExecResponse, error)
	ResizePty(ctx context.Context, req *ResizePtyRequest) error
	CloseIO(ctx context.Context, req *CloseIORequest) error
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	Stats(ctx context.Context, id string) (*Stats, error)
	Update(ctx context.Context, req *UpdateRequest) error
	Pids(ctx context.Context, id string) ([]ProcessInfo, error)
	// Events streams events to fn until ctx is done or fn returns an error:
	// those journaled after the call began, in order. A driver that can
	// replay from a cursor also implements EventReplayer (docs/events.md).
	Events(ctx context.Context, fn func(*Event) error) error
	Checkpoint(ctx context.Context, req *CheckpointRequest) error
	Restore(ctx context.Context, req *RestoreRequest) (*CreateResponse, error)
}

// Unimplemented answers NotImplemented for every optional method. Embed it
// in a driver and override what the driver supports.
type Unimplemented struct{}

func notImplemented(method string) error {
	return NotImplementedf("%s is not supported by this driver", method)
}

// Exec returns NotImplemented.
func (Unimplemented) Exec(context.Context, *ExecRequest) (*ExecResponse, error) {
	return nil, notImplemented("exec")
}

// ResizePty returns NotImplemented.
func (Unimplemented) ResizePty(context.Context, *ResizePtyRequest) error {
	return notImplemented("resize pty")
}

// CloseIO returns NotImplemented.
func (Unimplemented) CloseIO(context.Context, *CloseIORequest) error {
	return notImplemented("close io")
}

// Pause returns NotImplemented.
func (Unimplemented) Pause(context.Context, string) error { return notImplemented("pause") }

// Resume returns NotImplemented.
func (Unimplemented) Resume(context.Context, string) error { return notImplemented("resume") }

// Stats returns NotImplemented.
func (Unimplemented) Stats(context.Context, string) (*Stats, error) {
	return nil, notImplemented("stats")
}

// Update returns NotImplemented.
func (Unimplemented) Update(context.Context, *UpdateRequest) error {
	return notImplemented("update")
}

// Pids returns NotImplemented.
func (Unimplemented) Pids(context.Context, string) ([]ProcessInfo, error) {
	return nil, notImplemented("pids")
}

// Events returns NotImplemented.
func (Unimplemented) Events(context.Context, func(*Event) error) error {
	return notImplemented("events")
}

// Checkpoint returns NotImplemented.
func (Unimplemented) Checkpoint(context.Context, *CheckpointRequest) error {
	return notImplemented("checkpoint")
}

// Restore returns NotImplemented.
func (Unimplemented) Restore(context.Context, *RestoreRequest) (*CreateResponse, error) {
	return nil, notImplemented("restore")
}
