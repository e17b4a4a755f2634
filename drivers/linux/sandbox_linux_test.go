package linux

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// startInSandbox creates and starts container id in sandbox sb.
func startInSandbox(t *testing.T, ctx context.Context, d *Driver, sb, id string, spec *specs.Spec, stdio driver.Stdio) {
	t.Helper()
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: writeBundle(t, spec), Stdio: stdio, SandboxID: sb}); err != nil {
		t.Fatalf("create %s in %s: %v", id, sb, err)
	}
	t.Cleanup(func() { d.Delete(context.Background(), &driver.DeleteRequest{ID: id, Force: true}) })
	if err := d.Start(ctx, id); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
}

// TestSandboxSharedNamespacesAndLifecycle: two containers of one sandbox
// talk over 127.0.0.1 and see the sandbox's hostname; the sandbox outlives
// them and the driver process (a new Driver on the same state finds it);
// shutting it down with a running container is refused unless forced, and
// then nothing of it is left (holder, cgroup, records).
func TestSandboxSharedNamespacesAndLifecycle(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	state := t.TempDir()
	d := New(Options{StateDir: state})
	rootfs := busyboxRootfs(t)
	created, err := d.CreateSandbox(ctx, &driver.SandboxSpec{ID: "pod1", Hostname: "podhost"})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	t.Cleanup(func() {
		d.ShutdownSandbox(context.Background(), &driver.ShutdownSandboxRequest{ID: "pod1", Force: true})
	})
	if created.Status != driver.StatusCreated || created.Pid == 0 || created.NetNSPath == "" {
		t.Fatalf("created sandbox = %+v", created)
	}
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "early", Bundle: writeBundle(t, testSpec(rootfs, "true")), SandboxID: "pod1"}); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("create in a sandbox not started: %v, want FailedPrecondition", err)
	}
	if _, err := d.StartSandbox(ctx, "pod1"); err != nil {
		t.Fatalf("start sandbox: %v", err)
	}

	server := testSpec(rootfs, "sh", "-c", "echo pong-$(hostname) | nc -l -p 18080")
	startInSandbox(t, ctx, d, "pod1", "server", server, driver.Stdio{})
	out := filepath.Join(t.TempDir(), "client.out")
	client := testSpec(rootfs, "sh", "-c", "for i in $(seq 100); do nc 127.0.0.1 18080 </dev/null && exit 0; sleep 0.1; done; exit 1")
	startInSandbox(t, ctx, d, "pod1", "client", client, driver.Stdio{Stdout: out})
	exit, err := d.Wait(ctx, &driver.WaitRequest{ID: "client"})
	if err != nil || exit.Code != 0 {
		t.Fatalf("client exit %+v, %v", exit, err)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "pong-podhost" {
		t.Fatalf("client read %q over 127.0.0.1, want pong-podhost (the server's answer, with the sandbox's hostname)", b)
	}
	if _, err := d.Wait(ctx, &driver.WaitRequest{ID: "server"}); err != nil {
		t.Fatal(err)
	}
	// The containers ended; the sandbox did not.
	st, err := d.SandboxStatus(ctx, "pod1")
	if err != nil || st.Status != driver.StatusRunning || strings.Join(st.Containers, ",") != "client,server" {
		t.Fatalf("sandbox after its containers ended = %+v, %v; want running with client,server", st, err)
	}

	// A new driver process (here: a new Driver on the same state) finds it.
	d2 := New(Options{StateDir: state})
	if st2, err := d2.SandboxStatus(ctx, "pod1"); err != nil || st2.Status != driver.StatusRunning || st2.Pid != created.Pid {
		t.Fatalf("sandbox seen by a new driver = %+v, %v", st2, err)
	}
	out2 := filepath.Join(t.TempDir(), "late.out")
	startInSandbox(t, ctx, d2, "pod1", "late", testSpec(rootfs, "sh", "-c", "hostname; sleep 100"), driver.Stdio{Stdout: out2})
	waitFor(t, func() bool { b, _ := os.ReadFile(out2); return strings.TrimSpace(string(b)) == "podhost" })

	err = d2.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "pod1"})
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "late") {
		t.Fatalf("shutdown with a running container: %v, want FailedPrecondition naming it", err)
	}
	m, err := d2.SandboxMetrics(ctx, "pod1")
	if err != nil || m.PidsCurrent < 2 {
		t.Errorf("sandbox metrics = %+v, %v; want the holder and late's processes counted", m, err)
	}
	forceShutdownLeavesNothing(t, ctx, d2, created)
}

// forceShutdownLeavesNothing shuts sandbox pod1 down by force and checks
// that nothing of it is left: containers, holder, cgroup, records.
func forceShutdownLeavesNothing(t *testing.T, ctx context.Context, d2 *Driver, created *driver.Sandbox) {
	if err := d2.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "pod1", Force: true}); err != nil {
		t.Fatalf("forced shutdown: %v", err)
	}
	if _, err := d2.SandboxStatus(ctx, "pod1"); !errdefs.IsNotFound(err) {
		t.Errorf("status after shutdown: %v, want NotFound", err)
	}
	for _, id := range []string{"server", "client", "late"} {
		if _, err := d2.State(ctx, id); !errdefs.IsNotFound(err) {
			t.Errorf("container %s after shutdown: %v, want NotFound", id, err)
		}
	}
	if _, err := os.Stat("/proc/" + itoa(created.Pid)); err == nil {
		if b, _ := os.ReadFile("/proc/" + itoa(created.Pid) + "/cmdline"); strings.Contains(string(b), "sandbox-holder") {
			t.Errorf("holder %d still runs after shutdown", created.Pid)
		}
	}
	if left, _ := filepath.Glob("/sys/fs/cgroup/*" + created.CgroupPath); len(left) > 0 {
		t.Errorf("sandbox cgroup left behind: %v", left)
	}
	if entries, _ := os.ReadDir(d2.sandboxes().Dir); len(entries) > 0 {
		t.Errorf("sandbox records left behind: %v", entries)
	}
}

// TestSandboxBadInput: bad sandbox requests get one clear, typed error.
func TestSandboxBadInput(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	d := newTestDriver(t)
	if _, err := d.CreateSandbox(ctx, &driver.SandboxSpec{ID: "bad/id"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad id: %v, want InvalidArgument", err)
	}
	if _, err := d.CreateSandbox(ctx, &driver.SandboxSpec{ID: "p", Namespaces: []specs.LinuxNamespaceType{specs.MountNamespace}}); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "mount") {
		t.Errorf("mount namespace shared: %v, want InvalidArgument naming it", err)
	}
	if _, err := d.CreateSandbox(ctx, &driver.SandboxSpec{ID: "p", NetNSPath: "/etc/hostname"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("netns not a namespace: %v, want InvalidArgument", err)
	}
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "c", Bundle: writeBundle(t, testSpec(busyboxRootfs(t), "true")), SandboxID: "nope"}); !errdefs.IsNotFound(err) {
		t.Errorf("create in unknown sandbox: %v, want NotFound", err)
	}
	if err := d.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "nope"}); !errdefs.IsNotFound(err) {
		t.Errorf("shutdown unknown: %v, want NotFound", err)
	}
	if entries, _ := os.ReadDir(d.sandboxes().Dir); len(entries) > 0 {
		t.Errorf("records left behind by refused requests: %v", entries)
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}
