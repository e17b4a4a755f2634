package oneproc

import (
	"os"
	"runtime"
	"testing"
)

// The test binary imports the package, so its init ran: one P, unless the
// environment said otherwise; Restore gives the runtime's choice back.
func TestOneProcUnlessEnvironmentSays(t *testing.T) {
	if v, set := os.LookupEnv("GOMAXPROCS"); set {
		if prev != 0 {
			t.Fatalf("GOMAXPROCS=%s in the environment, but init changed it (prev %d)", v, prev)
		}
		return
	}
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS after init = %d, want 1", got)
	}
	Restore()
	defer runtime.GOMAXPROCS(1)
	if got := runtime.GOMAXPROCS(0); got != prev || prev < 1 {
		t.Fatalf("GOMAXPROCS after Restore = %d, want the runtime's %d", got, prev)
	}
}
