//go:build !linux

package gvisor

import (
	"context"
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Options configure a Driver.
type Options struct {
	StateDir string
	Logger   hclog.Logger
	Version  string
	Runsc    string
	Platform string
}

// Driver outside Linux answers Info with "not ready" and every other call
// with NotImplemented.
type Driver struct {
	driver.Unimplemented
	version string
}

var _ driver.Driver = (*Driver)(nil)

// New returns the placeholder driver.
func New(opts Options) *Driver { return &Driver{version: opts.Version} }

// Reexec does nothing outside Linux.
func Reexec() {}

func unsupported(op string) error {
	return driver.NotImplementedf("%s: the gvisor driver requires linux, this is %s", op, runtime.GOOS)
}

// Info reports the driver as not ready.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	return &driver.Info{
		Name: "gvisor", Version: d.version, ContractVersion: driver.ContractVersion,
		OS: runtime.GOOS, Arch: runtime.GOARCH,
		Isolation: driver.Isolation{Class: driver.IsolationSandbox},
		Health:    driver.Health{Reason: "requires linux (this is " + runtime.GOOS + ")"},
	}, nil
}

// Create is not implemented outside Linux.
func (d *Driver) Create(context.Context, *driver.CreateRequest) (*driver.CreateResponse, error) {
	return nil, unsupported("create")
}

// Start is not implemented outside Linux.
func (d *Driver) Start(context.Context, string) error { return unsupported("start") }

// State is not implemented outside Linux.
func (d *Driver) State(context.Context, string) (*driver.State, error) {
	return nil, unsupported("state")
}

// Wait is not implemented outside Linux.
func (d *Driver) Wait(context.Context, *driver.WaitRequest) (*driver.ExitStatus, error) {
	return nil, unsupported("wait")
}

// Kill is not implemented outside Linux.
func (d *Driver) Kill(context.Context, *driver.KillRequest) error { return unsupported("kill") }

// Delete is not implemented outside Linux.
func (d *Driver) Delete(context.Context, *driver.DeleteRequest) (*driver.ExitStatus, error) {
	return nil, unsupported("delete")
}

// List is not implemented outside Linux.
func (d *Driver) List(context.Context) ([]*driver.State, error) { return nil, unsupported("list") }
