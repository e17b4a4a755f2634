// Package outoftree is a driver written outside rtd's module, as a driver
// author writes one in a repository of their own: its go.mod requires
// github.com/rtd-project/rtd (replaced by this checkout) and it uses only
// the public SDK, kit and conformance suite. The Go toolchain refuses an
// import of rtd's internal/ packages from here, so passing the suite proves
// an outside author needs none of them.
//
// The driver is the skeleton (examples/skeleton, itself built on the kit)
// under a name of its own, with one more known gap in its descriptor.
package outoftree

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/examples/skeleton"
)

// Driver is the skeleton renamed.
type Driver struct{ driver.Driver }

// New returns the driver keeping its state in stateDir.
func New(stateDir string, log hclog.Logger) Driver {
	return Driver{skeleton.New(stateDir, log)}
}

// Info reports the driver under its own name.
func (d Driver) Info(ctx context.Context) (*driver.Info, error) {
	info, err := d.Driver.Info(ctx)
	if err != nil {
		return nil, err
	}
	info.Name, info.Version = "outoftree", "0.1"
	info.Isolation.KnownGaps = append(info.Isolation.KnownGaps, "an example: not for production")
	return info, nil
}
