//go:build !freebsd

package freebsd

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

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
// contract (drivertest.Placeholder), and that the lifecycle calls name the OS.
func TestUnsupportedCallsAreNotImplemented(t *testing.T) {
	ctx := context.Background()
	d := New(Options{})
	drivertest.Placeholder(t, d, "freebsd")
	calls := map[string]error{}
	_, calls["create"] = d.Create(ctx, &driver.CreateRequest{ID: "x"})
	calls["start"] = d.Start(ctx, "x")
	_, calls["delete"] = d.Delete(ctx, &driver.DeleteRequest{ID: "x"})
	_, calls["list"] = d.List(ctx)
	for op, err := range calls {
		if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "requires freebsd, this is "+runtime.GOOS) {
			t.Errorf("%s: %v, want NotImplemented naming the OS", op, err)
		}
	}
}
