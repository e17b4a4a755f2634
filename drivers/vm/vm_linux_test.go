package vm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/conformance/probe"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/internal/vmm"
)

// These tests drive a real rtd-driver-vm binary through go-plugin, with the
// real agent in real QEMU guests (TCG here), as rtd does.

// binaries are built once per test binary, into binDir.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rtd-vm-test-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needVM skips unless QEMU, erofs-utils and the kernel cache are there.
func needVM(t testing.TB) {
	t.Helper()
	testutil.NeedRoot(t)
	for cmd, pkg := range map[string]string{"qemu-system-x86_64": "qemu-system-x86", "mkfs.erofs": "erofs-utils"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("%s not found: apt-get install %s (make deps)", cmd, pkg)
		}
	}
	if _, err := vmm.FindKernel(vm.KernelDirEnv); err != nil {
		t.Skip(err.Error())
	}
}

// buildOnce builds the driver and its agent into binDir.
func buildOnce(t testing.TB) string {
	t.Helper()
	testutil.TrackSources(t)
	drv := filepath.Join(binDir, "rtd-driver-vm")
	if _, err := os.Stat(drv); err == nil {
		return drv
	}
	if err := testutil.BuildBinaries(binDir, testutil.VMAgent, testutil.Probe, testutil.DriverVM); err != nil {
		t.Fatal(err)
	}
	return drv
}

// launch starts the driver with a fresh state dir.
func launch(t testing.TB) (*driver.Client, string) {
	t.Helper()
	needVM(t)
	state := t.TempDir()
	p, err := driver.Launch(context.Background(), buildOnce(t), driver.LaunchOptions{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p.Client(), state
}

// container is a busybox container with its stdout in a file.
type container struct {
	id     string
	stdout string
}

func create(ctx context.Context, t testing.TB, d driver.Driver, id string, spec *specs.Spec) container {
	t.Helper()
	out := filepath.Join(t.TempDir(), "stdout")
	_, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: testutil.Bundle(t, spec), Stdio: driver.Stdio{Stdout: out, Stderr: out}})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	t.Cleanup(func() { _, _ = d.Delete(context.Background(), &driver.DeleteRequest{ID: id, Force: true}) })
	return container{id: id, stdout: out}
}

// startReady creates and starts a busybox container running script,
// which prints "ready" once it runs, and returns once it did.
func startReady(ctx context.Context, t testing.TB, d driver.Driver, id, script string) container {
	t.Helper()
	c := create(ctx, t, d, id, testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "echo ready; "+script))
	if err := d.Start(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(c.output(t), "ready") {
		if ctx.Err() != nil {
			t.Fatal("never ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

func (c container) output(t testing.TB) string {
	data, err := os.ReadFile(c.stdout)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestGuestKernelMemoryAndFileBind(t *testing.T) {
	d, _ := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Health.Ready {
		t.Fatalf("not ready: %s", info.Health.Reason)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, []byte("from-the-host-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "uname -r; cat /hello; grep MemTotal /proc/meminfo")
	limit := int64(300 << 20)
	spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	// The core's hello image bind-mounts a host file the same way.
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/hello", Type: "bind", Source: marker, Options: []string{"rbind", "ro"}})
	c := create(ctx, t, d, "kernel", spec)
	if err := d.Start(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	out := c.output(t)
	if st.Code != 0 {
		t.Fatalf("exit %+v, output %q", st, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output %q", out)
	}
	var u unix.Utsname
	_ = unix.Uname(&u)
	if lines[0] == unix.ByteSliceToString(u.Release[:]) || !strings.Contains(info.Isolation.GuestKernel, lines[0]) {
		t.Errorf("guest kernel %q: host %q, Info says %q", lines[0], unix.ByteSliceToString(u.Release[:]), info.Isolation.GuestKernel)
	}
	// The kernel booted is the one the driver picks: rtd's built kernel
	// when there is one, else Debian's (RTD_GUEST_KERNEL forces either).
	if k, err := vmm.FindKernel(vm.KernelDirEnv); err != nil || lines[0] != k.Release {
		t.Errorf("guest kernel %q, want the preferred kernel %+v (%v)", lines[0], k, err)
	}
	if lines[1] != "from-the-host-file" {
		t.Errorf("bind-mounted file reads %q", lines[1])
	}
	fields := strings.Fields(lines[2])
	kb, _ := strconv.Atoi(fields[1])
	if kb < 300<<10 || kb > (300+256)<<10 {
		t.Errorf("guest MemTotal %d kB for a 300 MiB limit", kb)
	}
}

// TestDebianKernelFallback boots Debian's cloud kernel, the fallback when
// no kernel was built, forced with RTD_GUEST_KERNEL=debian (the monitor,
// which boots the VM, finds the kernel itself: it must get the variable
// too), with its modules (virtio, EROFS, overlay) loaded by the agent, and
// checks Info names it.
func TestDebianKernelFallback(t *testing.T) {
	k, err := vmm.LoadKernel(vmm.DefaultKernelDir, vm.KernelDirEnv)
	if err != nil {
		t.Skipf("%v (hack/vm-kernel.sh, make deps)", err)
	}
	t.Setenv(vm.KernelDirEnv, "")
	t.Setenv(vmm.GuestKernelEnv, vmm.GuestKernelDebian)
	d, _ := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.Isolation.GuestKernel, "Debian linux-image-") || !strings.Contains(info.Isolation.GuestKernel, k.Release) {
		t.Errorf("Info's guest kernel %q, want Debian's %s", info.Isolation.GuestKernel, k.Release)
	}
	c := create(ctx, t, d, "fallback", testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "uname -r; grep -c '^erofs ' /proc/modules"))
	if err := d.Start(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if out := c.output(t); st.Code != 0 || out != k.Release+"\n1\n" {
		t.Errorf("exit %+v, output %q: want %s and the erofs module loaded", st, out, k.Release)
	}
}

// TestBuiltKernelIsDefault boots rtd's built kernel when one is built and
// nothing asks for another: the driver's Info names it and the workload
// runs on it.
func TestBuiltKernelIsDefault(t *testing.T) {
	k, err := vmm.LoadKernel(vmm.BuiltKernelDir, vmm.GuestKernelEnv)
	if err != nil {
		t.Skipf("no built guest kernel (hack/guest-kernel.sh; make test builds it): %v", err)
	}
	t.Setenv(vm.KernelDirEnv, "")
	t.Setenv(vmm.GuestKernelEnv, "")
	d, _ := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.Isolation.GuestKernel, "rtd's microVM build") || !strings.Contains(info.Isolation.GuestKernel, k.Release) {
		t.Errorf("Info's guest kernel %q, want rtd's built %s", info.Isolation.GuestKernel, k.Release)
	}
	c := create(ctx, t, d, "built", testutil.Spec(testutil.BusyboxRootfs(t), "uname", "-r"))
	if err := d.Start(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if out := c.output(t); st.Code != 0 || out != k.Release+"\n" {
		t.Errorf("exit %+v, output %q: want the built kernel's release %s", st, out, k.Release)
	}
}

// TestEmptyRootfsWithBoundBinary runs what the core's hello image is: an
// empty root directory and a static host binary bind-mounted at /hello.
func TestEmptyRootfsWithBoundBinary(t *testing.T) {
	d, _ := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := testutil.Spec(t.TempDir(), "/hello", "report")
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/hello", Type: "bind", Source: filepath.Join(binDir, "rtd-probe"), Options: []string{"rbind", "ro"}})
	spec.Root.Readonly = true
	c := create(ctx, t, d, "hello", spec)
	if err := d.Start(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	var r probe.Report
	if err := json.Unmarshal([]byte(c.output(t)), &r); err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, output %q (%v)", st, c.output(t), err)
	}
	var u unix.Utsname
	_ = unix.Uname(&u)
	if r.Kernel == "" || r.Kernel == unix.ByteSliceToString(u.Release[:]) || !r.RootRO {
		t.Errorf("guest kernel %q (host %q), read-only root %v", r.Kernel, unix.ByteSliceToString(u.Release[:]), r.RootRO)
	}
}

// processesWith lists the pids whose command line contains s.
func processesWith(s string) []string {
	var found []string
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		data, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err == nil && strings.Contains(string(data), s) {
			found = append(found, p.Name()+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return found
}

func TestQEMUKilledStopsContainer(t *testing.T) {
	d, state := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startReady(ctx, t, d, "victim", "sleep 600")
	st, err := d.State(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", st.Pid))
	if st.Status != driver.StatusRunning || !strings.HasPrefix(string(comm), "qemu") {
		t.Fatalf("state %+v, pid %d is %q, want running with QEMU's pid", st, st.Pid, comm)
	}
	if err := syscall.Kill(int(st.Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Code != 255 || !strings.Contains(exit.Reason, "qemu exited: signal 9") {
		t.Fatalf("exit %+v, want 255 with the reason qemu exited: signal 9", exit)
	}
	if err := d.Kill(ctx, &driver.KillRequest{ID: c.id, Signal: 15}); err == nil {
		t.Error("kill of a container whose VM died succeeded")
	}
	del, err := d.Delete(ctx, &driver.DeleteRequest{ID: c.id})
	if err != nil {
		t.Fatal(err)
	}
	if del.Code != 255 {
		t.Errorf("delete returned %+v", del)
	}
	if left := processesWith(filepath.Join(state, "c", c.id)); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(state, "c", c.id)); err == nil {
		t.Error("container dir left")
	}
	if socks, _ := filepath.Glob(filepath.Join(state, "s", "*")); len(socks) > 0 {
		t.Errorf("sockets left: %v", socks)
	}
}

func TestStoppedContainerHoldsNoVM(t *testing.T) {
	d, state := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := create(ctx, t, d, "short", testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "exit 3"))
	if err := d.Start(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: c.id})
	if err != nil || st.Code != 3 {
		t.Fatalf("wait: %+v %v", st, err)
	}
	dir := filepath.Join(state, "c", c.id)
	deadline := time.Now().Add(20 * time.Second)
	for len(processesWith(dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := processesWith(dir); len(left) > 0 {
		t.Errorf("a stopped container still has processes: %v", left)
	}
	if imgs, _ := filepath.Glob(filepath.Join(dir, "*.img")); len(imgs) > 0 {
		t.Errorf("a stopped container still has disk images: %v", imgs)
	}
	got, err := d.State(ctx, c.id)
	if err != nil || got.Status != driver.StatusStopped || got.Exit == nil || got.Exit.Code != 3 {
		t.Fatalf("state %+v %v", got, err)
	}
}

// BenchmarkBoot measures, under the accelerator the driver picked, a
// container's life: Create (rootfs image, VM boot, container created in the
// guest), then Start to exit of /bin/true, then Delete. It reports medians,
// and the boot alone (QEMU started to the agent's first answer) as the
// monitor logs it.
func BenchmarkBoot(b *testing.B) {
	d, state := launch(b)
	ctx := context.Background()
	spec := testutil.Spec(testutil.BusyboxRootfs(b), "true")
	bundle := testutil.Bundle(b, spec)
	var creates, runs, deletes, totals, boots []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-%d", i)
		t0 := time.Now()
		if _, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bundle}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := d.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if st, err := d.Wait(ctx, &driver.WaitRequest{ID: id}); err != nil || st.Code != 0 {
			b.Fatalf("wait: %+v %v", st, err)
		}
		t2 := time.Now()
		if log, err := os.ReadFile(filepath.Join(state, "c", id, "monitor.log")); err == nil {
			if m := bootLog.FindSubmatch(log); m != nil {
				if bd, err := time.ParseDuration(string(m[1])); err == nil {
					boots = append(boots, bd)
				}
			}
		}
		if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: id}); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		creates, runs, deletes, totals = append(creates, t1.Sub(t0)), append(runs, t2.Sub(t1)), append(deletes, t3.Sub(t2)), append(totals, t3.Sub(t0))
	}
	b.ReportMetric(median(boots), "boot-ms")
	b.ReportMetric(median(creates), "create-ms")
	b.ReportMetric(median(runs), "start-to-exit-ms")
	b.ReportMetric(median(deletes), "delete-ms")
	b.ReportMetric(median(totals), "total-ms")
}

// bootLog finds the boot time in a monitor's log.
var bootLog = regexp.MustCompile(`boot=([0-9.]+m?s)`)

func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2].Microseconds()) / 1000
}
