package vmm

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCheckNetnsRefusesTheHosts: the namespace this process runs in (the
// host's) is refused whatever /proc/1 lets us read; a namespace of its own
// passes; a file that is no namespace is refused.
func TestCheckNetnsRefusesTheHosts(t *testing.T) {
	if err := CheckNetns("/proc/self/ns/net"); err == nil || !strings.Contains(err.Error(), "host's") {
		t.Errorf("the host's namespace: want refused, got %v", err)
	}
	if err := CheckNetns("/etc/hostname"); err == nil {
		t.Error("a regular file passed as a network namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("a namespace of its own needs root (unshare -n)")
	}
	cmd := exec.Command("unshare", "-n", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	path := fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
	// unshare execs sleep once the namespace is made.
	for i := 0; i < 100; i++ {
		if a, b := readlink(path), readlink("/proc/self/ns/net"); a != "" && a != b {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := CheckNetns(path); err != nil {
		t.Errorf("a namespace of its own: %v", err)
	}
}

func readlink(p string) string {
	s, _ := os.Readlink(p)
	return s
}
