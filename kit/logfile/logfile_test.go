package logfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 22, 0, 0, 123456789, time.UTC)

// logOf returns a log in the record format holding recs.
func logOf(t *testing.T, recs ...Record) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(Magic)
	for _, r := range recs {
		if err := Append(&b, r.Stream, r.Time, r.Data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func readAll(t *testing.T, data []byte) []Record {
	t.Helper()
	r := NewReader(bytes.NewReader(data))
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = bytes.Clone(rec.Data)
		out = append(out, rec)
	}
	if err := r.Finish(); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return out
}

func TestRecordsRoundTrip(t *testing.T) {
	in := []Record{
		{Stdout, t0, []byte("out 1\n")},
		{Stderr, t0.Add(time.Second), []byte("err 1\n")},
		{Stdout, t0.Add(2 * time.Second), bytes.Repeat([]byte("x"), 200000)},
	}
	out := readAll(t, logOf(t, in...))
	if len(out) != len(in) {
		t.Fatalf("read %d records, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Stream != in[i].Stream || !out[i].Time.Equal(in[i].Time) || !bytes.Equal(out[i].Data, in[i].Data) {
			t.Errorf("record %d: got stream %d time %v %d bytes, want stream %d time %v %d bytes",
				i, out[i].Stream, out[i].Time, len(out[i].Data), in[i].Stream, in[i].Time, len(in[i].Data))
		}
	}
}

// A log written before the record format (raw bytes) reads as stdout.
func TestRawLogReadsAsStdout(t *testing.T) {
	out := readAll(t, []byte("hello\nworld\n"))
	var got []byte
	for _, r := range out {
		if r.Stream != Stdout || !r.Time.IsZero() {
			t.Fatalf("raw record %+v: want stdout with no time", r)
		}
		got = append(got, r.Data...)
	}
	if string(got) != "hello\nworld\n" {
		t.Fatalf("raw log read as %q", got)
	}
}

// Bytes appended raw after records (a driver that does not know the
// format) are kept, as stdout.
func TestBrokenRecordFallsBackToRaw(t *testing.T) {
	data := append(logOf(t, Record{Stderr, t0, []byte("e\n")}), "plain text\n"...)
	out := readAll(t, data)
	if len(out) != 2 || out[0].Stream != Stderr || out[1].Stream != Stdout || string(out[1].Data) != "plain text\n" {
		t.Fatalf("got %+v", out)
	}
}

// A reader at the end of a growing file waits for a partly written record
// instead of losing it (rtd logs -f).
func TestReaderFollowsPartialRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := Create(path); err != nil {
		t.Fatal(err)
	}
	if !IsRecords(path) {
		t.Fatal("a created log is not in the record format")
	}
	full := logOf(t, Record{Stdout, t0, []byte("abcdef\n")})[len(Magic):]
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f)
	for _, cut := range []int{3, HeaderSize + 2} { // inside the header, inside the payload
		if _, err := w.Write(full[:cut]); err != nil {
			t.Fatal(err)
		}
		full = full[cut:]
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("%d bytes short: Next = %v, want io.EOF", len(full), err)
		}
	}
	if _, err := w.Write(full); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil || string(rec.Data) != "abcdef\n" || !rec.Time.Equal(t0) {
		t.Fatalf("Next = %+v, %v", rec, err)
	}
}

func TestCreateKeepsAnExistingLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("old raw output\n"), 0o600)
	if err := Create(path); err != nil {
		t.Fatal(err)
	}
	if IsRecords(path) {
		t.Fatal("Create turned an old raw log into a record log")
	}
	f, records, err := OpenOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if records {
		t.Fatal("OpenOutput says an old raw log takes records")
	}
}

func print(t *testing.T, data []byte, opts Options, skip int) (string, string) {
	t.Helper()
	var o, e strings.Builder
	p := NewPrinter(&o, &e, opts, skip)
	if err := p.Copy(NewReader(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String()
}

func TestPrinterStreamsTimestampsAndBounds(t *testing.T) {
	data := logOf(t,
		Record{Stdout, t0, []byte("one\ntw")},
		Record{Stderr, t0.Add(time.Second), []byte("oops\n")},
		Record{Stdout, t0.Add(2 * time.Second), []byte("o\nthree\n")},
	)
	o, e := print(t, data, Options{}, 0)
	if o != "one\ntwo\nthree\n" || e != "oops\n" {
		t.Fatalf("stdout %q stderr %q", o, e)
	}
	o, e = print(t, data, Options{Timestamps: true}, 0)
	want := "2026-12-07T22:00:00.123456789Z one\n2026-12-07T22:00:00.123456789Z two\n2026-12-07T22:00:02.123456789Z three\n"
	if o != want || e != "2026-12-07T22:00:01.123456789Z oops\n" {
		t.Fatalf("-t: stdout %q stderr %q", o, e)
	}
	// --details: the attributes after the time, once per line (a line
	// continued in a later record is one line).
	o, _ = print(t, data, Options{Timestamps: true, Details: true, Attrs: "a=1"}, 0)
	if !strings.HasPrefix(o, "2026-12-07T22:00:00.123456789Z a=1 one\n2026-12-07T22:00:00.123456789Z a=1 two\n") {
		t.Fatalf("-t --details: stdout %q", o)
	}
	if o, _ = print(t, data, Options{Details: true}, 0); o != " one\n two\n three\n" {
		t.Fatalf("--details without attributes: stdout %q", o)
	}
	// "two" began at t0: it is before a since of t0+1s, "three" is not.
	o, e = print(t, data, Options{Since: t0.Add(time.Second)}, 0)
	if o != "three\n" || e != "oops\n" {
		t.Fatalf("since: stdout %q stderr %q", o, e)
	}
	o, e = print(t, data, Options{Until: t0.Add(time.Second)}, 0)
	if o != "one\ntwo\n" || e != "oops\n" {
		t.Fatalf("until: stdout %q stderr %q", o, e)
	}
	count := NewPrinter(nil, nil, Options{}, 0)
	if err := count.Copy(NewReader(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if count.Lines != 4 {
		t.Fatalf("counted %d lines, want 4", count.Lines)
	}
	o, e = print(t, data, Options{}, count.Lines-2) // --tail 2
	if o != "three\n" || e != "oops\n" {
		t.Fatalf("tail 2: stdout %q stderr %q", o, e)
	}
}
