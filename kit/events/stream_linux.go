//go:build linux

package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// pollInterval is how often an open stream looks for exit records and for
// lines other processes appended.
const pollInterval = 100 * time.Millisecond

// Stream implements driver.EventReplayer's EventsFrom (and with a nil req,
// driver.Driver's Events): it journals the exits recorded while no driver
// process looked, replays the journal from req's cursor, then streams new
// events until ctx is done or fn fails.
func (j *Journal) Stream(ctx context.Context, req *driver.EventsRequest, fn func(*driver.Event) error) error {
	if req == nil {
		req = &driver.EventsRequest{}
	}
	stop := j.subscribe()
	defer stop()
	r, err := j.openReader(req)
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	defer r.close()
	j.Derive()
	for {
		wake := j.woken()
		recs, err := r.next()
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		for _, rec := range recs {
			if r.last != 0 && rec.Seq > r.last+1 {
				j.log.Warn("events lost: the journal rotated more than once between two reads of this stream", "first", r.last+1, "last", rec.Seq-1)
			}
			r.last = rec.Seq
			if rec.Seq <= r.after || rec.Time.Before(req.Since) {
				continue
			}
			r.after = rec.Seq
			if err := fn(rec.event()); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(pollInterval):
		}
	}
}

// subscribe starts, for the first stream of this process, the loop that
// derives exits while streams are open.
func (j *Journal) subscribe() (stop func()) {
	j.mu.Lock()
	j.subs++
	if !j.looping {
		j.looping = true
		go j.deriveLoop()
	}
	j.mu.Unlock()
	return func() {
		j.mu.Lock()
		j.subs--
		j.mu.Unlock()
	}
}

func (j *Journal) deriveLoop() {
	for {
		time.Sleep(pollInterval)
		j.mu.Lock()
		if j.subs == 0 {
			j.looping = false
			j.mu.Unlock()
			return
		}
		j.mu.Unlock()
		j.Derive()
	}
}

// reader reads the journal's records in order across rotations.
type reader struct {
	j     *Journal
	path  string      // the current journal's path
	files []*os.File  // still to read; the last is the current journal (nil: none yet)
	buf   []byte      // a line not yet complete
	after uint64      // the last sequence number delivered (or skipped)
	last  uint64      // the last sequence number read
	done  os.FileInfo // the last journal file read to its end (nil: none)
}

// openReader opens the journal and its predecessor under the shared lock,
// so that no rotation falls between the two. Without a cursor, the stream
// starts after the last record.
func (j *Journal) openReader(req *driver.EventsRequest) (*reader, error) {
	unlock, err := j.lockJournal(unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r := &reader{j: j, path: filepath.Join(j.dir, logName), after: req.After}
	if req.IsZero() {
		last, err := j.last()
		if err != nil {
			return nil, err
		}
		r.after = last.Seq
	}
	for _, name := range []string{oldName, logName} {
		f, err := os.Open(filepath.Join(j.dir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			r.close()
			return nil, err
		}
		if f != nil || name == logName {
			r.files = append(r.files, f)
		}
	}
	return r, nil
}

func (r *reader) close() {
	for _, f := range r.files {
		if f != nil {
			f.Close()
		}
	}
}

// next returns the records available now.
func (r *reader) next() ([]record, error) {
	var out []record
	for {
		f := r.files[0]
		if f != nil {
			recs, err := r.drain(f)
			if err != nil {
				return nil, err
			}
			out = append(out, recs...)
		}
		if len(r.files) > 1 {
			r.advance()
			continue
		}
		// The current journal: rotated (or created) since it was opened?
		// The path is only ever renamed away, never removed.
		fi, err := os.Stat(r.path)
		if err != nil && (f == nil || !errors.Is(err, os.ErrNotExist)) {
			return out, nil
		}
		if f != nil {
			if cur, _ := f.Stat(); fi != nil && os.SameFile(fi, cur) {
				return out, nil
			}
			// Rotated: the appends to the old file all came before.
			recs, err := r.drain(f)
			if err != nil {
				return nil, err
			}
			out = append(out, recs...)
		}
		if !r.reopen() {
			return out, nil
		}
		r.advance()
	}
}

// reopen appends the files that follow the last one the reader finished:
// the predecessor of the current journal when the journal rotated again
// after that one (log.1 is not that one then; with none finished, any
// log.1 is new), and the current journal (nil when
// there is none now). Both are opened under the shared lock, so that no
// rotation falls between the two.
func (r *reader) reopen() bool {
	unlock, err := r.j.lockJournal(unix.LOCK_SH)
	if err != nil {
		return false
	}
	defer unlock()
	if old, err := os.Open(filepath.Join(r.j.dir, oldName)); err == nil {
		if oi, err := old.Stat(); err == nil && (r.done == nil || !os.SameFile(oi, r.done)) {
			r.files = append(r.files, old)
		} else {
			old.Close()
		}
	}
	nf, err := os.Open(r.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false
	}
	r.files = append(r.files, nf)
	return true
}

// advance drops the first file (read to its end).
func (r *reader) advance() {
	if f := r.files[0]; f != nil {
		r.done, _ = f.Stat()
		f.Close()
	}
	r.files = r.files[1:]
	r.buf = nil // a torn last line of a finished file is not an event
}

// drain reads f to its current end and parses the complete lines.
func (r *reader) drain(f *os.File) ([]record, error) {
	chunk := make([]byte, 64<<10)
	for {
		n, err := f.Read(chunk)
		r.buf = append(r.buf, chunk[:n]...)
		if err == io.EOF || (n == 0 && err == nil) {
			break
		}
		if err != nil && !errors.Is(err, syscall.EINTR) {
			return nil, err
		}
	}
	var out []record
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			return out, nil
		}
		line := r.buf[:i]
		r.buf = r.buf[i+1:]
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			continue // a line torn by a crash
		}
		out = append(out, rec)
	}
}
