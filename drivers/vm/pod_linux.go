package vm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
	imon "github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/monitor/watch"
	"github.com/rtd-project/rtd/kit/nettap"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// A pod (sandbox) is one VM: its monitor boots it with no container, and
// the containers created in the pod are containers of the guest's linux
// driver. virtio-mmio has no hotplug, so the VM gets one virtiofs share at
// boot, a directory of the pod on the host (podShareDir), and each
// container's root filesystem reaches the guest as an EROFS image the
// monitor writes there, which the agent loop-mounts (read-only) under a
// writable overlay: the same image as a single container's disk, never
// mounted on the host, one file for virtiofs to serve (a rootfs shared as a
// directory would cost a FUSE round trip per file the container opens).

// podShareDir is the pod's share, in the pod's dir.
const podShareDir = "share"

// podConfig is what a pod's monitor boots (imon.Request.Backend).
type podConfig struct {
	Hostname  string
	MemoryMiB int
	// Namespaces the containers share besides the network one ("ipc",
	// "uts", "pid"): the guest's own.
	Namespaces []specs.LinuxNamespaceType `json:",omitempty"`
	// NetNSPath is the pod's network namespace on the host: a tap per
	// interface of it reaches the guest (kit/nettap), as for a single
	// container's VM; "" for loopback only.
	NetNSPath string `json:",omitempty"`
}

// startPod boots a pod's VM with its share and no container.
func (m *monitor) startPod(ctx context.Context) error {
	var pc podConfig
	if err := json.Unmarshal(m.req.Backend, &pc); err != nil {
		return fmt.Errorf("create sandbox %s: pod config: %w", m.req.ID, err)
	}
	m.pod = &pc
	t0 := time.Now()
	a := findAssets(m.exe)
	if err := a.ready(); err != nil {
		return driver.FailedPreconditionf("create sandbox %s: vm driver not ready: %v", m.req.ID, err)
	}
	m.mkfs = a.mkfs
	accel := probeAccel(m.layout, m.log, a)
	initrd, err := initramfs(m.layout.initramfsDir(), a.agent, a.kernel)
	if err != nil {
		return fmt.Errorf("create sandbox %s: initramfs: %w", m.req.ID, err)
	}
	share := filepath.Join(m.dir, podShareDir)
	if err := os.MkdirAll(share, 0o700); err != nil {
		return err
	}
	cfg := vmConfig{
		accel: accel.Accel, memoryMiB: pc.MemoryMiB, cpus: defaultCPUs,
		kernel: a.kernel, initrd: initrd, tscKHz: accel.TSCKHz,
		console: filepath.Join(m.dir, "console.log"), agentPort: true,
	}
	if cfg.memoryMiB <= 0 {
		cfg.memoryMiB = defaultMemoryMiB
	}
	if cfg.shares, err = m.startShares([]string{share}, os.Stderr); err != nil {
		return fmt.Errorf("create sandbox %s: %w", m.req.ID, err)
	}
	if err := m.waitShares(ctx); err != nil {
		return fmt.Errorf("create sandbox %s: %w", m.req.ID, err)
	}
	ifaces, err := m.connectPodNetwork(&cfg)
	if err != nil {
		return err
	}
	t1 := time.Now()
	if err := m.boot(ctx, a, cfg); err != nil {
		return fmt.Errorf("create sandbox %s: %w", m.req.ID, err)
	}
	err = m.call(ctx, "boot", func(ctx context.Context) error {
		return m.sess.control(ctx, func() wire.Request {
			return wire.Request{Op: wire.OpPod, UnixNano: time.Now().UnixNano(), Hostname: pc.Hostname, Net: ifaces}
		})
	})
	if err != nil {
		return fmt.Errorf("create sandbox %s: guest: %w%s", m.req.ID, err, m.consoleTail())
	}
	if err := m.sess.connectGRPC(); err != nil {
		return err
	}
	m.log.Info("pod vm up", "accel", cfg.accel, "memory_mib", cfg.memoryMiB,
		"share", t1.Sub(t0).Round(time.Millisecond), "boot", time.Since(t1).Round(time.Millisecond))
	return nil
}

// connectPodNetwork connects a tap to each interface of the pod's network
// namespace (kit/nettap, as connectNetwork for a single container) and
// adds them to cfg's NICs; it returns the guest's view of them.
func (m *monitor) connectPodNetwork(cfg *vmConfig) ([]wire.Interface, error) {
	if m.pod.NetNSPath == "" {
		return nil, nil
	}
	taps, err := nettap.ConnectAll(m.pod.NetNSPath, tapPrefix)
	if err != nil {
		return nil, fmt.Errorf("create sandbox %s: network: %w", m.req.ID, err)
	}
	m.taps = taps
	ifaces := make([]wire.Interface, 0, len(taps))
	for _, t := range taps {
		cfg.nics = append(cfg.nics, t.Config.MAC.String())
		ifaces = append(ifaces, vmm.GuestInterface(t.Interface, t.Config))
	}
	return ifaces, nil
}

// watchPod ends the pod when its VM ends: QEMU exits or the agent stops
// answering.
func (m *monitor) watchPod() {
	go func() {
		<-m.q.Done()
		m.endPod(driver.ExitStatus{Code: 255, Reason: m.q.ExitReason()})
	}()
	go m.keepalive()
	go func() {
		<-m.sess.mux.CloseChan()
		if !m.q.Wait(agentGrace) {
			m.q.Kill()
		}
		m.endPod(driver.ExitStatus{Code: 255, Reason: "the guest agent stopped answering (vm hung?); qemu was killed"})
	}()
}

// endPod records the pod's end, once: every container still running ends
// with it (exit 255 and the reason), and the pod's exit.json is written.
func (m *monitor) endPod(st driver.ExitStatus) {
	m.podOnce.Do(func() {
		if st.ExitedAt.IsZero() {
			st.ExitedAt = time.Now().UTC()
		}
		for _, c := range m.all() {
			if c.io != nil {
				c.io.drain(time.Second)
			}
			c.finish(driver.ExitStatus{Code: 255, Reason: "the pod's vm stopped: " + exitText(st)}, m.log)
		}
		m.podStatus = st
		if err := watch.WriteExit(m.dir, watch.ExitStatus(st)); err != nil {
			m.log.Error("write the pod's exit status", "error", err)
		}
		close(m.podEnd)
	})
}

// checkCreateInPod refuses a create in a stopped pod, of a known id, or of
// a spec the pod cannot run; it returns the spec.
func (m *monitor) checkCreateInPod(req *driver.CreateRequest) (*specs.Spec, error) {
	select {
	case <-m.podEnd:
		return nil, driver.FailedPreconditionf("create %s: sandbox %s is stopped", req.ID, m.req.ID)
	default:
	}
	if _, err := m.lookup("create", req.ID); err == nil {
		return nil, driver.AlreadyExistsf("create %s: a container with this id already exists in sandbox %s", req.ID, m.req.ID)
	}
	spec, err := ocispec.Load(req.Bundle)
	if err != nil {
		return nil, err
	}
	if err := checkPodSpec(req.ID, req.Bundle, spec, m.pod, m.q.Pid()); err != nil {
		return nil, err
	}
	return spec, nil
}

// createInPod creates a container in the pod's VM: its images into the
// share, its mounts and bundle in the guest, then the guest's container.
func (m *monitor) createInPod(ctx context.Context, req *driver.CreateRequest) (retErr error) {
	spec, err := m.checkCreateInPod(req)
	if err != nil {
		return err
	}
	id := req.ID
	spec, shm := withoutPodShm(req.Bundle, spec)
	gspec, binds, shares := guestSpec(req.Bundle, spec, wire.ContainerRootfs(id), func(i int) string { return wire.ContainerBindSource(id, i) })
	addPodShm(gspec, shm)
	if len(shares) > 0 {
		return driver.InvalidArgumentf("create %s: read-write bind mounts of directories (volumes) are not supported in a vm sandbox: its virtiofs devices are fixed when the VM boots; mount them read-only (a copy) or run the container without a pod", id)
	}
	podGuestSpec(gspec, m.pod)
	if joinsPodPID(spec, m.pod, m.q.Pid()) {
		path, err := m.podPIDPath(ctx, id)
		if err != nil {
			return err
		}
		setPodPID(gspec, path)
	}
	specJSON, err := json.Marshal(gspec)
	if err != nil {
		return err
	}
	t0 := time.Now()
	name := id + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	host := filepath.Join(m.dir, podShareDir, name)
	if err := os.MkdirAll(host, 0o755); err != nil {
		return err
	}
	c := newCtr(imon.Request{ID: id, Bundle: req.Bundle, Annotations: req.Annotations, Stdio: imon.StdioOf(req.Stdio), CreatedAt: time.Now().UnixNano()}, m.layout.ContainerDir(id))
	c.share = host
	c.ownPID = ownsPIDNamespace(gspec)
	laidOut := false
	defer func() {
		if retErr != nil {
			if laidOut {
				_ = m.sess.control(context.Background(), func() wire.Request { return wire.Request{Op: wire.OpRemove, ID: id} })
			}
			os.RemoveAll(host)
		}
	}()
	if err := m.podImages(ctx, id, host, ocispec.RootfsPath(req.Bundle, spec), binds); err != nil {
		return err
	}
	t1 := time.Now()
	err = m.call(ctx, "create "+id, func(ctx context.Context) error {
		return m.sess.control(ctx, func() wire.Request {
			return wire.Request{Op: wire.OpContainer, ID: id, Layout: name, Spec: specJSON, Binds: len(binds) > 0}
		})
	})
	if err != nil {
		return fmt.Errorf("create %s: guest: %w%s", id, err, m.consoleTail())
	}
	laidOut = true
	guestIO, pio, err := m.sess.openStdio(ctx, id, "", req.Stdio)
	if err != nil {
		return err
	}
	err = m.call(ctx, "create "+id, func(ctx context.Context) error {
		_, err := m.sess.agent.Create(ctx, &driver.CreateRequest{ID: id, Bundle: wire.ContainerBundle(id), Stdio: guestIO, Annotations: req.Annotations})
		return err
	})
	if err != nil {
		pio.abort()
		return err
	}
	c.io = pio
	m.mu.Lock()
	m.ctrs[id] = c
	m.mu.Unlock()
	go m.watchCtr(c)
	m.log.Info("container created in the pod", "id", id, "images", t1.Sub(t0).Round(time.Millisecond),
		"create_in_guest", time.Since(t1).Round(time.Millisecond))
	return nil
}

// podImages builds a pod container's root filesystem image (and its
// read-only binds' image) in its directory host of the pod's share.
func (m *monitor) podImages(ctx context.Context, id, host, rootfs string, binds []string) error {
	if err := vmm.MkfsErofs(ctx, m.mkfs, filepath.Join(host, wire.PodRootfsImage), rootfs); err != nil {
		return fmt.Errorf("create %s: rootfs image: %w", id, err)
	}
	if len(binds) > 0 {
		if err := buildBindsImage(ctx, m.mkfs, filepath.Join(host, wire.PodBindsImage), filepath.Join(host, "binds"), binds); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
	}
	return nil
}

// watchCtr records the end of a pod's container.
func (m *monitor) watchCtr(c *ctr) {
	st, err := m.sess.agent.Wait(context.Background(), &driver.WaitRequest{ID: c.req.ID})
	if err != nil {
		return // the VM is gone: endPod records it
	}
	c.io.drain(drainLimit)
	c.finish(*st, m.log)
}

// removeFromPod deletes a stopped container from the pod's VM: the guest's
// container, its mounts and its images.
func (m *monitor) removeFromPod(ctx context.Context, id string) (*driver.ExitStatus, error) {
	c, err := m.lookup("delete", id)
	if err != nil {
		return nil, err
	}
	if !c.stopped() {
		return nil, driver.FailedPreconditionf("delete %s: container is running; kill it first or force", id)
	}
	select {
	case <-m.podEnd:
	default:
		if _, err := m.sess.agent.Delete(ctx, &driver.DeleteRequest{ID: id, Force: true}); err != nil && !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("delete %s in the guest: %w", id, err)
		}
		if err := m.sess.control(ctx, func() wire.Request { return wire.Request{Op: wire.OpRemove, ID: id} }); err != nil {
			return nil, fmt.Errorf("delete %s: guest mounts: %w", id, err)
		}
	}
	m.waitExecs(drainLimit, c)
	os.RemoveAll(c.share)
	m.mu.Lock()
	delete(m.ctrs, id)
	m.mu.Unlock()
	st := c.status
	return &st, nil
}

// checkPodSpec refuses what a container cannot do in a pod's VM: what it
// cannot do in a VM of its own, except naming the namespaces the pod
// shares (they are the guest's: any path given for them is the pod's) and
// the pod's PID namespace by a path naming its VM (podpid_linux.go).
func checkPodSpec(id, bundle string, spec *specs.Spec, pc *podConfig, qemuPid int) error {
	s := *spec
	if spec.Linux != nil {
		l := *spec.Linux
		l.Namespaces = nil
		for _, ns := range spec.Linux.Namespaces {
			if !podShares(pc, ns.Type) && !namesPodPID(ns, qemuPid) {
				l.Namespaces = append(l.Namespaces, ns)
			}
		}
		s.Linux = &l
	}
	return checkSpec(id, bundle, &s)
}

// podShares reports whether the pod's containers share namespace t.
func podShares(pc *podConfig, t specs.LinuxNamespaceType) bool {
	return t == specs.NetworkNamespace || slices.Contains(pc.Namespaces, t)
}

// podGuestSpec makes a guest spec join the pod's namespaces: the guest's
// own (the container gets no new one of those types). The hostname is the
// pod's when it shares the UTS namespace.
func podGuestSpec(g *specs.Spec, pc *podConfig) {
	if g.Linux == nil {
		return
	}
	l := *g.Linux
	l.Namespaces = nil
	for _, ns := range g.Linux.Namespaces {
		if !podShares(pc, ns.Type) {
			l.Namespaces = append(l.Namespaces, ns)
		}
	}
	g.Linux = &l
	if podShares(pc, specs.UTSNamespace) {
		g.Hostname = ""
	}
}
