//go:build !linux

package skeleton

import (
	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Reexec does nothing: there are no monitors off Linux.
func Reexec() {}

// New returns a driver that reports it needs Linux.
func New(string, hclog.Logger) driver.Driver {
	return driver.NewUnsupported(driver.Info{Name: "skeleton", Version: "0.1", Isolation: isolation}, "linux")
}
