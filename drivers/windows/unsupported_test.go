//go:build !windows

package windows

import (
	"context"
	"runtime"
	"testing"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
)

func TestUnsupportedInfo(t *testing.T) {
	ctx := context.Background()
	for mode, class := range map[string]driver.IsolationClass{"": driver.IsolationProcess, "hyperv": driver.IsolationVM, "bogus": driver.IsolationProcess} {
		i, err := New(Options{Isolation: mode}).Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i.Health.Ready || i.Health.Reason != "requires windows (this is "+runtime.GOOS+")" {
			t.Errorf("health %+v", i.Health)
		}
		iso := i.Isolation
		if iso.Class != class || iso.SharesHostKernel != (class == driver.IsolationProcess) ||
			iso.SyscallFilter == "" || iso.CapabilityModel == "" || iso.ResourceAccounting == "" {
			t.Errorf("mode %q: isolation %+v", mode, iso)
		}
		if !iso.SharesHostKernel && iso.GuestKernel == "" {
			t.Errorf("mode %q: no guest kernel named", mode)
		}
		if i.Name != "windows" || i.Version == "" || i.ContractVersion != driver.ContractVersion || i.OS != runtime.GOOS {
			t.Errorf("info %+v", i)
		}
	}
}

// TestUnsupportedCallsAreNotImplemented checks every method of the
// contract answers NotImplemented naming the OS (drivertest.Placeholder).
func TestUnsupportedCallsAreNotImplemented(t *testing.T) {
	drivertest.Placeholder(t, New(Options{}), "windows")
}
