package driver

import (
	"context"
	"runtime"

	"github.com/hashicorp/go-hclog"
)

// Unsupported is a whole driver for an OS it cannot run on: Info reports it
// not ready ("requires linux (this is windows)"), every other method answers
// NotImplemented naming both OSes. Platform drivers embed it in the Driver
// they build on other OSes, so that their binaries start everywhere.
type Unsupported struct {
	Unimplemented
	// About is what Info reports; Health is filled in.
	About Info
	// Requires names the OS the driver needs.
	Requires string
}

// NewUnsupported returns the placeholder for a driver that needs requires.
// about describes the driver as it is where it runs: its isolation
// descriptor in full (a reviewer compares drivers on any host, and the
// conformance case INFO-003 checks it), to which a known gap saying where
// it runs is added. A Version left empty is "dev".
func NewUnsupported(about Info, requires string) *Unsupported {
	about.ContractVersion = ContractVersion
	about.OS, about.Arch = runtime.GOOS, runtime.GOARCH
	if about.Version == "" {
		about.Version = "dev"
	}
	about.Health = Health{Reason: "requires " + requires + " (this is " + runtime.GOOS + ")"}
	about.Isolation.KnownGaps = append(append([]string(nil), about.Isolation.KnownGaps...),
		"runs only on "+requires+": this host is "+runtime.GOOS)
	return &Unsupported{About: about, Requires: requires}
}

func (u *Unsupported) err(op string) error {
	return NotImplementedf("%s: the %s driver requires %s, this is %s", op, u.About.Name, u.Requires, runtime.GOOS)
}

// Info reports the driver as not ready.
func (u *Unsupported) Info(context.Context) (*Info, error) {
	i := u.About
	return &i, nil
}

// Create answers NotImplemented.
func (u *Unsupported) Create(context.Context, *CreateRequest) (*CreateResponse, error) {
	return nil, u.err("create")
}

// Start answers NotImplemented.
func (u *Unsupported) Start(context.Context, string) error { return u.err("start") }

// State answers NotImplemented.
func (u *Unsupported) State(context.Context, string) (*State, error) { return nil, u.err("state") }

// Wait answers NotImplemented.
func (u *Unsupported) Wait(context.Context, *WaitRequest) (*ExitStatus, error) {
	return nil, u.err("wait")
}

// Kill answers NotImplemented.
func (u *Unsupported) Kill(context.Context, *KillRequest) error { return u.err("kill") }

// Delete answers NotImplemented.
func (u *Unsupported) Delete(context.Context, *DeleteRequest) (*ExitStatus, error) {
	return nil, u.err("delete")
}

// List answers NotImplemented.
func (u *Unsupported) List(context.Context) ([]*State, error) { return nil, u.err("list") }

var _ Driver = (*Unsupported)(nil)

// PlaceholderOptions are the options of a driver's placeholder, built on an
// OS the driver does not run on: the fields its main sets everywhere
// (StateDir, Logger) and Version, so that the main compiles unchanged on
// every OS. A driver's placeholder file declares
// `type Options = driver.PlaceholderOptions`.
type PlaceholderOptions struct {
	StateDir string
	Logger   hclog.Logger
	Version  string
}
