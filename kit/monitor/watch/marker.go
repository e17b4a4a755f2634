//go:build linux

package watch

import (
	"bytes"
	"io"
	"os"
)

// markReader passes an output stream on without its end marker, a
// per-workload nonce the workload writes after its last byte (the unikernel
// driver's guest does, after its program exited). Once every byte before
// the marker has been handed on (the pump calls Read again only after it
// wrote the last chunk), it writes one byte to ack: the workload, waiting
// on ack's other end, knows its output left the VM and may end.
type markReader struct {
	r      io.ReadCloser
	marker []byte
	ack    *os.File
	buf    []byte
	ready  []byte // to hand on
	tail   []byte // a possible start of the marker, held back
	found  bool   // the marker was seen
	ackDue bool   // ack once ready is handed on
	err    error  // r's error, after ready and tail
}

func newMarkReader(r io.ReadCloser, marker string, ack *os.File) *markReader {
	return &markReader{r: r, marker: []byte(marker), ack: ack, buf: make([]byte, 64<<10)}
}

func (m *markReader) Read(p []byte) (int, error) {
	for {
		if len(m.ready) > 0 {
			n := copy(p, m.ready)
			m.ready = m.ready[n:]
			return n, nil
		}
		if m.ackDue {
			m.ackDue = false
			if m.ack != nil {
				_, _ = m.ack.Write([]byte{1})
			}
		}
		if m.err != nil {
			if len(m.tail) > 0 {
				m.ready, m.tail = m.tail, nil
				continue
			}
			return 0, m.err
		}
		n, err := m.r.Read(m.buf)
		m.err = err
		data := m.buf[:n] // handed on before the next read
		if len(m.tail) > 0 {
			data = append(m.tail, data...)
			m.tail = nil
		}
		if m.found {
			m.ready = data
			continue
		}
		if i := bytes.Index(data, m.marker); i >= 0 {
			m.found, m.ackDue = true, true
			// Bytes after the marker (none from a well-behaved
			// workload) follow the ack.
			m.ready, m.tail = data[:i], append([]byte(nil), data[i+len(m.marker):]...)
			continue
		}
		k := heldBack(data, m.marker)
		m.ready, m.tail = data[:len(data)-k], append([]byte(nil), data[len(data)-k:]...)
	}
}

func (m *markReader) Close() error { return m.r.Close() }

// heldBack is the length of the longest end of data that begins marker.
func heldBack(data, marker []byte) int {
	for k := min(len(data), len(marker)-1); k > 0; k-- {
		if bytes.HasPrefix(marker, data[len(data)-k:]) {
			return k
		}
	}
	return 0
}
