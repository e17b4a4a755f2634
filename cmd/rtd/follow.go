package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/logfile"
)

// followPoll is how often a followed log is read again.
const followPoll = 100 * time.Millisecond

// logView is how a container's log is shown: stdout records to stdout,
// stderr records to stderr (kit/logfile), with the options of rtd logs.
type logView struct {
	stdout, stderr io.Writer
	opts           logfile.Options
	tail           int  // print only the last tail lines; -1: all
	fromEnd        bool // start at the log's current end (attach)
}

// showLog prints the log at path once (d nil) or, with d, follows it as it
// grows until the container exited (the rest is then printed), ctx is done
// or the view's Until passed. It returns the container's exit status when
// it followed it to its end.
func showLog(ctx context.Context, d *core.Plugin, id, path string, v logView) (*driver.ExitStatus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	skip := 0
	if v.tail >= 0 {
		count := logfile.NewPrinter(nil, nil, v.opts, 0)
		if err := count.Copy(logfile.NewReader(f)); err != nil {
			return nil, err
		}
		skip = max(count.Lines-v.tail, 0)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	r := logfile.NewReader(f)
	if v.fromEnd {
		if err := logfile.NewPrinter(nil, nil, v.opts, 0).Copy(r); err != nil {
			return nil, err
		}
	}
	p := logfile.NewPrinter(v.stdout, v.stderr, v.opts, skip)
	if d == nil {
		return nil, p.Copy(r)
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
		if err := p.Copy(r); err != nil {
			return nil, err
		}
		if until := v.opts.Until; !until.IsZero() && time.Now().After(until) {
			return nil, nil
		}
		select {
		case res := <-done:
			if res.err != nil {
				return nil, res.err
			}
			return res.st, p.Copy(r)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}
