package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// eventLog collects the events of one container from a stream that can be
// resumed on another driver process.
type eventLog struct {
	id     string
	mu     sync.Mutex
	events []*driver.Event
	last   uint64 // seq of the last event seen, any container
	cancel context.CancelFunc
	done   chan error
}

// follow streams events from req into the log until stop.
func (s *Session) follow(ctx context.Context, l *eventLog, req *driver.EventsRequest) {
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan error, 1)
	client := s.client
	go func() {
		l.done <- client.EventsFrom(ctx, req, func(e *driver.Event) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			if e.Seq <= l.last {
				return fmt.Errorf("event seq %d after %d: not increasing", e.Seq, l.last)
			}
			l.last = e.Seq
			if e.ID == l.id {
				l.events = append(l.events, e)
			}
			return nil
		})
	}()
}

// stop ends the stream; an error other than the cancellation is returned.
func (l *eventLog) stop() error {
	l.cancel()
	if err := <-l.done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("events stream: %w", err)
	}
	return nil
}

// names renders the log as "create start exec:e1 exit:e1=3 exit=0 ...".
func (l *eventLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		n := string(e.Type)
		if e.ExecID != "" {
			n += ":" + e.ExecID
		}
		// ex2 dies with its container: its code depends on how the
		// backend reports that (137, or 255 when a VM stopped first).
		if e.Type == driver.EventExit && e.Exit != nil && e.ExecID != "ex2" {
			n += fmt.Sprintf("=%d", e.Exit.Code)
		}
		out = append(out, n)
	}
	return out
}

// await waits until the log holds want, exactly, and stays so for a moment
// (a duplicate would show up).
func (l *eventLog) await(ctx context.Context, want ...string) error {
	w := strings.Join(want, " ")
	err := eventually(ctx, 10*time.Second, func() error {
		if got := strings.Join(l.names(), " "); got != w {
			return fmt.Errorf("events of %s: %q, want %q", l.id, got, w)
		}
		return nil
	})
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if got := strings.Join(l.names(), " "); got != w {
		return fmt.Errorf("events of %s: %q, want %q", l.id, got, w)
	}
	return nil
}

func eventsCases() []Case {
	return []Case{
		{ID: "EVENTS-002", Level: Must, Capability: CapEvents, Clause: "An exit while the driver process is dead is streamed exactly once, with its code, to a subscriber that resumes after the last event it saw on the relaunched driver", Run: func(ctx context.Context, s *Session) error {
			since := time.Now()
			c, err := s.create(ctx, "evr", opts{probe: []string{"ready-sleep", "1", "7"}})
			if err != nil {
				return err
			}
			l := &eventLog{id: c.ID}
			s.follow(ctx, l, &driver.EventsRequest{Since: since})
			if err := s.client.Start(ctx, c.ID); err != nil {
				return err
			}
			if err := c.Stdout.waitFor(ctx, "ready"); err != nil {
				return err
			}
			if err := l.await(ctx, "create", "start"); err != nil {
				return err
			}
			if err := s.killDriver(ctx); err != nil {
				return err
			}
			_ = l.stop()                // cut off by the driver's death
			time.Sleep(2 * time.Second) // the container exits meanwhile
			if err := s.relaunch(ctx); err != nil {
				return err
			}
			s.follow(ctx, l, &driver.EventsRequest{After: l.last})
			if err := l.await(ctx, "create", "start", "exit=7"); err != nil {
				return fmt.Errorf("after the relaunch: %w", err)
			}
			if err := c.delete(ctx); err != nil {
				return err
			}
			if err := l.await(ctx, "create", "start", "exit=7", "delete"); err != nil {
				return err
			}
			return l.stop()
		}},
		{ID: "EVENTS-003", Level: Must, Capability: CapEvents, Clause: "Events streams exec, pause and resume; an exec's exit comes before its container's; a stream resumed from a cursor repeats nothing", Run: func(ctx context.Context, s *Session) error {
			if !s.info.Capabilities.Exec || !s.info.Capabilities.Pause {
				return skipf("needs the exec and pause capabilities")
			}
			since := time.Now()
			c, err := s.runReady(ctx, "evx", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			l := &eventLog{id: c.ID}
			s.follow(ctx, l, &driver.EventsRequest{Since: since})
			if _, err := s.execProbe(ctx, c, "ex1", false, "exit", "3"); err != nil {
				return err
			}
			if _, err := s.waitExec(ctx, c, "ex1"); err != nil {
				return err
			}
			if _, err := s.execProbe(ctx, c, "ex2", false, "sleep", "60"); err != nil {
				return err
			}
			if err := s.client.Pause(ctx, c.ID); err != nil {
				return err
			}
			if err := s.client.Resume(ctx, c.ID); err != nil {
				return err
			}
			if err := l.await(ctx, "create", "start", "exec:ex1", "exit:ex1=3", "exec:ex2", "pause", "resume"); err != nil {
				return err
			}
			if err := l.stop(); err != nil {
				return err
			}
			s.follow(ctx, l, &driver.EventsRequest{After: l.last})
			if _, err := c.sigkill(ctx); err != nil {
				return err
			}
			if err := c.delete(ctx); err != nil {
				return err
			}
			if err := l.await(ctx, "create", "start", "exec:ex1", "exit:ex1=3", "exec:ex2", "pause", "resume", "exit:ex2", "exit=137", "delete"); err != nil {
				return err
			}
			return l.stop()
		}},
	}
}
