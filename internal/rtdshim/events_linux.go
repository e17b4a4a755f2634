//go:build linux

package rtdshim

import (
	"context"
	"errors"
	"sync"
	"time"

	eventstypes "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/v2/core/runtime"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/protobuf"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// eventQueue publishes events to containerd in the order they were sent,
// from one goroutine, as containerd's runc shim does.
type eventQueue struct {
	ch        chan any
	done      chan struct{}
	closeOnce sync.Once
}

func newEventQueue(ctx context.Context, publisher shim.Publisher) *eventQueue {
	q := &eventQueue{ch: make(chan any, 128), done: make(chan struct{})}
	ns, _ := namespaces.Namespace(ctx)
	pctx := namespaces.WithNamespace(context.Background(), ns)
	go func() {
		defer close(q.done)
		for e := range q.ch {
			if err := publisher.Publish(pctx, runtime.GetTopic(e), e); err != nil {
				log.G(ctx).WithError(err).Error("publish event")
			}
		}
		publisher.Close()
	}()
	return q
}

func (q *eventQueue) send(e any) { q.ch <- e }

// close publishes what is queued and stops the queue.
func (q *eventQueue) close() {
	q.closeOnce.Do(func() {
		close(q.ch)
		select {
		case <-q.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// retryDelay spaces calls to a driver that is being relaunched.
const retryDelay = 100 * time.Millisecond

// watchExit waits for a process's exit through the driver: the wait is
// repeated across driver relaunches, the per-container monitor keeping the
// status meanwhile. For a driver claiming Events the stream may deliver
// the same exit first; exited publishes it once.
func (s *service) watchExit(c *container, p *proc) {
	for {
		st, err := c.drv.Wait(c.ctx, &driver.WaitRequest{ID: c.id, ExecID: p.execID})
		if err == nil {
			s.exited(c, p, st)
			return
		}
		if c.ctx.Err() != nil {
			return
		}
		if errdefs.IsNotFound(err) {
			// Gone from the driver without an exit: report it, once.
			s.exited(c, p, &driver.ExitStatus{Code: 255, ExitedAt: time.Now(), Reason: err.Error()})
			return
		}
		log.G(s.ctx).WithError(err).WithField("id", c.id).WithField("exec", p.execID).Warn("wait failed; retrying")
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(retryDelay):
		}
	}
}

// watchEvents follows a driver's event stream (for drivers claiming
// Events), resubscribing after a relaunch: TaskOOM comes from it, and
// exits (also those a relaunched driver replays) race with watchExit's,
// exited dropping whichever comes second.
func (s *service) watchEvents(d *core.Plugin) {
	for s.ctx.Err() == nil {
		err := d.Do(s.ctx, func(cl *driver.Client) error {
			return cl.Events(s.ctx, func(e *driver.Event) error {
				s.onDriverEvent(e)
				return nil
			})
		})
		if s.ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			log.G(s.ctx).WithError(err).WithField("driver", d.Name).Debug("event stream ended; resubscribing")
		}
		time.Sleep(retryDelay)
	}
}

// onDriverEvent takes exits and OOMs from a driver's stream; the other
// lifecycle events are published from the calls this shim makes.
func (s *service) onDriverEvent(e *driver.Event) {
	c, err := s.get(e.ID)
	if err != nil {
		return
	}
	switch e.Type {
	case driver.EventOOM:
		s.oom(c)
	case driver.EventExit:
		p := c.proc(e.ExecID)
		if p == nil || e.Exit == nil {
			return
		}
		s.exited(c, p, e.Exit)
	}
}

// oom publishes TaskOOM once per container.
func (s *service) oom(c *container) {
	c.mu.Lock()
	sent := c.oomSent
	c.oomSent = true
	c.mu.Unlock()
	if !sent {
		s.ev.send(&eventstypes.TaskOOM{ContainerID: c.id})
	}
}

// exited records a process's exit and publishes TaskExit, exactly once per
// process whichever way the exit arrived (Wait, the event stream, a replay
// after a driver relaunch, Delete). The init's exit is held back until
// the container's started execs have exited.
func (s *service) exited(c *container, p *proc, st *driver.ExitStatus) {
	if p.exitStatus() != nil {
		return
	}
	if st.OOMKilled {
		s.oom(c)
	}
	c.mu.Lock()
	if p == c.init {
		if c.pendingInit == nil && c.running > 0 {
			c.pendingInit = st
			c.mu.Unlock()
			return
		}
		held := c.pendingInit != nil
		c.mu.Unlock()
		if !held {
			s.publishExit(c, p, st)
		}
		return
	}
	if p.counted {
		p.counted = false
		c.running--
	}
	var initSt *driver.ExitStatus
	if c.running == 0 && c.pendingInit != nil {
		initSt, c.pendingInit = c.pendingInit, nil
	}
	c.mu.Unlock()
	s.publishExit(c, p, st)
	if initSt != nil {
		s.publishExit(c, c.init, initSt)
	}
}

func (s *service) publishExit(c *container, p *proc, st *driver.ExitStatus) {
	p.mu.Lock()
	if p.exit != nil {
		p.mu.Unlock()
		return
	}
	if st.ExitedAt.IsZero() {
		st.ExitedAt = time.Now()
	}
	p.exit = st
	pid := p.pid
	p.mu.Unlock()
	s.ev.send(&eventstypes.TaskExit{
		ContainerID: c.id, ID: p.taskID(), Pid: pid, ExitStatus: st.Code, ExitedAt: protobuf.ToTimestamp(st.ExitedAt),
	})
	close(p.exited)
}
