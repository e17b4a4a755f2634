//go:build windows

package windows

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"
	"github.com/Microsoft/hcsshim/osversion"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// Create creates the HCS compute system (a silo or a utility VM) and boots
// it; the workload process is created by Start. UNVERIFIED on Windows.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := ValidateID("create", req.ID); err != nil {
		return nil, err
	}
	spec, err := loadSpec(req.ID, req.Bundle)
	if err != nil {
		return nil, err
	}
	proc, err := TranslateProcess(req.ID, spec.Process, req.Stdio)
	if err != nil {
		return nil, err
	}
	folders, err := LayerFolders(spec, req.Rootfs)
	if err != nil {
		return nil, err
	}
	if c, err := hcsshim.OpenContainer(req.ID); err == nil {
		c.Close()
		return nil, driver.AlreadyExistsf("create %s: a compute system with this id exists", req.ID)
	}
	rec := &Record{
		ID: req.ID, Bundle: req.Bundle, Annotations: req.Annotations, CreatedAt: time.Now().UTC(),
		HyperV: UsesHyperV(spec, d.mode), Stdio: req.Stdio, Process: proc,
	}
	if err := d.store.create(rec); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			_ = d.store.remove(req.ID)
		}
	}()

	opts := TranslateOptions{
		Mode: d.mode, HostCPUs: runtime.NumCPU(), Build: osversion.Build(),
		LayerID: layerID, FindUtilityVM: findUtilityVM,
	}
	if !rec.HyperV && (spec.Root == nil || spec.Root.Path == "") {
		scratch := folders[len(folders)-1]
		vol, err := prepareScratch(scratch, folders[:len(folders)-1])
		if err != nil {
			return nil, driver.FailedPreconditionf("create %s: %v", req.ID, err)
		}
		defer func() {
			if retErr != nil {
				_ = releaseScratch(scratch)
			}
		}()
		opts.VolumePath, rec.ScratchLayer = vol, scratch
	}
	cfg, err := Translate(req.ID, spec, req.Rootfs, opts)
	if err != nil {
		return nil, err
	}
	for _, ep := range cfg.EndpointList {
		if _, err := hcn.GetEndpointByID(ep); err != nil {
			return nil, driver.NotFoundf("create %s: HNS endpoint %s: %v", req.ID, ep, err)
		}
	}
	if err := d.store.save(rec); err != nil {
		return nil, err
	}
	c, err := hcsshim.CreateContainer(req.ID, toHCS(cfg))
	if err != nil {
		return nil, hcsError("create", req.ID, err)
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		_ = c.Terminate()
		_ = c.WaitTimeout(30 * time.Second)
		return nil, hcsError("create: boot", req.ID, err)
	}
	d.log.Info("created", "id", req.ID, "hyperv", rec.HyperV)
	return &driver.CreateResponse{}, nil
}

// loadSpec reads the bundle's config.json; a missing or malformed one is
// InvalidArgument.
func loadSpec(id, bundle string) (*specs.Spec, error) {
	if bundle == "" {
		return nil, driver.InvalidArgumentf("create %s: no bundle", id)
	}
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, driver.InvalidArgumentf("create %s: bundle %s: %v", id, bundle, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, driver.InvalidArgumentf("create %s: bundle %s: config.json: %v", id, bundle, err)
	}
	return &spec, nil
}
