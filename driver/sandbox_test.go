package driver_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func fullSandboxSpec(id string) *driver.SandboxSpec {
	return &driver.SandboxSpec{
		ID:       id,
		Hostname: "pod-host",
		DNS: driver.DNS{
			Servers: []string{"10.0.0.53"}, Searches: []string{"svc.local"}, Options: []string{"ndots:5"},
		},
		NetNSPath:    "/var/run/netns/cni-1",
		Namespaces:   []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace, specs.PIDNamespace},
		Resources:    fullResources(),
		CgroupParent: "/kubepods/pod1",
		Annotations:  map[string]string{"io.kubernetes.cri.sandbox-id": id, "testdriver/oom": "yes"},
	}
}

// TestRoundTripSandboxes sends every sandbox method through real go-plugin
// gRPC: the driver sees exactly the spec, the client exactly the answers,
// and the sandbox's containers are those created in it.
func TestRoundTripSandboxes(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "", driver.LaunchOptions{})
	spec := fullSandboxSpec("pod1")
	assertAllSet(t, "SandboxSpec", spec)
	created, err := c.CreateSandbox(ctx, spec)
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	assertEcho(t, c, "req/createsandbox", spec)
	assertEcho(t, c, "resp/createsandbox", created)
	if created.Status != driver.StatusCreated || created.NetNSPath != spec.NetNSPath || created.Hostname != "pod-host" {
		t.Errorf("created sandbox = %+v", created)
	}
	if _, err := c.CreateSandbox(ctx, spec); !errdefs.IsAlreadyExists(err) {
		t.Errorf("second create sandbox: %v, want AlreadyExists", err)
	}
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "early", SandboxID: "pod1"}); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("create in a sandbox not started: %v, want FailedPrecondition", err)
	}
	if st, err := c.StartSandbox(ctx, "pod1"); err != nil || st.Status != driver.StatusRunning {
		t.Fatalf("start sandbox: %+v, %v", st, err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := c.Create(ctx, &driver.CreateRequest{ID: id, SandboxID: "pod1"}); err != nil {
			t.Fatalf("create %s in pod1: %v", id, err)
		}
		if err := c.Start(ctx, id); err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
	}
	st, err := c.SandboxStatus(ctx, "pod1")
	if err != nil {
		t.Fatalf("sandbox status: %v", err)
	}
	assertEcho(t, c, "resp/sandboxstatus", st)
	if !reflect.DeepEqual(st.Containers, []string{"a", "b"}) {
		t.Errorf("sandbox containers = %v, want [a b]", st.Containers)
	}
	if cs, err := c.State(ctx, "a"); err != nil || cs.SandboxID != "pod1" {
		t.Errorf("state of a: %+v, %v; want sandbox pod1", cs, err)
	}
	list, err := c.ListSandboxes(ctx)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], st) {
		t.Errorf("list sandboxes = %+v, %v; want [%+v]", list, err, st)
	}
	m, err := c.SandboxMetrics(ctx, "pod1")
	if err != nil {
		t.Fatalf("sandbox metrics: %v", err)
	}
	assertAllSet(t, "Stats", m)
	assertEcho(t, c, "resp/sandboxmetrics", m)

	err = c.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "pod1"})
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "running") {
		t.Errorf("shutdown with running containers: %v, want FailedPrecondition", err)
	}
	stop := &driver.StopSandboxRequest{ID: "pod1", Timeout: 1500 * time.Millisecond}
	assertAllSet(t, "StopSandboxRequest", stop)
	if err := c.StopSandbox(ctx, stop); err != nil {
		t.Fatalf("stop sandbox: %v", err)
	}
	assertEcho(t, c, "req/stopsandbox", stop)
	exit, err := c.WaitSandbox(ctx, "pod1")
	if err != nil || exit == nil || exit.ExitedAt.IsZero() {
		t.Errorf("wait sandbox: %+v, %v", exit, err)
	}
	stopped, err := c.SandboxStatus(ctx, "pod1")
	if err != nil {
		t.Fatalf("sandbox status after stop: %v", err)
	}
	assertAllSet(t, "Sandbox", stopped)
	assertEcho(t, c, "resp/sandboxstatus", stopped)
	if stopped.Status != driver.StatusStopped || !reflect.DeepEqual(stopped.Exit, exit) {
		t.Errorf("sandbox after stop = %+v, want stopped with %+v", stopped, exit)
	}
	shut := &driver.ShutdownSandboxRequest{ID: "pod1", Force: true}
	assertAllSet(t, "ShutdownSandboxRequest", shut)
	if err := c.ShutdownSandbox(ctx, shut); err != nil {
		t.Fatalf("shutdown sandbox: %v", err)
	}
	assertEcho(t, c, "req/shutdownsandbox", shut)
	if _, err := c.SandboxStatus(ctx, "pod1"); !errdefs.IsNotFound(err) {
		t.Errorf("status after shutdown: %v, want NotFound", err)
	}
	if _, err := c.State(ctx, "a"); !errdefs.IsNotFound(err) {
		t.Errorf("container a after shutdown: %v, want NotFound (deleted with its sandbox)", err)
	}
}

// TestSandboxesGated: a driver without the capability answers every
// sandbox method NotImplemented, and a container asked for in a sandbox
// FailedPrecondition naming the driver and what to do.
func TestSandboxesGated(t *testing.T) {
	ctx := testContext(t)
	c := launch(t, "minimal", driver.LaunchOptions{})
	if _, err := c.CreateSandbox(ctx, fullSandboxSpec("p")); !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "minimal") {
		t.Errorf("create sandbox on minimal: %v, want NotImplemented naming the driver", err)
	}
	if _, err := c.ListSandboxes(ctx); !errdefs.IsNotImplemented(err) {
		t.Errorf("list sandboxes on minimal: %v, want NotImplemented", err)
	}
	if err := c.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: "p"}); !errdefs.IsNotImplemented(err) {
		t.Errorf("shutdown sandbox on minimal: %v, want NotImplemented", err)
	}
	_, err := c.Create(ctx, &driver.CreateRequest{ID: "x", Bundle: "/b", SandboxID: "p"})
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("create in a sandbox on minimal: %v, want FailedPrecondition", err)
	}
	for _, want := range []string{"minimal", "sandbox p", "sandboxes capability", "rtd drivers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("create in a sandbox on minimal: %q does not say %q", err, want)
		}
	}
	// Without a sandbox, Create reaches the driver as before.
	if _, err := c.Create(ctx, &driver.CreateRequest{ID: "x", Bundle: "/b"}); !errdefs.IsNotFound(err) {
		t.Errorf("create on minimal: %v, want the driver's NotFound", err)
	}
}
