package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/guest"
)

// A pod's VM runs several containers, each its own container of the
// guest's linux driver. virtio-mmio has no hotplug, so the containers that
// come after the boot cannot get a disk of their own: the host writes each
// container's EROFS images into the pod's virtiofs share (mounted once, at
// boot) and the agent attaches them to loop devices, read-only, and mounts
// them under a writable overlay as for a single container's disk.

// loopModule is the loop driver; Debian's cloud kernel has it as a module.
const loopModule = "loop.ko"

// initPod prepares the guest of a pod: clock, hostname (the pod's UTS
// namespace is the guest's), the pod share and the loop driver.
func (a *agent) initPod(req wire.Request) error {
	if err := setClock(req.UnixNano); err != nil {
		a.log.Warn("cannot set the clock", "error", err)
	}
	if req.Hostname != "" {
		if err := unix.Sethostname([]byte(req.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", req.Hostname, err)
		}
	}
	// The pod's network namespace is the guest's: its loopback is the
	// pod's localhost (a single container gets its own from libcontainer).
	if err := loopbackUp(); err != nil {
		return err
	}
	// The pod's interfaces (taps in its host network namespace), as a
	// single container's VM gets its own.
	if err := guest.ConfigureNetwork(modulesDir, req.Net); err != nil {
		return err
	}
	if err := loadLoop(); err != nil {
		return err
	}
	if err := mountShares(1); err != nil {
		return err
	}
	if err := os.MkdirAll(wire.PodShare, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(wire.ShareSource(0), wire.PodShare, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind the pod share on %s: %w", wire.PodShare, err)
	}
	// The pod's /dev/shm, which its containers bind (CRI's pod shm).
	if err := os.MkdirAll(wire.PodShm, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("shm", wire.PodShm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777"); err != nil {
		return fmt.Errorf("mount the pod's shm on %s: %w", wire.PodShm, err)
	}
	a.log.Info("pod ready", "uptime", uptime())
	return nil
}

// loopbackUp brings the guest's lo up.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// loadLoop loads the loop driver unless the kernel has it built in.
func loadLoop() error {
	if _, err := os.Stat("/dev/loop-control"); err == nil {
		return nil
	}
	path := filepath.Join(modulesDir, loopModule)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the guest kernel has no loop driver (%s is not in the kernel cache; pods need it): run hack/vm-kernel.sh again", loopModule)
	}
	if err := guest.LoadModule(path); err != nil {
		return err
	}
	// devtmpfs makes the node once the driver registered.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/dev/loop-control"); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("loop driver loaded but /dev/loop-control did not appear")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// podContainer mounts a pod container's images and writes its bundle.
func (a *agent) podContainer(req wire.Request) (retErr error) {
	if req.ID == "" || req.Layout == "" || filepath.Base(req.ID) != req.ID || filepath.Base(req.Layout) != req.Layout {
		return fmt.Errorf("container request: bad id %q or layout %q", req.ID, req.Layout)
	}
	if !json.Valid(req.Spec) {
		return fmt.Errorf("container %s: spec is not valid JSON", req.ID)
	}
	if _, err := os.Stat(wire.ContainerDir(req.ID)); err == nil {
		return fmt.Errorf("container %s: already laid out in the guest", req.ID)
	}
	defer func() {
		if retErr != nil {
			_ = unmountContainer(req.ID)
		}
	}()
	t0 := time.Now()
	if err := mountImage(wire.PodImage(req.Layout, wire.PodRootfsImage), wire.ContainerRootfs(req.ID)); err != nil {
		return fmt.Errorf("container %s: rootfs: %w", req.ID, err)
	}
	if req.Binds {
		if err := mountImage(wire.PodImage(req.Layout, wire.PodBindsImage), wire.ContainerBinds(req.ID)); err != nil {
			return fmt.Errorf("container %s: binds: %w", req.ID, err)
		}
	}
	if err := os.MkdirAll(wire.ContainerBundle(req.ID), 0o700); err != nil {
		return err
	}
	spec, err := applyPodSysctls(req.Spec)
	if err != nil {
		return fmt.Errorf("container %s: %w", req.ID, err)
	}
	if err := os.WriteFile(filepath.Join(wire.ContainerBundle(req.ID), "config.json"), spec, 0o600); err != nil {
		return err
	}
	a.log.Info("pod container laid out", "id", req.ID, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// applyPodSysctls writes a pod container's net.* sysctls into the guest's
// network namespace, which is the pod's (the container has none of its
// own there, and libcontainer refuses net.* sysctls in the namespace it
// shares: CRI's pause container asks for net.ipv4.ip_unprivileged_port_start),
// and returns the spec without them.
func applyPodSysctls(raw []byte) ([]byte, error) {
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if spec.Linux == nil || len(spec.Linux.Sysctl) == 0 {
		return raw, nil
	}
	changed := false
	for k, v := range spec.Linux.Sysctl {
		if !strings.HasPrefix(k, "net.") {
			continue
		}
		if strings.Contains(k, "/") || strings.Contains(k, "..") {
			return nil, fmt.Errorf("sysctl %q: not a sysctl name", k)
		}
		path := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			return nil, fmt.Errorf("sysctl %s=%s in the pod's network namespace: %w", k, v, err)
		}
		delete(spec.Linux.Sysctl, k)
		changed = true
	}
	if !changed {
		return raw, nil
	}
	return json.Marshal(&spec)
}

// removeContainer unmounts what podContainer mounted; the loop devices go
// with their last mount (autoclear).
func (a *agent) removeContainer(req wire.Request) error {
	if req.ID == "" || filepath.Base(req.ID) != req.ID {
		return fmt.Errorf("remove: bad id %q", req.ID)
	}
	return unmountContainer(req.ID)
}

// unmountContainer unmounts every mount under the container's guest dir,
// deepest first, and removes the dir.
func unmountContainer(id string) error {
	dir := wire.ContainerDir(id)
	var errs []error
	for _, target := range []string{wire.ContainerRootfs(id), wire.ContainerBinds(id)} {
		base := target + ".layers"
		for _, m := range []string{target, filepath.Join(base, "rw"), filepath.Join(base, "lower")} {
			if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// mountImage attaches the EROFS image file to a loop device (read-only,
// freed with its last mount) and mounts it layered at target.
func mountImage(image, target string) error {
	dev, err := attachLoop(image)
	if err != nil {
		return err
	}
	if err := mountLayeredDev(dev.Name(), target); err != nil {
		detachLoop(dev)
		return err
	}
	// The mount holds the device now: closing it frees it no more.
	dev.Close()
	return nil
}

// attachLoop binds image to a free loop device and returns it open: a
// device configured to clear itself (autoclear) is cleared at its last
// close, so the caller closes it only once it is mounted.
func attachLoop(image string) (*os.File, error) {
	f, err := os.Open(image)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	for try := 0; ; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("find a free loop device: %w", err)
		}
		dev := fmt.Sprintf("/dev/loop%d", n)
		lf, err := openLoop(dev)
		if err != nil {
			return nil, err
		}
		cfg := unix.LoopConfig{Fd: uint32(f.Fd())}
		cfg.Info.Flags = unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR
		err = unix.IoctlLoopConfigure(int(lf.Fd()), &cfg)
		if err == nil {
			return lf, nil
		}
		lf.Close()
		// Another container took it between the two calls: try the next.
		if !errors.Is(err, unix.EBUSY) || try > 16 {
			return nil, fmt.Errorf("attach %s to %s: %w", image, dev, err)
		}
	}
}

// openLoop opens a loop device, waiting for devtmpfs to make its node.
func openLoop(dev string) (*os.File, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := os.OpenFile(dev, os.O_RDWR, 0)
		if err == nil || !os.IsNotExist(err) || time.Now().After(deadline) {
			return f, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// detachLoop frees a loop device whose mount failed, and closes it.
func detachLoop(dev *os.File) {
	_ = unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_CLR_FD, 0)
	dev.Close()
}
