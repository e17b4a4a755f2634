//go:build !freebsd

package freebsd

import "github.com/rtd-project/rtd/driver"

// Driver on an OS other than FreeBSD answers Info with "not ready" (and
// the isolation it would give) and every other call with NotImplemented
// naming the OS.
type Driver struct{ *driver.Unsupported }

var _ driver.Driver = (*Driver)(nil)

// New returns the placeholder driver.
func New(opts Options) *Driver {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	return &Driver{driver.NewUnsupported(*info(opts.Version, driver.Health{}), "freebsd")}
}
