package vmm

import "testing"

func TestMeasureTSC(t *testing.T) {
	got := measureTSCKHz()
	if got == 0 {
		t.Fatal("no plausible TSC rate measured")
	}
	t.Logf("measured TSC: %d kHz", got)
}
