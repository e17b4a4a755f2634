//go:build !linux

package gvisor

import "github.com/rtd-project/rtd/driver"

// Options configure the placeholder driver built outside Linux.
type Options = driver.PlaceholderOptions

// Driver outside Linux reports itself not ready and implements nothing.
type Driver = driver.Unsupported

// New returns the placeholder driver.
func New(opts Options) *Driver { return driver.NewUnsupported(placeholderInfo(opts.Version), "linux") }

// Reexec does nothing outside Linux.
func Reexec() {}
