package vm

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
	imon "github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/monitor/proc"
	"github.com/rtd-project/rtd/kit/monitor/watch"
	"github.com/rtd-project/rtd/kit/nettap"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// monitorName is the process name of a monitor (its comm and argv[0]).
const monitorName = "rtd-vm-monitor"

// spawnOptions start a vm monitor: under its own name, with the driver's
// settings (RTD_VM_*, and RTD_GUEST_KERNEL: which kernel it boots) and the
// race detector's, killed when Create gives up
// on a boot, its pid recorded at once (it boots a VM before it reports).
var spawnOptions = imon.SpawnOptions{
	Name: monitorName, Env: []string{"GORACE=", "GOTRACEBACK=", "RTD_VM_", vmm.GuestKernelEnv + "="}, KillOnCancel: true, RecordPid: true,
}

// Timeouts of a monitor.
const (
	// bootTimeout bounds the boot up to the agent's first answer (TCG on a
	// busy host with many guests booting at once is slow).
	bootTimeout = 90 * time.Second
	// drainLimit bounds the wait for a process's output after it ended.
	drainLimit = 10 * time.Second
	// agentGrace is how long a monitor that lost the agent waits for QEMU
	// to exit by itself before it kills it.
	agentGrace = 2 * time.Second
	// pingInterval is how often a monitor checks that the agent answers
	// (each ping waits 30 s for its answer, see wire.Config).
	pingInterval = 10 * time.Second
)

// monitor owns one VM: QEMU, the agent session and the containers' stdio.
// A VM runs one container (main), or is a pod's (pod set), running the
// containers created in it.
type monitor struct {
	layout layout
	dir    string // the container's dir, or the pod's
	exe    string
	log    hclog.Logger
	req    imon.Request // what the monitor runs: a container, or a pod
	q      *vmm.Process
	shares []*vmm.Process // virtiofsd, one per shared directory
	// shareSources are the shared directories, in the order of shares.
	shareSources []string
	sess         *agentSession
	mkfs         string // mkfs.erofs, for a pod's images
	// spec is the container's spec; taps are connected to the interfaces
	// of its network namespace (QEMU has their files).
	spec *specs.Spec
	taps []*nettap.Tap

	main *ctr       // the container of a single-container VM
	pod  *podConfig // the pod of a pod's VM

	mu   sync.Mutex
	ctrs map[string]*ctr // by id
	// podEnd is closed once a pod's VM is over (podStatus says how).
	podEnd    chan struct{}
	podOnce   sync.Once
	podStatus driver.ExitStatus
}

// runMonitor is the entry point of "rtd-vm-monitor STATE DIR". fd 3 is the
// pipe on which the start report goes back to the driver.
func runMonitor(stateDir, dir string) int {
	_ = os.WriteFile("/proc/self/comm", []byte(monitorName), 0)
	log := hclog.New(&hclog.LoggerOptions{Name: monitorName, Output: os.Stderr, Level: hclog.Info})
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	m := &monitor{
		layout: newLayout(stateDir), dir: dir, exe: exe, log: log,
		ctrs: map[string]*ctr{}, podEnd: make(chan struct{}),
	}
	reportPipe := os.NewFile(3, "report")
	// Its own pid first, before anything is started: a monitor that dies
	// is then always recognised as dead (docs/robustness.md).
	if err := proc.WritePidFile(filepath.Join(dir, monitorPidFile), os.Getpid()); err != nil {
		proc.WriteReport(reportPipe, proc.StartReport{Error: fmt.Sprintf("record monitor pid: %v", err)})
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	err = m.start(ctx)
	cancel()
	var ln net.Listener
	if err == nil {
		ln, err = listenSocket(m.socket())
	}
	if err != nil {
		log.Error("start failed", "error", err)
		proc.WriteReport(reportPipe, proc.StartReport{Error: err.Error(), Class: proc.ErrorClass(err)})
		m.teardown()
		return 1
	}
	gs := driver.NewRelayServer(&proxy{m: m}, log)
	go gs.Serve(ln)
	// Room for exit.json before the workload can fill the disk.
	watch.ReserveExit(m.dir)
	proc.WriteReport(reportPipe, proc.StartReport{Pid: m.q.Pid()})
	if m.pod != nil {
		m.watchPod()
		<-m.podEnd
		m.waitExecs(drainLimit, m.all()...)
		m.teardown()
	} else {
		m.watch()
		<-m.main.exited
		m.waitExecs(drainLimit, m.main)
		m.teardown()
		if m.main.unwritten {
			m.main.holdStatus()
		}
	}
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		gs.Stop()
	}
	os.Remove(m.socket())
	return 0
}

// socket is the path of the monitor's gRPC socket.
func (m *monitor) socket() string {
	if m.pod != nil {
		return m.layout.sandboxSocket(m.req.ID)
	}
	return m.layout.socketPath(m.req.ID)
}

// key names the monitor's VM in host-global names (virtiofsd sockets).
func (m *monitor) key() string {
	if m.pod != nil {
		return sandboxKey(m.req.ID)
	}
	return m.req.ID
}

func listenSocket(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	return net.Listen("unix", path)
}

// buildDisks writes (or finds cached) the EROFS images of the root
// filesystem and of the read-only binds, and adds them to cfg's disks.
func (m *monitor) buildDisks(ctx context.Context, mkfs string, spec *specs.Spec, binds []string, cfg *vmConfig) error {
	if m.pod != nil {
		return nil
	}
	// An image's block image is cached with its snapshot (built by the
	// first container of the image); anything else is built here.
	rootImg, cached, err := vmm.RootfsImage(ctx, mkfs, ocispec.RootfsPath(m.req.Bundle, spec), spec.Annotations[vmm.AnnotSnapshot], filepath.Join(m.dir, "rootfs.img"))
	if err != nil {
		return fmt.Errorf("create %s: rootfs image: %w", m.req.ID, err)
	}
	m.log.Info("rootfs image", "path", rootImg, "cached", cached)
	cfg.disks = append(cfg.disks, vmm.Disk{Path: rootImg, Serial: wire.RootfsSerial})
	if len(binds) > 0 {
		img := filepath.Join(m.dir, "binds.img")
		if err := buildBindsImage(ctx, mkfs, img, filepath.Join(m.dir, "binds"), binds); err != nil {
			return fmt.Errorf("create %s: %w", m.req.ID, err)
		}
		cfg.disks = append(cfg.disks, vmm.Disk{Path: img, Serial: wire.BindsSerial})
	}
	return nil
}

// start boots the VM and creates the container in it.
func (m *monitor) start(ctx context.Context) error {
	req, err := proc.ReadRequest(m.dir)
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	m.req = req
	if len(req.Backend) > 0 {
		return m.startPod(ctx)
	}
	m.main = newCtr(req, m.dir)
	m.ctrs[req.ID] = m.main
	spec, err := ocispec.Load(m.req.Bundle)
	if err != nil {
		return err
	}
	if err := checkSpec(m.req.ID, m.req.Bundle, spec); err != nil {
		return err
	}
	m.spec = spec
	gspec, binds, shares := guestSpec(m.req.Bundle, spec, wire.GuestRootfs, wire.BindSource)
	specJSON, err := json.Marshal(gspec)
	if err != nil {
		return err
	}
	t0 := time.Now()
	a := findAssets(m.exe)
	if err := a.ready(); err != nil {
		return driver.FailedPreconditionf("create %s: vm driver not ready: %v", m.req.ID, err)
	}
	accel := probeAccel(m.layout, m.log, a)
	initrd, err := initramfs(m.layout.initramfsDir(), a.agent, a.kernel)
	if err != nil {
		return fmt.Errorf("create %s: initramfs: %w", m.req.ID, err)
	}
	cfg := vmConfig{
		accel: accel.Accel, memoryMiB: memoryMiB(memoryLimit(spec)), cpus: defaultCPUs,
		kernel: a.kernel, initrd: initrd, tscKHz: accel.TSCKHz,
		console: filepath.Join(m.dir, "console.log"), agentPort: true,
	}
	// virtiofsd starts while the images are built (it takes ~0.1-0.3 s).
	if cfg.shares, err = m.startShares(shares, os.Stderr); err != nil {
		return fmt.Errorf("create %s: %w", m.req.ID, err)
	}
	if err := m.buildDisks(ctx, a.mkfs, spec, binds, &cfg); err != nil {
		return err
	}
	if err := m.waitShares(ctx); err != nil {
		return fmt.Errorf("create %s: %w", m.req.ID, err)
	}
	var ifaces []wire.Interface
	if m.taps, ifaces, err = m.connectNetwork(spec); err != nil {
		return err
	}
	for _, t := range m.taps {
		cfg.nics = append(cfg.nics, t.Config.MAC.String())
	}
	t1 := time.Now()
	if err := m.boot(ctx, a, cfg); err != nil {
		return fmt.Errorf("create %s: %w", m.req.ID, err)
	}
	err = m.call(ctx, "boot", func(ctx context.Context) error {
		return m.sess.control(ctx, func() wire.Request {
			return wire.Request{Op: wire.OpInit, UnixNano: time.Now().UnixNano(), Spec: specJSON, Binds: len(binds) > 0, Shares: len(shares), Net: ifaces}
		})
	})
	if err != nil {
		return fmt.Errorf("create %s: guest: %w%s", m.req.ID, err, m.consoleTail())
	}
	t2 := time.Now()
	if err := m.createMain(ctx); err != nil {
		return err
	}
	m.log.Info("container created", "accel", cfg.accel, "memory_mib", cfg.memoryMiB,
		"images", t1.Sub(t0).Round(time.Millisecond), "boot", t2.Sub(t1).Round(time.Millisecond),
		"create_in_guest", time.Since(t2).Round(time.Millisecond))
	return nil
}

// createMain creates the container of a single-container VM in the
// guest, its stdio connected.
func (m *monitor) createMain(ctx context.Context) error {
	if err := m.sess.connectGRPC(); err != nil {
		return err
	}
	guestIO, pio, err := m.sess.openStdio(ctx, m.req.ID, "", driver.Stdio(m.req.Stdio))
	if err != nil {
		return err
	}
	m.main.io = pio
	err = m.call(ctx, "create", func(ctx context.Context) error {
		_, err := m.sess.agent.Create(ctx, &driver.CreateRequest{
			ID: m.req.ID, Bundle: wire.GuestBundle, Stdio: guestIO, Annotations: m.req.Annotations,
		})
		return err
	})
	if err != nil {
		pio.abort()
	}
	return err
}

// boot starts QEMU with the agent's port on a socket pair.
func (m *monitor) boot(ctx context.Context, a *assets, cfg vmConfig) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	guestEnd := os.NewFile(uintptr(fds[0]), "agent-qemu")
	hostEnd := os.NewFile(uintptr(fds[1]), "agent-host")
	defer guestEnd.Close()
	conn, err := net.FileConn(hostEnd)
	hostEnd.Close()
	if err != nil {
		return err
	}
	q, err := vmm.Start(a.qemu, cfg.qemuArgs(), append([]*os.File{guestEnd}, tapFiles(m.taps)...), os.Stderr)
	if err != nil {
		conn.Close()
		return err
	}
	m.q = q
	if err := proc.WritePidFile(filepath.Join(m.dir, qemuPidFile), q.Pid()); err != nil {
		m.log.Warn("record qemu pid", "error", err)
	}
	m.sess, err = newAgentSession(conn)
	if err != nil {
		conn.Close()
		return err
	}
	return nil
}

// call runs f, failing early when QEMU exits meanwhile.
func (m *monitor) call(ctx context.Context, what string, f func(context.Context) error) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- f(cctx) }()
	select {
	case err := <-res:
		return err
	case <-m.q.Done():
		cancel()
		return driver.Unavailablef("%s: %s%s", what, m.q.ExitReason(), m.consoleTail())
	case <-m.sess.mux.CloseChan():
		return driver.Unavailablef("%s: the session with the guest broke%s", what, m.consoleTail())
	case <-ctx.Done():
		return fmt.Errorf("%s: the guest did not answer within %s%s", what, bootTimeout, m.consoleTail())
	}
}

// consoleTail returns the end of the guest's console for error messages.
func (m *monitor) consoleTail() string {
	lines := imon.TailLines(filepath.Join(m.dir, "console.log"), 5)
	if len(lines) == 0 {
		return ""
	}
	return " (guest console: " + strings.Join(lines, " | ") + ")"
}

// watch records how the container ends: its init exits in the guest, QEMU
// exits, or the agent stops answering.
func (m *monitor) watch() {
	go func() {
		st, err := m.sess.agent.Wait(context.Background(), &driver.WaitRequest{ID: m.req.ID})
		if err != nil {
			return // the VM is gone: the watchers below record why
		}
		m.main.io.drain(drainLimit)
		m.main.finish(*st, m.log)
	}()
	go func() {
		<-m.q.Done()
		m.main.io.drain(time.Second)
		m.main.finish(driver.ExitStatus{Code: 255, Reason: m.q.ExitReason()}, m.log)
	}()
	go m.keepalive()
	go func() {
		<-m.sess.mux.CloseChan()
		if m.q.Wait(agentGrace) {
			return
		}
		m.q.Kill()
		m.main.finish(driver.ExitStatus{Code: 255, Reason: "the guest agent stopped answering (vm hung?); qemu was killed"}, m.log)
	}()
}

// keepalive pings the agent and ends the session when it stops answering
// (a hung guest); the watchers then kill QEMU and record why.
func (m *monitor) keepalive() {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-m.ended():
			return
		case <-m.sess.mux.CloseChan():
			return
		case <-t.C:
		}
		if _, err := m.sess.mux.Ping(); err != nil {
			m.log.Warn("the guest agent does not answer", "error", err)
			m.sess.mux.Close()
			return
		}
	}
}

// ended is closed once the VM's work is over: its container's end is
// recorded, or the pod ended.
func (m *monitor) ended() <-chan struct{} {
	if m.pod != nil {
		return m.podEnd
	}
	return m.main.exited
}

// all returns the monitor's containers.
func (m *monitor) all() []*ctr {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := make([]*ctr, 0, len(m.ctrs))
	for _, c := range m.ctrs {
		cs = append(cs, c)
	}
	return cs
}

// teardown stops the VM and removes what only the VM needed.
func (m *monitor) teardown() {
	if m.sess != nil {
		m.sess.close()
	}
	if m.q != nil {
		m.q.Kill()
		m.q.Wait(10 * time.Second)
	}
	m.stopShares()
	m.disconnectNetwork()
	for _, f := range []string{"rootfs.img", "binds.img", qemuPidFile} {
		os.Remove(filepath.Join(m.dir, f))
	}
	os.RemoveAll(filepath.Join(m.dir, "binds"))
	os.RemoveAll(filepath.Join(m.dir, podShareDir))
}
