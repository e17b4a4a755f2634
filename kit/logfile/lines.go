package logfile

import (
	"bufio"
	"bytes"
	"io"
	"time"
)

// TimeFormat is how -t prints a line's time: docker's (RFC 3339 with nine
// fraction digits, UTC), followed by one space.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Options select and format the lines of a log.
type Options struct {
	Timestamps bool      // prefix each line with its time (TimeFormat)
	Since      time.Time // lines read before it are left out (zero: none)
	Until      time.Time // lines read after it are left out (zero: none)
	// Details prefixes each line (after its time) with Attrs and a space,
	// as docker logs --details (a space alone when Attrs is empty).
	Details bool
	Attrs   string
}

// keep reports whether a line read at t passes the time bounds. Since and
// Until are inclusive, as docker's.
func (o Options) keep(t time.Time) bool {
	return (o.Since.IsZero() || !t.Before(o.Since)) && (o.Until.IsZero() || !t.After(o.Until))
}

// Printer writes the lines of records to one writer per stream. A line's
// time is that of the record its first byte came in; a line continued in
// later records is one line. Lines of stdout and stderr are tracked apart
// (their records interleave).
type Printer struct {
	opts  Options
	out   [3]*bufio.Writer // by stream; nil: count only
	skip  int
	state [3]lineState
	last  byte
	// Lines counts the lines begun so far that passed the time bounds
	// (skipped ones included).
	Lines int
}

type lineState struct{ mid, keep bool }

// NewPrinter returns a printer to stdout and stderr (both nil: it only
// counts Lines) that leaves out the first skip lines passing the bounds
// (what --tail does, with the count of a first pass).
func NewPrinter(stdout, stderr io.Writer, opts Options, skip int) *Printer {
	p := &Printer{opts: opts, skip: skip}
	if stdout != nil {
		p.out[Stdout] = bufio.NewWriterSize(stdout, 32*1024)
	}
	if stderr != nil {
		p.out[Stderr] = bufio.NewWriterSize(stderr, 32*1024)
	}
	return p
}

// Write prints the lines (or parts of lines) of rec.
func (p *Printer) Write(rec Record) error {
	s := rec.Stream
	if s != Stdout && s != Stderr {
		return nil
	}
	w := p.out[s]
	if p.last != 0 && p.last != s && p.out[p.last] != nil {
		// The other stream's bytes come first on a shared terminal.
		if err := p.out[p.last].Flush(); err != nil {
			return err
		}
	}
	p.last = s
	st := &p.state[s]
	data := rec.Data
	for len(data) > 0 {
		if !st.mid {
			st.mid = true
			st.keep = p.opts.keep(rec.Time)
			if st.keep {
				p.Lines++
				if p.skip > 0 {
					p.skip--
					st.keep = false
				}
			}
			if st.keep && w != nil && p.opts.Timestamps {
				var b [40]byte
				w.Write(rec.Time.UTC().AppendFormat(b[:0], TimeFormat))
				w.WriteByte(' ')
			}
			if st.keep && w != nil && p.opts.Details {
				w.WriteString(p.opts.Attrs)
				w.WriteByte(' ')
			}
		}
		seg := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			seg, st.mid = data[:i+1], false
		}
		data = data[len(seg):]
		if st.keep && w != nil {
			if _, err := w.Write(seg); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes out what is buffered for both streams.
func (p *Printer) Flush() error {
	for _, w := range p.out {
		if w != nil {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Copy prints every record r has now and flushes; it returns at the
// current end of the log (io.EOF from r is not an error).
func (p *Printer) Copy(r *Reader) error {
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return p.Flush()
		}
		if err != nil {
			p.Flush()
			return err
		}
		if err := p.Write(rec); err != nil {
			return err
		}
	}
}
