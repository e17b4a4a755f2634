//go:build linux

package watch

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rtd-project/rtd/kit/logfile"
)

// The pump's cost per stream format: 50 MB through a pipe into a log file,
// as raw bytes (what every output was before kit/logfile) and as records.
// go test -run - -bench Pump ./kit/monitor/watch
func BenchmarkPumpRaw(b *testing.B)     { benchPump(b, 0) }
func BenchmarkPumpRecords(b *testing.B) { benchPump(b, logfile.Stdout) }

func benchPump(b *testing.B, stream byte) {
	const size = 50 << 20
	chunk := make([]byte, 4096) // what head -c writes per call
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "log")
		if err := logfile.Create(path); err != nil {
			b.Fatal(err)
		}
		dst, _, err := logfile.OpenOutput(path)
		if err != nil {
			b.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		go func() {
			for n := 0; n < size; n += len(chunk) {
				w.Write(chunk)
			}
			w.Close()
		}()
		pump(dst, r, stream)
		b.StopTimer()
		r.Close()
		dst.Close()
		b.StartTimer()
	}
}

// A log the pump wrote reads back as the workload's bytes, on its stream.
func TestPumpWritesRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := logfile.Create(path); err != nil {
		t.Fatal(err)
	}
	dst, records, err := logfile.OpenOutput(path)
	if err != nil || !records {
		t.Fatalf("OpenOutput of a new log: records=%v err=%v", records, err)
	}
	r, w, _ := os.Pipe()
	go func() { io.WriteString(w, "to stderr\n"); w.Close() }()
	pump(dst, r, logfile.Stderr)
	dst.Close()
	f, _ := os.Open(path)
	defer f.Close()
	rec, err := logfile.NewReader(f).Next()
	if err != nil || rec.Stream != logfile.Stderr || string(rec.Data) != "to stderr\n" || rec.Time.IsZero() {
		t.Fatalf("first record %+v, %v: want stderr's line with a time", rec, err)
	}
}
