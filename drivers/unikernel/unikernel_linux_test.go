package unikernel

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
	"github.com/rtd-project/rtd/drivers/unikernel/pvhtest"
	"github.com/rtd-project/rtd/internal/testutil"
)

// The test binary doubles as the monitor.
func TestMain(m *testing.M) {
	Reexec()
	os.Exit(drivertest.Main(m))
}

func needQEMU(t *testing.T) {
	testutil.NeedRoot(t)
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed (make deps)")
	}
}

// pvhBundle builds the test unikernel and a urunc bundle of it.
func pvhBundle(t *testing.T, cmdline string) string {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed (make deps)")
	}
	elf, err := pvhtest.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bundle := t.TempDir()
	if err := pvhtest.Bundle(bundle, elf, cmdline); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// fifo makes a FIFO and reads it in the background.
func fifo(t *testing.T, name string) (string, chan string) {
	p := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(p)
		got <- string(data)
	}()
	return p, got
}

func TestPVHUnikernelOutputAndExitCode(t *testing.T) {
	needQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := New(Options{StateDir: t.TempDir()})
	bundle := pvhBundle(t, "hello from rtd exit=21")
	stdout, got := fifo(t, "out")
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "u1", Bundle: bundle, Stdio: driver.Stdio{Stdout: stdout}}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.State(ctx, "u1"); err != nil || st.Status != driver.StatusCreated || st.Pid == 0 {
		t.Fatalf("state after create: %+v, %v", st, err)
	}
	if err := d.Start(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Code != 21 || st.Signal != 0 {
		t.Errorf("exit %+v, want code 21 (the guest's isa-debug-exit)", st)
	}
	if out := <-got; out != "rtd pvh unikernel: hello from rtd exit=21\n" {
		t.Errorf("stdout %q", out)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.layout.ContainerDir("u1")); !os.IsNotExist(err) {
		t.Errorf("container dir left after delete: %v", err)
	}
}

func TestKillStopsQEMU(t *testing.T) {
	needQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := New(Options{StateDir: t.TempDir()})
	bundle := pvhBundle(t, "spin")
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "k1", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	st, err := d.State(ctx, "k1")
	if err != nil || st.Status != driver.StatusRunning {
		t.Fatalf("state %+v, %v", st, err)
	}
	qemu := int(st.Pid)
	if err := d.Kill(ctx, &driver.KillRequest{ID: "k1", Signal: uint32(syscall.SIGTERM)}); err != nil {
		t.Fatal(err)
	}
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Signal != int32(syscall.SIGTERM) || exit.Code != 143 {
		t.Errorf("exit %+v, want signal 15 (143)", exit)
	}
	if err := syscall.Kill(qemu, 0); err == nil {
		t.Errorf("qemu %d still alive after kill", qemu)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "k1"}); err != nil {
		t.Fatal(err)
	}
}

func TestOrdinaryBundleRefused(t *testing.T) {
	needQEMU(t)
	ctx := context.Background()
	d := New(Options{StateDir: t.TempDir()})
	bundle := testutil.Bundle(t, testutil.Spec(t.TempDir(), "/bin/true"))
	_, err := d.Create(ctx, &driver.CreateRequest{ID: "o1", Bundle: bundle})
	if err == nil || !strings.Contains(err.Error(), "declare a unikernel") {
		t.Fatalf("ordinary bundle: %v, want InvalidArgument", err)
	}
	if _, err := os.Stat(d.layout.ContainerDir("o1")); !os.IsNotExist(err) {
		t.Error("a refused create left its dir")
	}
}

func TestLinuxGuestRunsProgram(t *testing.T) {
	a := linuxGuest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	d := New(Options{StateDir: t.TempDir()})
	spec := testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "echo out; echo err >&2; cat /proc/version >&2; echo nofile $(ulimit -n) >&2; exit 42")
	spec.Annotations = map[string]string{AnnotType: base64.StdEncoding.EncodeToString([]byte("linux"))}
	// The init applies the spec's rlimits (wire.Process).
	spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 777}}
	bundle := testutil.Bundle(t, spec)
	stdout, gotOut := fifo(t, "out")
	stderr, gotErr := fifo(t, "err")
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "l1", Bundle: bundle, Stdio: driver.Stdio{Stdout: stdout, Stderr: stderr}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: "l1"})
	if err != nil {
		t.Fatal(err)
	}
	out, errOut := <-gotOut, <-gotErr
	if st.Code != 42 {
		t.Errorf("exit %+v, want 42; stderr %q", st, errOut)
	}
	if out != "out\n" {
		t.Errorf("stdout %q", out)
	}
	var u syscall.Utsname
	_ = syscall.Uname(&u)
	if !strings.Contains(errOut, "err\n") || !strings.Contains(errOut, a.kernel.Release) || !strings.Contains(errOut, "nofile 777\n") {
		t.Errorf("stderr %q: want err, the guest kernel %s and the spec's nofile limit 777", errOut, a.kernel.Release)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "l1"}); err != nil {
		t.Fatal(err)
	}
}

// A guest × monitor pair of the allowlist whose monitor is not QEMU is
// refused at create, naming the binary it needs, and leaves nothing.
func TestNonQEMUMonitorRefusedAtCreate(t *testing.T) {
	needQEMU(t)
	d := New(Options{StateDir: t.TempDir()})
	bundle := testutil.Bundle(t, testutil.Spec(t.TempDir(), "/bin/true"))
	for id, c := range map[string]struct{ guest, monitor, bin string }{
		"m1": {GuestRumprun, MonitorHVT, "solo5-hvt"},
		"m2": {GuestMirage, MonitorSPT, "solo5-spt"},
		"m3": {GuestLinux, MonitorFirecracker, "firecracker"},
		"m4": {GuestLinux, MonitorCloudHypervisor, "cloud-hypervisor"},
	} {
		_, err := d.Create(t.Context(), &driver.CreateRequest{ID: id, Bundle: bundle,
			Annotations: annots(AnnotType, c.guest, AnnotHypervisor, c.monitor, AnnotBinary, "/k")})
		if _, lerr := exec.LookPath(c.bin); lerr == nil {
			if !errdefs.IsNotImplemented(err) {
				t.Errorf("%s on %s (%s on PATH): %v, want NotImplemented", c.guest, c.monitor, c.bin, err)
			}
		} else if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), c.bin+" not found on PATH") {
			t.Errorf("%s on %s: %v, want FailedPrecondition naming %s", c.guest, c.monitor, err, c.bin)
		}
		if _, err := os.Stat(d.layout.ContainerDir(id)); !os.IsNotExist(err) {
			t.Errorf("%s: a refused create left its dir", id)
		}
	}
}
