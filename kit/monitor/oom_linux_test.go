//go:build linux

package monitor

import (
	"os"
	"strings"
	"testing"
)

// OOMFiles names the file of the process's own memory cgroup that holds
// the "oom_kill" counter the watch reads; a process that is gone has none.
func TestOOMFilesNamesTheCounterFile(t *testing.T) {
	files := OOMFiles(os.Getpid())
	if len(files) != 1 {
		t.Fatalf("OOMFiles(self) = %v, want one file", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Skipf("no memory controller here (%v)", err)
	}
	if !strings.Contains(string(data), "oom_kill") {
		t.Errorf("%s has no oom_kill counter:\n%s", files[0], data)
	}
	if got := OOMFiles(1 << 30); got != nil {
		t.Errorf("OOMFiles(no such pid) = %v, want nil", got)
	}
}
