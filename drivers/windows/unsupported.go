//go:build !windows

package windows

import "github.com/rtd-project/rtd/driver"

// Driver on an OS other than Windows answers Info with "not ready" (and the
// isolation it would give) and every other call with NotImplemented naming
// the OS.
type Driver struct{ *driver.Unsupported }

var _ driver.Driver = (*Driver)(nil)

// New returns the placeholder driver. An invalid Options.Isolation falls
// back to process isolation here: the driver cannot run containers anyway.
func New(opts Options) *Driver {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	m, err := ParseMode(opts.Isolation)
	if err != nil {
		m = ModeProcess
	}
	return &Driver{driver.NewUnsupported(*info(opts.Version, m, driver.Health{}), "windows")}
}
