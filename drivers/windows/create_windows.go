//go:build windows

package windows

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"
	"github.com/Microsoft/hcsshim/osversion"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// Create creates the HCS compute system (a silo or a utility VM) and boots
// it; the workload process is created by Start. UNVERIFIED on Windows.
func (d *Driver) Create(ctx context.Context, req *driver.CreateRequest) (_ *driver.CreateResponse, retErr error) {
	if err := driver.ValidateID("container id", req.ID); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	spec, err := ocispec.Load(req.Bundle)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.ID, err)
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
	if err := d.store.Create(rec.ID, rec); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			_ = d.store.Remove(req.ID)
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
	if err := d.store.Save(rec.ID, rec); err != nil {
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
