//go:build linux

package proc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSetCmdStdioLeavesNilUnset: a nil stream stays unset (the child reads
// /dev/null: EOF), a given one is the child's.
func TestSetCmdStdioLeavesNilUnset(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("sh", "-c", "cat; echo done")
	SetCmdStdio(cmd, nil, w, nil)
	if cmd.Stdin != nil || cmd.Stderr != nil {
		t.Fatalf("nil streams were assigned: stdin %#v, stderr %#v", cmd.Stdin, cmd.Stderr)
	}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out := make([]byte, 64)
	n, _ := r.Read(out)
	if got := strings.TrimSpace(string(out[:n])); got != "done" {
		t.Fatalf("child wrote %q to the given stdout, want done", got)
	}
}
