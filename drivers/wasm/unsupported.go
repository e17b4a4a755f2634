//go:build !linux

package wasm

import (
	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Options configure a Driver.
type Options struct {
	StateDir string
	Logger   hclog.Logger
	Version  string
}

// Driver outside Linux reports itself not ready and implements nothing.
type Driver struct{ *driver.Unsupported }

// New returns the placeholder driver.
func New(opts Options) *Driver {
	return &Driver{driver.NewUnsupported(placeholderInfo(opts.Version), "linux")}
}

// Reexec does nothing outside Linux.
func Reexec() {}
