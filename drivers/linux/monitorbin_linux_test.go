package linux

import (
	"os"
	"path/filepath"
	"testing"
)

// The driver starts monitors from rtd-linux-monitor when it is installed
// next to the driver binary, and from itself otherwise.
func TestMonitorBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "rtd-driver-linux")
	if got := monitorBinary(exe); got != exe {
		t.Errorf("without %s: %s, want the driver binary", MonitorBinary, got)
	}
	mon := filepath.Join(dir, MonitorBinary)
	if err := os.WriteFile(mon, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := monitorBinary(exe); got != exe {
		t.Errorf("with a non-executable %s: %s, want the driver binary", MonitorBinary, got)
	}
	if err := os.Chmod(mon, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := monitorBinary(exe); got != mon {
		t.Errorf("monitorBinary = %s, want %s", got, mon)
	}
}
