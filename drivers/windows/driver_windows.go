//go:build windows

package windows

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/osversion"
	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Driver runs Windows containers through HCS. UNVERIFIED: this code has
// been compiled and vetted for windows, never run on a Windows host.
type Driver struct {
	driver.Unimplemented // exec, pty, pause, stats, ... are not offered
	store                store
	log                  hclog.Logger
	version              string
	mode                 Mode
	modeErr              error

	mu   sync.Mutex
	live map[string]*liveProcess // init processes this driver process watches
}

var _ driver.Driver = (*Driver)(nil)

// New returns a windows driver. An invalid Options.Isolation does not fail
// here: Info reports it as the reason the driver is not ready.
func New(opts Options) *Driver {
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(os.Getenv("ProgramData"), "rtd", "drivers", "windows")
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	m, err := ParseMode(opts.Isolation)
	if err != nil {
		m = ModeProcess
	}
	return &Driver{
		store: newStore(opts.StateDir), log: opts.Logger, version: opts.Version,
		mode: m, modeErr: err, live: map[string]*liveProcess{},
	}
}

// Info describes the driver and probes HCS.
func (d *Driver) Info(ctx context.Context) (*driver.Info, error) {
	return info(d.version, d.mode, d.health()), nil
}

func (d *Driver) health() driver.Health {
	if d.modeErr != nil {
		return driver.Health{Reason: d.modeErr.Error()}
	}
	if b := osversion.Build(); b < buildRS5 {
		return driver.Health{Reason: fmt.Sprintf("needs Windows build %d (Server 2019 / 1809) or later, this is build %d", buildRS5, b)}
	}
	if _, err := hcsshim.GetContainers(hcsshim.ComputeSystemQuery{Owners: []string{Owner}}); err != nil {
		return driver.Health{Reason: fmt.Sprintf("the Host Compute Service does not answer (enable the Containers feature%s and start vmcompute): %v", map[bool]string{true: " and Hyper-V", false: ""}[d.mode == ModeHyperV], err)}
	}
	if err := os.MkdirAll(filepath.Join(d.store.Root, "containers"), 0o700); err != nil {
		return driver.Health{Reason: fmt.Sprintf("state dir %s is not writable: %v", d.store.Root, err)}
	}
	return driver.Health{Ready: true}
}

// hcsError gives an HCS error its errdefs class.
func hcsError(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case hcsshim.IsNotExist(err):
		return driver.NotFoundf("%s %s: compute system: %v", op, id, err)
	case hcsshim.IsAlreadyStopped(err), hcsshim.IsOperationInvalidState(err):
		return driver.FailedPreconditionf("%s %s: %v", op, id, err)
	case hcsshim.IsNotSupported(err):
		return driver.NotImplementedf("%s %s: %v", op, id, err)
	case hcsshim.IsAccessIsDenied(err):
		return driver.FailedPreconditionf("%s %s: access denied (run the driver as an administrator): %v", op, id, err)
	}
	return fmt.Errorf("%s %s: %w", op, id, err)
}

// layerID is the GUID HCS derives from a layer folder's name.
func layerID(folder string) (string, error) {
	g, err := hcsshim.NameToGuid(filepath.Base(folder))
	if err != nil {
		return "", err
	}
	return g.ToString(), nil
}

// findUtilityVM returns the UtilityVM folder of the top-most layer that has
// one, as docker does.
func findUtilityVM(layers []string) (string, error) {
	for _, l := range layers {
		p := filepath.Join(l, "UtilityVM")
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("none of %d layers has a UtilityVM folder", len(layers))
}

// driverInfo is the wclayer "driver" that owns a layer folder: its parent.
func driverInfo(folder string) hcsshim.DriverInfo {
	return hcsshim.DriverInfo{HomeDir: filepath.Dir(folder)}
}

// prepareScratch activates and prepares the scratch layer on top of the
// read-only layers and returns its volume path (\\?\Volume{GUID}\).
func prepareScratch(scratch string, parents []string) (_ string, retErr error) {
	info, id := driverInfo(scratch), filepath.Base(scratch)
	if err := hcsshim.ActivateLayer(info, id); err != nil {
		return "", fmt.Errorf("activate scratch layer %s: %w", scratch, err)
	}
	defer func() {
		if retErr != nil {
			_ = hcsshim.DeactivateLayer(info, id)
		}
	}()
	if err := hcsshim.PrepareLayer(info, id, parents); err != nil {
		return "", fmt.Errorf("prepare scratch layer %s: %w", scratch, err)
	}
	defer func() {
		if retErr != nil {
			_ = hcsshim.UnprepareLayer(info, id)
		}
	}()
	vol, err := hcsshim.GetLayerMountPath(info, id)
	if err != nil {
		return "", fmt.Errorf("mount path of scratch layer %s: %w", scratch, err)
	}
	if vol != "" && vol[len(vol)-1] != '\\' {
		vol += `\`
	}
	return vol, nil
}

// releaseScratch undoes prepareScratch.
func releaseScratch(scratch string) error {
	info, id := driverInfo(scratch), filepath.Base(scratch)
	return errors.Join(hcsshim.UnprepareLayer(info, id), hcsshim.DeactivateLayer(info, id))
}
