//go:build !freebsd

package freebsd

import (
	"context"
	"runtime"
	"testing"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
)

func TestUnsupportedInfo(t *testing.T) {
	i, err := New(Options{}).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if i.Health.Ready || i.Health.Reason != "requires freebsd (this is "+runtime.GOOS+")" {
		t.Errorf("health %+v", i.Health)
	}
	iso := i.Isolation
	if iso.Class != driver.IsolationProcess || !iso.SharesHostKernel || iso.SyscallFilter == "" || iso.CapabilityModel == "" || iso.ResourceAccounting == "" {
		t.Errorf("isolation %+v", iso)
	}
	if i.Name != "freebsd" || i.Version == "" || i.ContractVersion != driver.ContractVersion {
		t.Errorf("info %+v", i)
	}
}

// TestUnsupportedCallsAreNotImplemented checks every method of the
// contract answers NotImplemented naming the OS (drivertest.Placeholder).
func TestUnsupportedCallsAreNotImplemented(t *testing.T) {
	drivertest.Placeholder(t, New(Options{}), "freebsd")
}
