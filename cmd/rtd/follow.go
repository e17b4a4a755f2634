package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// followPoll is how often a followed log is read again.
const followPoll = 100 * time.Millisecond

// followLog copies the log file at path to w as it grows, until the
// container has exited (then what is left is copied) or ctx is done. It
// returns the container's exit status.
func followLog(ctx context.Context, d *core.Plugin, id, path string, w io.Writer) (*driver.ExitStatus, error) {
	return followLogFrom(ctx, d, id, path, w, false)
}

// followLogFrom is followLog from the log's current end when fromEnd (what
// attach shows: output from now on).
func followLogFrom(ctx context.Context, d *core.Plugin, id, path string, w io.Writer, fromEnd bool) (*driver.ExitStatus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fromEnd {
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			return nil, err
		}
	}
	type result struct {
		st  *driver.ExitStatus
		err error
	}
	done := make(chan result, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		st, err := d.Wait(wctx, &driver.WaitRequest{ID: id})
		done <- result{st, err}
	}()
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return nil, err
		}
		select {
		case r := <-done:
			if r.err != nil {
				return nil, r.err
			}
			if _, err := io.Copy(w, f); err != nil {
				return nil, err
			}
			return r.st, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}
