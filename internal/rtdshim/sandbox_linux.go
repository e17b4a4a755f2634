package rtdshim

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// CRI's annotations on a pod's containers.
const (
	criContainerType = "io.kubernetes.cri.container-type"
	criSandboxID     = "io.kubernetes.cri.sandbox-id"
	criTypeSandbox   = "sandbox"
)

// The pod's resources (LinuxPodSandboxConfig.Resources, kubelet's sum of
// its containers' limits and the pod overhead), which containerd's CRI
// puts on the pause container as annotations (its internal/cri/annotations,
// as Kata and gVisor read them).
const (
	criSandboxCPUPeriod = "io.kubernetes.cri.sandbox-cpu-period"
	criSandboxCPUQuota  = "io.kubernetes.cri.sandbox-cpu-quota"
	criSandboxCPUShares = "io.kubernetes.cri.sandbox-cpu-shares"
	criSandboxMemory    = "io.kubernetes.cri.sandbox-memory"
)

// podResources returns the pod's resources from the pause container's
// annotations; nil when CRI gave none. A value of 0 is unset.
func podResources(annotations map[string]string) (*specs.LinuxResources, error) {
	num := func(key string) (int64, error) {
		v, ok := annotations[key]
		if !ok || v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, driver.InvalidArgumentf("pod resources: annotation %s=%q is not a number of 0 or more", key, v)
		}
		return n, nil
	}
	var vals [4]int64
	for i, key := range []string{criSandboxCPUPeriod, criSandboxCPUQuota, criSandboxCPUShares, criSandboxMemory} {
		n, err := num(key)
		if err != nil {
			return nil, err
		}
		vals[i] = n
	}
	period, quota, shares, mem := vals[0], vals[1], vals[2], vals[3]
	var res specs.LinuxResources
	if quota > 0 && period > 0 {
		p := uint64(period)
		res.CPU = &specs.LinuxCPU{Period: &p, Quota: &quota}
	}
	if shares > 0 {
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		s := uint64(shares)
		res.CPU.Shares = &s
	}
	if mem > 0 {
		res.Memory = &specs.LinuxMemory{Limit: &mem}
	}
	if res.CPU == nil && res.Memory == nil {
		return nil, nil
	}
	return &res, nil
}

// podSandbox maps a CRI pod onto a driver sandbox when the runtime options
// ask for it (pods = "sandbox"): the pod's pause container creates and
// starts the sandbox (its network namespace and hostname from the pause
// container's spec), every container of the pod is created in it. It
// returns the sandbox to create the container in and whether this
// container owns it; "" for a container outside CRI or without the option.
func (s *service) podSandbox(ctx context.Context, d *core.Plugin, info *driver.Info, opts *Options, id, bundle string, annotations map[string]string) (string, bool, error) {
	sb := annotations[criSandboxID]
	if in, err := s.inAPISandbox(d, id, sb); in || err != nil {
		return sb, false, err
	}
	if opts.Pods != PodsSandbox || sb == "" {
		return "", false, nil
	}
	if !info.Capabilities.Sandboxes {
		return "", false, driver.NoSandboxes(d.Name, "create "+id+" (pods = \"sandbox\")")
	}
	if annotations[criContainerType] != criTypeSandbox {
		return sb, false, nil
	}
	spec, err := ocispec.LoadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return "", false, fmt.Errorf("create %s: %w", id, err)
	}
	res, err := podResources(annotations)
	if err != nil {
		return "", false, fmt.Errorf("create %s: %w", id, err)
	}
	sspec := &driver.SandboxSpec{ID: sb, Hostname: spec.Hostname, Annotations: annotations, Resources: res, NetNSPath: podNetNS(spec)}
	err = d.Do(ctx, func(cl *driver.Client) error {
		if _, err := cl.CreateSandbox(ctx, sspec); err != nil {
			return err
		}
		_, err := cl.StartSandbox(ctx, sb)
		return err
	})
	if err != nil {
		s.shutdownSandbox(ctx, d, sb)
		return "", false, fmt.Errorf("create %s: sandbox %s on driver %q: %w", id, sb, d.Name, err)
	}
	return sb, true, nil
}

// shutdownSandbox removes a sandbox the shim created (forced: CRI removes
// the pause container last).
func (s *service) shutdownSandbox(ctx context.Context, d *core.Plugin, sb string) {
	err := d.Do(ctx, func(cl *driver.Client) error {
		return cl.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: sb, Force: true})
	})
	if err != nil && !errdefs.IsNotFound(err) {
		log.G(ctx).WithError(err).WithField("sandbox", sb).Warn("shutdown sandbox")
	}
}
