//go:build !windows

package windows

import (
	"context"
	"runtime"

	"github.com/rtd-project/rtd/driver"
)

// Driver on an OS other than Windows answers Info with "not ready" and
// every other call with NotImplemented naming the OS.
type Driver struct {
	driver.Unimplemented
	version string
	mode    Mode
}

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
	return &Driver{version: opts.Version, mode: m}
}

func unsupported(op string) error {
	return driver.NotImplementedf("%s: the windows driver requires windows, this is %s", op, runtime.GOOS)
}

// Info reports the driver as not ready, with the isolation it would give.
func (d *Driver) Info(context.Context) (*driver.Info, error) {
	return info(d.version, d.mode, driver.Health{Reason: "requires windows (this is " + runtime.GOOS + ")"}), nil
}

// Create is not implemented outside Windows.
func (d *Driver) Create(context.Context, *driver.CreateRequest) (*driver.CreateResponse, error) {
	return nil, unsupported("create")
}

// Start is not implemented outside Windows.
func (d *Driver) Start(context.Context, string) error { return unsupported("start") }

// State is not implemented outside Windows.
func (d *Driver) State(context.Context, string) (*driver.State, error) {
	return nil, unsupported("state")
}

// Wait is not implemented outside Windows.
func (d *Driver) Wait(context.Context, *driver.WaitRequest) (*driver.ExitStatus, error) {
	return nil, unsupported("wait")
}

// Kill is not implemented outside Windows.
func (d *Driver) Kill(context.Context, *driver.KillRequest) error { return unsupported("kill") }

// Delete is not implemented outside Windows.
func (d *Driver) Delete(context.Context, *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return nil, unsupported("delete")
}

// List is not implemented outside Windows.
func (d *Driver) List(context.Context) ([]*driver.State, error) { return nil, unsupported("list") }
