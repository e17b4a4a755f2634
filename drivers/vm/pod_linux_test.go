package vm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
)

// qemuProcesses lists the QEMU processes whose command line names dir (a
// VM's console file is in its monitor's dir).
func qemuProcesses(dir string) []string {
	var qs []string
	for _, p := range processesWith(dir) {
		if f := strings.Fields(p); len(f) > 1 && strings.Contains(f[1], "qemu-system") {
			qs = append(qs, p)
		}
	}
	return qs
}

// createIn creates a busybox container running script in sandbox sb;
// edit, when given, changes its spec.
func createIn(ctx context.Context, t *testing.T, d driver.Driver, sb, id, script string, edit ...func(*specs.Spec)) container {
	t.Helper()
	out := filepath.Join(t.TempDir(), "stdout")
	spec := testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", script)
	for _, f := range edit {
		f(spec)
	}
	_, err := d.Create(ctx, &driver.CreateRequest{ID: id, SandboxID: sb, Bundle: testutil.Bundle(t, spec), Stdio: driver.Stdio{Stdout: out, Stderr: out}})
	if err != nil {
		t.Fatalf("create %s in %s: %v", id, sb, err)
	}
	return container{id: id, stdout: out}
}

func (c container) await(ctx context.Context, t *testing.T, want string) {
	t.Helper()
	for !strings.Contains(c.output(t), want) {
		if ctx.Err() != nil {
			t.Fatalf("%s never printed %q: %q", c.id, want, c.output(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkSharedNamespaces: the first output line of every container (its
// namespaces and hostname) is the same, and names hostname.
func checkSharedNamespaces(t *testing.T, cs []container, hostname string) {
	first := strings.Fields(strings.SplitN(cs[0].output(t), "\n", 2)[0])
	for _, c := range cs[1:] {
		line := strings.Fields(strings.SplitN(c.output(t), "\n", 2)[0])
		if strings.Join(line, " ") != strings.Join(first, " ") {
			t.Errorf("%s sees %v, %s sees %v: the pod's namespaces and hostname are shared", c.id, line, cs[0].id, first)
		}
	}
	if first[len(first)-1] != hostname {
		t.Errorf("hostname %q, want the sandbox's %s", first[len(first)-1], hostname)
	}
}

// joinPID makes a spec name PID namespace /proc/PID/ns/pid, as CRI names
// the pause container's in its POD PID mode.
func joinPID(pid uint32) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", pid)
			}
		}
	}
}

// podShmBind adds a read-write bind of dir onto /dev/shm to a spec.
func podShmBind(dir string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev/shm" })
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: dir, Options: []string{"rbind", "rw", "nosuid", "nodev", "noexec"}})
	}
}

// TestPodIsOneVM runs three containers in one sandbox: one QEMU process
// whatever their number, shared network, IPC and UTS namespaces (the
// guest's), and the first container's PID namespace, which the others name
// by the path CRI gives (/proc/PID/ns/pid of the pid Create returned: the
// VM's) and a read-write bind onto /dev/shm (the pod's shm in the guest), talking
// over the pod's loopback; the sandbox outlives its
// containers; shutting it down leaves no process, mount, socket or state.
func TestPodIsOneVM(t *testing.T) {
	d, state := launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	info, err := d.Info(ctx)
	if err != nil || !info.Capabilities.Sandboxes {
		t.Fatalf("info %+v %v: the vm driver claims sandboxes", info, err)
	}
	sb, err := d.CreateSandbox(ctx, &driver.SandboxSpec{ID: "pod", Hostname: "podhost", Namespaces: []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.ShutdownSandbox(context.Background(), &driver.ShutdownSandboxRequest{ID: "pod", Force: true})
	})
	if sb.Status != driver.StatusCreated || sb.Pid == 0 {
		t.Errorf("created sandbox %+v", sb)
	}
	if _, err := d.StartSandbox(ctx, "pod"); err != nil {
		t.Fatal(err)
	}
	ns := "echo ns $(readlink /proc/self/ns/net) $(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/pid) $(hostname); "
	// Every container binds one host directory read-write onto /dev/shm,
	// as CRI gives a pod's containers its shm: the pod's guest tmpfs.
	shm := podShmBind(t.TempDir())
	server := createIn(ctx, t, d, "pod", "server", ns+"echo shm-from-server > /dev/shm/hello; echo ready; nc -l -p 7070 > /tmp/got & sleep 600", shm)
	var cs []container
	cs = append(cs, server)
	for i := 0; i < 2; i++ {
		cs = append(cs, createIn(ctx, t, d, "pod", fmt.Sprintf("c%d", i), ns+"echo ready; cat /dev/shm/hello; sleep 600", joinPID(sb.Pid), shm))
	}
	for _, c := range cs {
		if err := d.Start(ctx, c.id); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		c.await(ctx, t, "ready")
	}
	if qs := qemuProcesses(state); len(qs) != 1 {
		t.Fatalf("%d QEMU processes for a pod of 3 containers, want 1: %v", len(qs), qs)
	}
	checkSharedNamespaces(t, cs, "podhost")
	// c0 and c1 started after the server wrote into the pod's shm.
	for _, c := range cs[1:] {
		c.await(ctx, t, "shm-from-server")
	}
	// The containers talk over the pod's loopback.
	client := createIn(ctx, t, d, "pod", "client", "echo hello-pod | nc 127.0.0.1 7070")
	if err := d.Start(ctx, client.id); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, &driver.WaitRequest{ID: client.id}); err != nil || st.Code != 0 {
		t.Fatalf("client: %+v %v: %q", st, err, client.output(t))
	}
	if _, err := d.Exec(ctx, &driver.ExecRequest{ID: "server", ExecID: "cat", Process: &specs.Process{Args: []string{"sh", "-c", "sleep 0.5; cat /tmp/got"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdio: driver.Stdio{Stdout: server.stdout}}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Wait(ctx, &driver.WaitRequest{ID: "server", ExecID: "cat"}); err != nil || st.Code != 0 {
		t.Fatalf("exec: %+v %v", st, err)
	}
	server.await(ctx, t, "hello-pod")
	// A container that ends leaves the sandbox running, and is deleted
	// from it; another can be created afterwards.
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: client.id}); err != nil {
		t.Fatal(err)
	}
	if got, err := d.SandboxStatus(ctx, "pod"); err != nil || got.Status != driver.StatusRunning || len(got.Containers) != 3 {
		t.Fatalf("sandbox after a container ended: %+v %v", got, err)
	}
	shutdownLeavesNothing(ctx, t, d, state, cs)
}

// shutdownLeavesNothing: shutting sandbox "pod" down with running
// containers needs a stop (or force); afterwards no process, mount, state
// or socket of it is left.
func shutdownLeavesNothing(ctx context.Context, t *testing.T, d *driver.Client, state string, cs []container) {
	sbDir := filepath.Join(state, "sb", "pod")
	// Shutting the sandbox down with running containers needs force.
	if err := d.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "pod"}); err == nil {
		t.Fatal("shutdown of a sandbox with running containers succeeded without force")
	}
	if err := d.StopSandbox(ctx, &driver.StopSandboxRequest{ID: "pod", Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if st, err := d.State(ctx, c.id); err != nil || st.Status != driver.StatusStopped || st.SandboxID != "pod" {
			t.Errorf("%s after stop: %+v %v", c.id, st, err)
		}
	}
	if err := d.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "pod"}); err != nil {
		t.Fatal(err)
	}
	if left := processesWith(state); len(left) > 0 {
		t.Errorf("processes left after shutdown: %v", left)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), state) {
		t.Errorf("mounts left under %s", state)
	}
	for _, dir := range []string{sbDir, filepath.Join(state, "c")} {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("%s still holds %d entries", dir, len(entries))
		}
	}
	if socks, _ := filepath.Glob(filepath.Join(state, "s", "*")); len(socks) > 0 {
		t.Errorf("sockets left: %v", socks)
	}
	if _, err := d.SandboxStatus(ctx, "pod"); err == nil {
		t.Error("a shut down sandbox is still known")
	}
}
