//go:build !freebsd

package freebsd

import (
	"context"
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Driver on an OS other than FreeBSD answers Info with "not ready" and
// every other call with NotImplemented naming the OS.
type Driver struct {
	driver.Unimplemented
	version string
}

var _ driver.Driver = (*Driver)(nil)

// New returns the placeholder driver.
func New(opts Options, _ hclog.Logger) *Driver {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	return &Driver{version: opts.Version}
}

func unsupported(op string) error {
	return driver.NotImplementedf("%s: the freebsd driver requires freebsd, this is %s", op, runtime.GOOS)
}

// Info reports the driver as not ready.
func (d *Driver) Info(context.Context) (*driver.Info, error) {
	return info(d.version, driver.Health{Reason: "requires freebsd (this is " + runtime.GOOS + ")"}), nil
}

// Create is not implemented outside FreeBSD.
func (d *Driver) Create(context.Context, *driver.CreateRequest) (*driver.CreateResponse, error) {
	return nil, unsupported("create")
}

// Start is not implemented outside FreeBSD.
func (d *Driver) Start(context.Context, string) error { return unsupported("start") }

// State is not implemented outside FreeBSD.
func (d *Driver) State(context.Context, string) (*driver.State, error) {
	return nil, unsupported("state")
}

// Wait is not implemented outside FreeBSD.
func (d *Driver) Wait(context.Context, *driver.WaitRequest) (*driver.ExitStatus, error) {
	return nil, unsupported("wait")
}

// Kill is not implemented outside FreeBSD.
func (d *Driver) Kill(context.Context, *driver.KillRequest) error { return unsupported("kill") }

// Delete is not implemented outside FreeBSD.
func (d *Driver) Delete(context.Context, *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return nil, unsupported("delete")
}

// List is not implemented outside FreeBSD.
func (d *Driver) List(context.Context) ([]*driver.State, error) { return nil, unsupported("list") }
