//go:build linux

package watch

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// CloseIO right after the caller wrote its input (ctr exec does exactly
// this) must still deliver that input, then end the workload's stdin.
func TestCloseIOKeepsBufferedInput(t *testing.T) {
	for i := 0; i < 20; i++ {
		fifo := filepath.Join(t.TempDir(), "stdin")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		// O_RDWR: open without waiting for the reader, and keep a writer
		// open, as a caller that never closes its end.
		wr, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var s stdio
		if _, err := wr.WriteString("from-stdin\n"); err != nil {
			t.Fatal(err)
		}
		s.copyInput(fifo, pw)
		s.closeInput()
		done := make(chan []byte)
		go func() { b, _ := io.ReadAll(pr); done <- b }()
		select {
		case b := <-done:
			if string(b) != "from-stdin\n" {
				t.Fatalf("try %d: the workload read %q, want the input written before CloseIO", i, b)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("stdin never ended after CloseIO")
		}
		wr.Close()
		pr.Close()
	}
}
