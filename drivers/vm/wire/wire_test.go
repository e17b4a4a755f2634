package wire

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestReadLineStopsAtTheNewline(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLine(&buf, Header{Kind: KindStdio, ID: "c1", Stream: Stdout}); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("PRI * HTTP/2.0") // what gRPC sends next on a stream
	var h Header
	if err := ReadLine(&buf, &h); err != nil {
		t.Fatal(err)
	}
	if h.Kind != KindStdio || h.ID != "c1" || h.Stream != Stdout {
		t.Fatalf("header %+v", h)
	}
	rest, _ := io.ReadAll(&buf)
	if string(rest) != "PRI * HTTP/2.0" {
		t.Fatalf("ReadLine consumed past its line: rest %q", rest)
	}
}

func TestReadLineErrors(t *testing.T) {
	var h Header
	if err := ReadLine(strings.NewReader(""), &h); err != io.EOF {
		t.Errorf("empty stream: %v, want EOF", err)
	}
	if err := ReadLine(strings.NewReader(`{"Kind":`), &h); err == nil {
		t.Error("truncated line accepted")
	}
	if err := ReadLine(strings.NewReader("not json\n"), &h); err == nil {
		t.Error("malformed line accepted")
	}
}

func TestIOPathSeparatesInitAndExecs(t *testing.T) {
	if IOPath("c", "", Stdout) == IOPath("c", "init", Stdout) {
		t.Error("the init process and an exec named init share a FIFO")
	}
	if got := BindSource(2); got != GuestBinds+"/2" {
		t.Errorf("BindSource(2) = %q", got)
	}
}
