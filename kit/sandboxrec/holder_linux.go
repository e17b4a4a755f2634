//go:build linux

package sandboxrec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// Record is the part of sandbox.json that every driver whose sandbox is
// one holder process keeps (a pause process, or the backend's sandbox
// process). Embed it in the driver's record type: encoding/json keeps an
// embedded struct's fields at the top level of the record.
type Record struct {
	Spec driver.SandboxSpec
	// Holder is the sandbox's process: the sandbox lives while it does.
	Holder    proc.PidRecord
	Cgroup    string
	Started   bool
	CreatedAt time.Time
	Exit      *driver.ExitStatus `json:",omitempty"`
}

// Base returns r: through embedding, the driver's record type has it too,
// which is how Holders reaches the common fields.
func (r *Record) Base() *Record { return r }

// exitStatus is the exit recorded for a sandbox whose holder was killed
// or found gone: reason says which.
func exitStatus(reason string) *driver.ExitStatus {
	return &driver.ExitStatus{Code: 137, Signal: 9, ExitedAt: time.Now().UTC(), Reason: reason}
}

// Holders keeps the records of type R (a struct embedding Record) under
// Dir and carries out the sandbox verbs that are the same for every
// driver whose sandbox is one holder process: the driver gives the steps
// that differ (starting and destroying the holder) as functions.
type Holders[R any, P interface {
	*R
	Base() *Record
}] struct {
	// Dir holds DIR/ID/sandbox.json, DIR/ID/members/ and DIR/ID.lock.
	Dir string
	// Driver answers State, Kill, Wait and Delete of member containers.
	Driver driver.Driver
	// Gone reports whether a member container has been deleted since.
	Gone func(container string) bool
	// GoneReason is the exit reason of a sandbox whose holder ended
	// without a stop.
	GoneReason string
	// Finish, when set, adds the driver's own fields (NetNSPath) to the
	// contract's view of a record.
	Finish func(r P, sb *driver.Sandbox)
}

// SandboxDir is sandbox id's directory.
func (h *Holders[R, P]) SandboxDir(id string) string { return filepath.Join(h.Dir, id) }

// Lock takes sandbox id's lock and returns its release.
func (h *Holders[R, P]) Lock(id string) (func(), error) { return Lock(h.Dir, id) }

// Read decodes sandbox id's record; op names the call in errors.
func (h *Holders[R, P]) Read(op, id string) (P, error) { return Read[R](h.Dir, op, id) }

// Write replaces r's record.
func (h *Holders[R, P]) Write(r P) error { return Write(h.Dir, r.Base().Spec.ID, r) }

// Members returns sandbox id's member containers that are not gone.
func (h *Holders[R, P]) Members(id string) []string { return Members(h.Dir, id, h.Gone) }

// View is the contract's view of r: a holder that ended without a stop
// makes the sandbox stopped with GoneReason.
func (h *Holders[R, P]) View(r P) *driver.Sandbox {
	b := r.Base()
	sb := &driver.Sandbox{
		ID: b.Spec.ID, Status: driver.StatusCreated, Pid: uint32(b.Holder.Pid),
		Containers: h.Members(b.Spec.ID), Exit: b.Exit, Annotations: b.Spec.Annotations,
		CreatedAt: b.CreatedAt, Hostname: b.Spec.Hostname, CgroupPath: b.Cgroup,
	}
	switch {
	case b.Exit != nil:
		sb.Status = driver.StatusStopped
	case b.Holder.Gone():
		sb.Status = driver.StatusStopped
		sb.Exit = &driver.ExitStatus{Code: 137, Signal: 9, Reason: h.GoneReason}
	case b.Started:
		sb.Status = driver.StatusRunning
	}
	if h.Finish != nil {
		h.Finish(r, sb)
	}
	return sb
}

// Status reports sandbox id.
func (h *Holders[R, P]) Status(id string) (*driver.Sandbox, error) {
	r, err := h.Read("sandbox status", id)
	if err != nil {
		return nil, err
	}
	return h.View(r), nil
}

// List reports every sandbox, oldest first.
func (h *Holders[R, P]) List() ([]*driver.Sandbox, error) {
	return List(h.Dir, func(r *R) *driver.Sandbox { return h.View(r) })
}

// Create makes r's sandbox directory with members/ under the sandbox's
// lock (AlreadyExists when the id is taken), then runs start, which starts
// the holder and completes r, writes r and returns its view. When start
// or the write fails, undo(r) runs under the lock: it removes what start
// made and the directory (Remove).
func (h *Holders[R, P]) Create(r P, start func(P) error, undo func(P)) (*driver.Sandbox, error) {
	if err := h.create(r, start, undo); err != nil {
		return nil, err
	}
	return h.View(r), nil
}

func (h *Holders[R, P]) create(r P, start func(P) error, undo func(P)) (retErr error) {
	id := r.Base().Spec.ID
	unlock, err := h.Lock(id)
	if err != nil {
		return fmt.Errorf("create sandbox %s: %w", id, err)
	}
	defer unlock()
	dir := h.SandboxDir(id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return driver.AlreadyExistsf("create sandbox %s: a sandbox with this id already exists", id)
		}
		return fmt.Errorf("create sandbox %s: %w", id, err)
	}
	defer func() {
		if retErr != nil {
			undo(r)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "members"), 0o700); err != nil {
		return fmt.Errorf("create sandbox %s: %w", id, err)
	}
	if err := start(r); err != nil {
		return err
	}
	if err := h.Write(r); err != nil {
		return fmt.Errorf("create sandbox %s: %w", id, err)
	}
	return nil
}

// Start marks a created sandbox started, after start (nil when the
// driver has nothing to do) succeeds, and returns its view; a sandbox in
// another state is FailedPrecondition.
func (h *Holders[R, P]) Start(id string, start func(P) error) (*driver.Sandbox, error) {
	unlock, err := h.Lock(id)
	if err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	defer unlock()
	r, err := h.Read("start sandbox", id)
	if err != nil {
		return nil, err
	}
	if sb := h.View(r); sb.Status != driver.StatusCreated {
		return nil, driver.FailedPreconditionf("start sandbox %s: sandbox is %s, not created", id, sb.Status)
	}
	if start != nil {
		if err := start(r); err != nil {
			return nil, fmt.Errorf("start sandbox %s: %w", id, err)
		}
	}
	r.Base().Started = true
	if err := h.Write(r); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", id, err)
	}
	return h.View(r), nil
}

// Join returns the record of sandbox id for containerID to be created in;
// a sandbox that is not running is FailedPrecondition.
func (h *Holders[R, P]) Join(containerID, id string) (P, error) {
	r, err := h.Read("create "+containerID+" in sandbox", id)
	if err != nil {
		return nil, err
	}
	if sb := h.View(r); sb.Status != driver.StatusRunning {
		return nil, driver.FailedPreconditionf("create %s: sandbox %s is %s, not running", containerID, id, sb.Status)
	}
	return r, nil
}

// MarkMember records containerID as a member of sandbox id.
func (h *Holders[R, P]) MarkMember(containerID, id string) error {
	if err := os.WriteFile(filepath.Join(h.SandboxDir(id), "members", containerID), nil, 0o600); err != nil {
		return fmt.Errorf("create %s in sandbox %s: %w", containerID, id, err)
	}
	return nil
}

// Wait waits until sandbox id's holder has ended and returns its exit.
func (h *Holders[R, P]) Wait(ctx context.Context, id string) (*driver.ExitStatus, error) {
	for {
		r, err := h.Read("wait sandbox", id)
		if err != nil {
			return nil, err
		}
		if sb := h.View(r); sb.Status == driver.StatusStopped {
			if r.Base().Exit == nil {
				h.settle(id)
				continue
			}
			return sb.Exit, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settle records the exit of a sandbox whose holder ended without a stop,
// so that every later call reports the same exit.
func (h *Holders[R, P]) settle(id string) {
	unlock, err := h.Lock(id)
	if err != nil {
		return
	}
	defer unlock()
	r, err := h.Read("", id)
	if err != nil || r.Base().Exit != nil || !r.Base().Holder.Gone() {
		return
	}
	r.Base().Exit = exitStatus(h.GoneReason)
	_ = h.Write(r)
}

// Stop stops the sandbox's containers (SIGTERM, SIGKILL after timeout, or
// after def when the request gives none), then kills its holder and
// records the stop.
func (h *Holders[R, P]) Stop(ctx context.Context, req *driver.StopSandboxRequest, def time.Duration) error {
	if _, err := h.Read("stop sandbox", req.ID); err != nil {
		return err
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = def
	}
	if err := StopMembers(ctx, h.Driver, h.Members(req.ID), timeout); err != nil {
		return err
	}
	unlock, err := h.Lock(req.ID)
	if err != nil {
		return fmt.Errorf("stop sandbox %s: %w", req.ID, err)
	}
	defer unlock()
	r, err := h.Read("stop sandbox", req.ID)
	if err != nil {
		return err
	}
	if b := r.Base(); b.Exit == nil {
		KillHolder(b.Holder)
		b.Exit = exitStatus("sandbox stopped")
		if err := h.Write(r); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", req.ID, err)
		}
	}
	return nil
}

// Shutdown deletes the sandbox's containers (running ones only with
// Force: FailedPrecondition otherwise), then runs destroy under the
// sandbox's lock: it kills the holder (KillHolder), removes what the
// driver made and the records (Remove).
func (h *Holders[R, P]) Shutdown(ctx context.Context, req *driver.ShutdownSandboxRequest, destroy func(P) error) error {
	r, err := h.Read("shutdown sandbox", req.ID)
	if err != nil {
		return err
	}
	members := h.Members(req.ID)
	if !req.Force {
		if err := RefuseRunning(ctx, h.Driver, req.ID, members); err != nil {
			return err
		}
	}
	if err := DeleteMembers(ctx, h.Driver, req.ID, members); err != nil {
		return err
	}
	unlock, err := h.Lock(req.ID)
	if err != nil {
		return fmt.Errorf("shutdown sandbox %s: %w", req.ID, err)
	}
	defer unlock()
	return destroy(r)
}

// Remove removes sandbox id's directory and lock file.
func (h *Holders[R, P]) Remove(id string) error {
	if err := os.RemoveAll(h.SandboxDir(id)); err != nil {
		return fmt.Errorf("shutdown sandbox %s: %w", id, err)
	}
	os.Remove(h.SandboxDir(id) + ".lock")
	return nil
}

// KillHolder kills the recorded holder and waits (5 s at most) for its
// end.
func KillHolder(holder proc.PidRecord) {
	proc.KillRecorded(holder)
	for deadline := time.Now().Add(5 * time.Second); !holder.Gone() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}
