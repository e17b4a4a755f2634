package vm

import (
	"os"
	"sync"
	"time"

	"github.com/rtd-project/rtd/driver"
	imon "github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// ctr is one container a monitor runs in its VM: the only one of a
// single-container VM, or one of a pod's.
type ctr struct {
	req imon.Request
	dir string // its container dir: exit.json and exec records go there
	io  *procIO
	// share is the container's dir in the pod share, on the host ("" for a
	// single-container VM, whose images are disks).
	share string
	// ownPID says the container has a guest PID namespace of its own,
	// which a later container of the pod may join (podpid_linux.go).
	ownPID bool

	execs map[string]*execRecord // under monitor.mu

	once   sync.Once
	status driver.ExitStatus
	exited chan struct{} // closed once the exit status is known
	// unwritten says exit.json could not be written (a full disk): the
	// monitor stays, serving the status to Wait, until a retry succeeds.
	unwritten bool
}

func newCtr(req imon.Request, dir string) *ctr {
	return &ctr{req: req, dir: dir, execs: map[string]*execRecord{}, exited: make(chan struct{})}
}

// execRecord is one exec'd process.
type execRecord struct {
	io     *procIO
	status driver.ExitStatus
	done   chan struct{} // closed once its exit status is recorded
}

// stopped reports whether the container's end is recorded.
func (c *ctr) stopped() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// finish records the container's exit status, once; it reports whether
// this call recorded it.
func (c *ctr) finish(st driver.ExitStatus, log interface{ Error(string, ...any) }) (first bool) {
	c.once.Do(func() {
		first = true
		// The guest's clock runs ahead of the host's under TCG load: an
		// exit is never stamped later than the host's now.
		if now := time.Now().UTC(); st.ExitedAt.IsZero() || st.ExitedAt.After(now) {
			st.ExitedAt = now
		}
		c.status = st
		if err := watch.WriteExit(c.dir, watch.ExitStatus(st)); err != nil {
			log.Error("write exit status; keeping it in memory for Wait", "id", c.req.ID, "error", err)
			c.unwritten = true
		}
		close(c.exited)
	})
	return first
}

// holdStatus keeps a monitor whose exit.json could not be written serving
// the status to Wait, retrying the write, until it succeeds or the
// container dir is gone (deleted).
func (c *ctr) holdStatus() {
	for {
		time.Sleep(watch.RetryInterval)
		if _, err := os.Stat(c.dir); err != nil {
			return
		}
		if watch.WriteExit(c.dir, watch.ExitStatus(c.status)) == nil {
			return
		}
	}
}

// lookup returns the container id of the monitor's VM, NotFound when it
// has none of that id.
func (m *monitor) lookup(op, id string) (*ctr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.ctrs[id]; c != nil {
		return c, nil
	}
	return nil, driver.NotFoundf("%s %s: no such container in this vm", op, id)
}

// waitExecs gives exec'd processes (they end with their container) the
// time to have their status recorded.
func (m *monitor) waitExecs(limit time.Duration, cs ...*ctr) {
	m.mu.Lock()
	var recs []*execRecord
	for _, c := range cs {
		for _, r := range c.execs {
			recs = append(recs, r)
		}
	}
	m.mu.Unlock()
	deadline := time.After(limit)
	for _, r := range recs {
		select {
		case <-r.done:
		case <-deadline:
			return
		}
	}
}
