package logfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Magic starts a log file in the record format.
const Magic = "\x00rtd-log 1\n"

// HeaderSize is the size of a record header.
const HeaderSize = 16

// MaxPayload bounds a record's payload; a larger length marks a file that is
// not (or no longer) in the record format.
const MaxPayload = 1 << 20

// recordMark is a record's first byte.
const recordMark = 0x1e

// Stream numbers in a record header.
const (
	Stdout byte = 1
	Stderr byte = 2
)

// Create creates the log file at path in the record format, or leaves an
// existing non-empty file as it is (a restarted container appends to its
// log, whatever its format).
func Create(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() == 0 {
		_, err = f.WriteString(Magic)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsRecords reports whether the file at path starts with Magic: output
// appended to it must be records.
func IsRecords(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [len(Magic)]byte
	n, _ := f.ReadAt(b[:], 0)
	return n == len(b) && string(b[:]) == Magic
}

// OpenOutput opens a host path for a workload's stdout or stderr: a FIFO
// read-write (the open never blocks and its reader sees EOF only when the
// writer closes it), anything else for appending. records says the file is
// a log in the record format (write with PutHeader).
func OpenOutput(path string) (f *os.File, records bool, err error) {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		f, err = os.OpenFile(path, os.O_RDWR, 0)
		return f, false, err
	}
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() >= int64(len(Magic)) {
		records = IsRecords(path)
	}
	return f, records, nil
}

// PutHeader fills b[:HeaderSize] with the header of a record of n payload
// bytes of stream read at t. The payload follows in b[HeaderSize:].
func PutHeader(b []byte, stream byte, n int, t time.Time) {
	b[0], b[1], b[2], b[3] = recordMark, stream, 0, 0
	binary.LittleEndian.PutUint32(b[4:8], uint32(n))
	binary.LittleEndian.PutUint64(b[8:16], uint64(t.UnixNano()))
}

// Append writes one record of p (at most MaxPayload bytes) to w, in one
// Write. For tests and writers that do not own a read buffer.
func Append(w io.Writer, stream byte, t time.Time, p []byte) error {
	if len(p) > MaxPayload {
		return fmt.Errorf("log record of %d bytes: at most %d", len(p), MaxPayload)
	}
	b := make([]byte, HeaderSize+len(p))
	PutHeader(b, stream, len(p), t)
	copy(b[HeaderSize:], p)
	_, err := w.Write(b)
	return err
}

// Record is one chunk of a workload's output.
type Record struct {
	Stream byte      // Stdout or Stderr
	Time   time.Time // when the monitor read it; zero in a raw log
	Data   []byte    // valid until the next call of Next
}

// Reader reads the records of a log file as it grows: at the end of what
// is written so far Next returns io.EOF and keeps a partly written record,
// so a later Next (after the writer appended more) goes on from it.
type Reader struct {
	r       io.Reader
	buf     []byte // unread bytes buf[off:]
	off     int
	started bool // the format is known
	raw     bool // no Magic, or a record that did not parse: bytes as stdout
}

// NewReader reads a log from r (a file at its start).
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// fill reads more of the file after what is buffered; it reports whether
// bytes were added. What is left in the buffer when fill is called is at
// most one incomplete record: moving it to the front is cheap.
func (r *Reader) fill() (bool, error) {
	if r.off > 0 {
		r.buf = append(r.buf[:0], r.buf[r.off:]...)
		r.off = 0
	}
	if cap(r.buf)-len(r.buf) < readSize {
		nb := make([]byte, len(r.buf), 2*cap(r.buf)+readSize)
		copy(nb, r.buf)
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n > 0, err
}

// readSize is the least room a read of the log is given.
const readSize = 64 * 1024

// Next returns the next record, or io.EOF at the current end of the log.
func (r *Reader) Next() (Record, error) {
	for {
		rec, ok := r.parse()
		if ok {
			return rec, nil
		}
		more, err := r.fill()
		if err != nil {
			return Record{}, err
		}
		if !more {
			return Record{}, io.EOF
		}
	}
}

// parse takes one record from the buffer, or reports that more bytes are
// needed.
func (r *Reader) parse() (Record, bool) {
	b := r.buf[r.off:]
	if !r.started {
		m := min(len(b), len(Magic))
		if string(b[:m]) != Magic[:m] {
			r.started, r.raw = true, true
		} else if m == len(Magic) {
			r.started = true
			r.off += len(Magic)
			b = r.buf[r.off:]
		} else {
			return Record{}, false
		}
	}
	if r.raw {
		if len(b) == 0 {
			return Record{}, false
		}
		r.off = len(r.buf)
		return Record{Stream: Stdout, Data: b}, true
	}
	if len(b) == 0 {
		return Record{}, false
	}
	if len(b) < HeaderSize {
		if !validPrefix(b) {
			r.raw = true
			return r.parse()
		}
		return Record{}, false
	}
	n := int(binary.LittleEndian.Uint32(b[4:8]))
	if !validPrefix(b[:4]) || n > MaxPayload {
		r.raw = true
		return r.parse()
	}
	if len(b) < HeaderSize+n {
		return Record{}, false
	}
	rec := Record{
		Stream: b[1],
		Time:   time.Unix(0, int64(binary.LittleEndian.Uint64(b[8:16]))),
		Data:   b[HeaderSize : HeaderSize+n],
	}
	r.off += HeaderSize + n
	return rec, true
}

// validPrefix reports whether b (up to 4 bytes) can start a record header.
func validPrefix(b []byte) bool {
	want := [4]byte{recordMark, 0, 0, 0}
	for i, c := range b[:min(len(b), 4)] {
		switch {
		case i == 1 && (c == Stdout || c == Stderr):
		case i == 1:
			return false
		case c != want[i]:
			return false
		}
	}
	return true
}

// ErrTruncated is returned by Finish when the log ends inside a record.
var ErrTruncated = errors.New("log ends inside a record")

// Finish reports, after Next returned io.EOF for the last time, whether
// bytes remain that do not make a whole record (a writer stopped in the
// middle of one).
func (r *Reader) Finish() error {
	if len(r.buf) > r.off {
		return ErrTruncated
	}
	return nil
}
