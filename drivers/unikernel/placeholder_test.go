package unikernel

import (
	"testing"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
)

// TestPlaceholderInfo checks the driver built for other OSes: not ready,
// an isolation descriptor that passes INFO-003, NotImplemented elsewhere.
func TestPlaceholderInfo(t *testing.T) {
	drivertest.Placeholder(t, driver.NewUnsupported(placeholderInfo(""), "linux"), "linux")
}
