package watch

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// chunked reads in.
type chunked struct {
	chunks []string
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunked) Close() error { return nil }

// readAck says whether an ack byte is there to read.
func readAck(r *os.File) bool {
	_ = r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var b [1]byte
	n, _ := r.Read(b[:])
	return n == 1
}

// The marker is cut out wherever the reads split it, a prefix of it that is
// output is passed on, and the ack comes only after every byte before the
// marker was.
func TestMarkReaderStripsMarkerAndAcksAfterTheOutput(t *testing.T) {
	const marker = "<end:42>"
	for _, tc := range []struct {
		chunks       []string
		want, before string // all output; what was handed on at the ack
	}{
		{[]string{"hello", marker}, "hello", "hello"},
		{[]string{"hel", "lo<e", "nd:42>"}, "hello", "hello"},
		{[]string{"<en<end:4", "2>"}, "<en", "<en"},
		{[]string{"a<end:4", "b"}, "a<end:4b", ""}, // no marker: all passed on, no ack
		{[]string{marker}, "", ""},
		{[]string{"x" + marker + "y"}, "xy", "x"},
	} {
		ackR, ackW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		m := newMarkReader(&chunked{chunks: append([]string(nil), tc.chunks...)}, marker, ackW)
		var got bytes.Buffer
		acked := false
		buf := make([]byte, 3)
		for {
			n, err := m.Read(buf)
			if !acked && readAck(ackR) {
				acked = true
				if got.String() != tc.before {
					t.Errorf("%q: acked after %q was handed on, want after %q", tc.chunks, got.String(), tc.before)
				}
			}
			got.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if got.String() != tc.want {
			t.Errorf("%q: got %q, want %q", tc.chunks, got.String(), tc.want)
		}
		wantAck := strings.Contains(strings.Join(tc.chunks, ""), marker)
		if !acked {
			acked = readAck(ackR)
		}
		if acked != wantAck {
			t.Errorf("%q: acked %v, want %v", tc.chunks, acked, wantAck)
		}
		ackR.Close()
		ackW.Close()
	}
	// A large stream passes unchanged through many reads.
	data := bytes.Repeat([]byte("0123456789<end:4"), 100000)
	m := newMarkReader(io.NopCloser(iotest.HalfReader(bytes.NewReader(data))), marker, nil)
	out, err := io.ReadAll(m)
	if err != nil || !bytes.Equal(out, data) {
		t.Errorf("large stream: %d bytes, %v", len(out), err)
	}
}
