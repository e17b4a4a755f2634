package ocicli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/internal/testutil"
)

// runtimes under test: real runc and real runsc (Debian packages).
func runtimes(t *testing.T) map[string]*Runtime {
	testutil.NeedRoot(t)
	out := map[string]*Runtime{}
	for name, args := range map[string][]string{
		"runc":  nil,
		"runsc": {"--platform=ptrace", "--network=none"},
	} {
		if _, err := exec.LookPath(name); err != nil {
			t.Logf("%s not installed (make deps installs it)", name)
			continue
		}
		rt, err := New(name, name, t.TempDir(), args...)
		if err != nil {
			t.Fatal(err)
		}
		rt.LogDir = t.TempDir()
		out[name] = rt
	}
	if len(out) == 0 {
		t.Skip("neither runc nor runsc installed")
	}
	return out
}

func bundle(t *testing.T, args ...string) string {
	spec := testutil.Spec(testutil.BusyboxRootfs(t), args...)
	// runsc and runc 1.1 do not know every default of rtd's spec.
	spec.Linux.MaskedPaths = nil
	spec.Linux.ReadonlyPaths = nil
	var mounts []specs.Mount
	for _, m := range spec.Mounts {
		if m.Destination != "/sys/fs/cgroup" {
			mounts = append(mounts, m)
		}
	}
	spec.Mounts = mounts
	return testutil.Bundle(t, spec)
}

func TestLifecycle(t *testing.T) {
	for name, rt := range runtimes(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			id := fmt.Sprintf("ocicli-%s-%d", name, time.Now().UnixNano()%1e9)
			pidFile := filepath.Join(t.TempDir(), "pid")
			io, err := runc.NewPipeIO(0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer io.Close()
			if err := rt.Create(ctx, id, bundle(t, "sh", "-c", "echo hi; sleep 1000"), CreateOpts{IO: io, PidFile: pidFile}); err != nil {
				t.Fatal(err)
			}
			defer rt.Delete(context.Background(), id, true)
			io.Stdin().Close()
			st, err := rt.State(ctx, id)
			if err != nil || st.Status != "created" || st.Pid == 0 {
				t.Fatalf("state after create: %+v %v", st, err)
			}
			// runsc (2022) destroys the existing container when a duplicate
			// create fails: drivers must refuse duplicates before calling it.
			if name == "runc" {
				if err := rt.Create(ctx, id, bundle(t, "true"), CreateOpts{}); !errdefs.IsAlreadyExists(err) {
					t.Fatalf("duplicate create: %v, want AlreadyExists", err)
				}
			}
			if err := rt.Start(ctx, id); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 3)
			if _, err := io.Stdout().Read(buf); err != nil || string(buf) != "hi\n" {
				t.Fatalf("stdout %q %v", buf, err)
			}
			if st, err := rt.State(ctx, id); err != nil || st.Status != "running" {
				t.Fatalf("state after start: %+v %v", st, err)
			}
			if err := rt.Start(ctx, id); err == nil || !errdefs.IsFailedPrecondition(err) {
				t.Fatalf("start twice: %v, want FailedPrecondition", err)
			}
			pids, err := rt.Ps(ctx, id)
			if err != nil || len(pids) == 0 {
				t.Fatalf("ps: %v %v", pids, err)
			}
			err = rt.Exec(ctx, id, specs.Process{Args: []string{"sh", "-c", "exit 3"}, Cwd: "/", Env: []string{"PATH=/bin"}}, ExecOpts{})
			var ee *runc.ExitError
			if !errors.As(err, &ee) || ee.Status != 3 {
				t.Fatalf("exec exit: %v, want status 3", err)
			}
			if err := rt.Kill(ctx, id, int(syscall.SIGKILL), true); err != nil {
				t.Fatal(err)
			}
			waitStopped(t, ctx, rt, id)
			if err := rt.Delete(ctx, id, false); err != nil {
				t.Fatal(err)
			}
			if _, err := rt.State(ctx, id); !errdefs.IsNotFound(err) {
				t.Fatalf("state after delete: %v, want NotFound", err)
			}
		})
	}
}

func waitStopped(t *testing.T, ctx context.Context, rt *Runtime, id string) {
	t.Helper()
	for {
		st, err := rt.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == "stopped" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never stopped (%s)", id, st.Status)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestUnknownIDIsNotFound(t *testing.T) {
	for name, rt := range runtimes(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := rt.State(ctx, "nope"); !errdefs.IsNotFound(err) {
				t.Errorf("state: %v", err)
			}
			if err := rt.Kill(ctx, "nope", 9, false); !errdefs.IsNotFound(err) {
				t.Errorf("kill: %v", err)
			}
			if err := rt.Start(ctx, "nope"); !errdefs.IsNotFound(err) {
				t.Errorf("start: %v", err)
			}
		})
	}
}

func TestMissingBinaryIsUnavailable(t *testing.T) {
	_, err := New("runj", "/nonexistent/runj", t.TempDir())
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("%v, want Unavailable naming the binary", err)
	}
}
