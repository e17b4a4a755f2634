//go:build linux

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// Files of the journal, under STATE/events/.
const (
	logName     = "log"          // the current journal: one JSON record per line
	oldName     = "log.1"        // the previous one, after a rotation
	lockName    = "lock"         // flock: exclusive to append, shared to open readers
	pendingName = "pending.json" // the append in progress (write-ahead)
)

// Files in a process dir.
const (
	lockFile = "events.lock" // flock: held by a driver call that journals an event
	// Markers: the event was journaled. create and exec hold the pid.
	markerCreate = "event.create"
	markerExec   = "event.exec"
	markerExit   = "event.exit"
	markerOOM    = "event.oom"
)

// defaultMaxSize is the size at which the journal is rotated; the journal
// and its predecessor keep at least this much (~5000 events).
const defaultMaxSize = 1 << 20

// record is one line of the journal.
type record struct {
	Seq    uint64             `json:"seq"`
	Time   time.Time          `json:"time"`
	Type   driver.EventType   `json:"type"`
	ID     string             `json:"id"`
	ExecID string             `json:"exec_id,omitempty"`
	Pid    uint32             `json:"pid,omitempty"`
	Exit   *driver.ExitStatus `json:"exit,omitempty"`
}

func (r *record) event() *driver.Event {
	return &driver.Event{Type: r.Type, ID: r.ID, ExecID: r.ExecID, Pid: r.Pid, Exit: r.Exit, Timestamp: r.Time, Seq: r.Seq}
}

// pending is the write-ahead record of an append: the line and the marker
// that says it was made.
type pending struct {
	Record record
	Marker string `json:",omitempty"`
	Data   string `json:",omitempty"`
}

// Journal is the event journal of one driver state directory. It is safe
// for concurrent use, also by several processes.
type Journal struct {
	root    string // the driver's state dir
	dir     string // root/events
	log     hclog.Logger
	maxSize int64

	mu      sync.Mutex
	subs    int           // open streams of this process
	looping bool          // deriveLoop runs
	wake    chan struct{} // closed and replaced when this process appended
}

// New returns the journal of the driver state directory root.
func New(root string, log hclog.Logger) *Journal {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Journal{root: root, dir: filepath.Join(root, "events"), log: log, maxSize: defaultMaxSize, wake: make(chan struct{})}
}

// procDir is the process dir of a container's init (execID "") or exec.
func (j *Journal) procDir(id, execID string) string {
	if execID == "" {
		return filepath.Join(j.root, "c", id)
	}
	return filepath.Join(j.root, "c", id, "exec", execID)
}

// Lock locks the process dir of (id, execID) against the derivation of its
// exit: a driver call holds it from before it acts until its event is
// journaled, so that the exit it may cause is journaled after it. The dir
// must exist. The returned function unlocks.
func (j *Journal) Lock(id, execID string) (unlock func()) {
	f, err := os.OpenFile(filepath.Join(j.procDir(id, execID), lockFile), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		j.log.Warn("event lock", "id", id, "exec", execID, "error", err)
		return func() {}
	}
	if err := flock(f, unix.LOCK_EX); err != nil {
		j.log.Warn("event lock", "id", id, "exec", execID, "error", err)
	}
	return func() { f.Close() }
}

// tryLock is Lock without waiting: ok is false while a driver call holds it.
func tryLock(dir string) (unlock func(), ok bool) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// Record journals an event of a driver call that succeeded: create, start,
// exec, pause, resume. Create and exec leave a marker in the process dir,
// which the derivation of the process's exit requires. Exits the monitors
// recorded before this call are journaled first (they happened before its
// event: an exec that was waited for ends before the next exec starts),
// not left to the streams' next derivation pass.
func (j *Journal) Record(ev driver.Event) error {
	if ev.Type != driver.EventCreate {
		_ = j.deriveContainer(ev.ID, nil)
	}
	rec := record{Type: ev.Type, ID: ev.ID, ExecID: ev.ExecID, Pid: ev.Pid, Exit: ev.Exit}
	marker := ""
	switch ev.Type {
	case driver.EventCreate:
		marker = filepath.Join(j.procDir(ev.ID, ""), markerCreate)
	case driver.EventExec:
		marker = filepath.Join(j.procDir(ev.ID, ev.ExecID), markerExec)
	}
	_, err := j.append(rec, marker, strconv.FormatUint(uint64(ev.Pid), 10), false)
	if err != nil {
		return fmt.Errorf("journal %s event of %s: %w", ev.Type, ev.ID, err)
	}
	return nil
}

// lockJournal takes the journal's flock (unix.LOCK_EX or LOCK_SH).
func (j *Journal) lockJournal(how int) (unlock func(), err error) {
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(j.dir, lockName), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f, how); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// append journals rec with the next sequence number and creates marker
// (with data) in the same step. With once, nothing happens if marker exists
// or its dir is gone (the event was journaled, or its process deleted).
// It reports whether rec was appended.
func (j *Journal) append(rec record, marker, data string, once bool) (bool, error) {
	unlock, err := j.lockJournal(unix.LOCK_EX)
	if err != nil {
		return false, err
	}
	defer unlock()
	last, err := j.recover()
	if err != nil {
		return false, err
	}
	if once {
		if _, err := os.Stat(marker); err == nil {
			return false, nil
		}
		if _, err := os.Stat(filepath.Dir(marker)); err != nil {
			return false, nil
		}
	}
	rec.Seq = last.Seq + 1
	rec.Time = time.Now().UTC()
	if rec.Time.Before(last.Time) {
		rec.Time = last.Time
	}
	p := pending{Record: rec, Marker: marker, Data: data}
	if err := writeAtomic(filepath.Join(j.dir, pendingName), p); err != nil {
		return false, err
	}
	if err := j.complete(p); err != nil {
		return false, err
	}
	j.notify()
	return true, nil
}

// recover completes an append that a killed process left half done, and
// returns the last record of the journal. Callers hold the journal's lock.
func (j *Journal) recover() (record, error) {
	last, err := j.last()
	if err != nil {
		return record{}, err
	}
	var p pending
	data, err := os.ReadFile(filepath.Join(j.dir, pendingName))
	if errors.Is(err, os.ErrNotExist) {
		return last, nil
	}
	if err != nil {
		return record{}, err
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Record.Seq != last.Seq+1 {
		// Unreadable, or its line was written: only the marker may be missing.
		if err == nil && p.Record.Seq == last.Seq {
			createMarker(p.Marker, p.Data)
		}
		return last, os.Remove(filepath.Join(j.dir, pendingName))
	}
	j.log.Info("completing an event append interrupted by a crash", "seq", p.Record.Seq, "type", p.Record.Type, "id", p.Record.ID)
	if err := j.complete(p); err != nil {
		return record{}, err
	}
	return p.Record, nil
}

// complete writes the line and the marker of p, then drops p.
func (j *Journal) complete(p pending) error {
	line, err := json.Marshal(p.Record)
	if err != nil {
		return err
	}
	path := filepath.Join(j.dir, logName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	var size int64
	if fi, serr := f.Stat(); serr == nil {
		size = fi.Size()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	createMarker(p.Marker, p.Data)
	if err := os.Remove(filepath.Join(j.dir, pendingName)); err != nil {
		return err
	}
	if size >= j.maxSize {
		// Readers notice the new inode at the path and finish the old one.
		return os.Rename(path, filepath.Join(j.dir, oldName))
	}
	return nil
}

// createMarker creates a marker file in a process dir that still exists.
func createMarker(path, data string) {
	if path != "" {
		_ = os.WriteFile(path, []byte(data), 0o600)
	}
}

// last returns the journal's last record (zero for an empty journal).
// Callers hold the journal's lock.
func (j *Journal) last() (record, error) {
	for _, name := range []string{logName, oldName} {
		rec, ok, err := lastRecord(filepath.Join(j.dir, name))
		if err != nil || ok {
			return rec, err
		}
	}
	return record{}, nil
}

// lastRecord reads the last complete line of a journal file.
func lastRecord(path string) (record, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return record{}, false, err
	}
	for chunk := int64(4096); ; chunk *= 4 {
		off := max(fi.Size()-chunk, 0)
		buf := make([]byte, fi.Size()-off)
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return record{}, false, err
		}
		buf = bytes.TrimRight(buf, "\n")
		i := bytes.LastIndexByte(buf, '\n')
		if i < 0 && off > 0 {
			continue // the last line is longer than the chunk
		}
		if len(buf) == 0 {
			return record{}, false, nil
		}
		var rec record
		if err := json.Unmarshal(buf[i+1:], &rec); err != nil {
			return record{}, false, fmt.Errorf("journal %s: last line unreadable: %w", path, err)
		}
		return rec, true, nil
	}
}

// writeAtomic writes v as JSON through a temporary file and a rename.
func writeAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// notify wakes this process's streams.
func (j *Journal) notify() {
	j.mu.Lock()
	close(j.wake)
	j.wake = make(chan struct{})
	j.mu.Unlock()
}

// woken returns a channel closed at this process's next append.
func (j *Journal) woken() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.wake
}
