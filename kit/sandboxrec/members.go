package sandboxrec

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// RefuseRunning returns FailedPrecondition naming the first container of
// members that d does not report stopped: what a shutdown of sandbox id
// without force answers while one of its containers runs.
func RefuseRunning(ctx context.Context, d driver.Driver, id string, members []string) error {
	for _, c := range members {
		if st, err := d.State(ctx, c); err == nil && st.Status != driver.StatusStopped {
			return driver.FailedPreconditionf("shutdown sandbox %s: container %s is %s; stop it (or the sandbox) first, or force", id, c, st.Status)
		}
	}
	return nil
}

// StopMembers sends SIGTERM to every running container of members and
// SIGKILL to those still running after timeout, waiting up to timeout
// after each signal.
func StopMembers(ctx context.Context, d driver.Driver, members []string, timeout time.Duration) error {
	for _, sig := range []uint32{uint32(syscall.SIGTERM), uint32(syscall.SIGKILL)} {
		for _, c := range members {
			if st, err := d.State(ctx, c); err == nil && st.Status != driver.StatusStopped {
				_ = d.Kill(ctx, &driver.KillRequest{ID: c, Signal: sig, All: true})
			}
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		for _, c := range members {
			_, _ = d.Wait(wctx, &driver.WaitRequest{ID: c})
		}
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// DeleteMembers deletes every container of members with Force, as a
// shutdown of sandbox id does; one already gone is fine.
func DeleteMembers(ctx context.Context, d driver.Driver, id string, members []string) error {
	for _, c := range members {
		if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: c, Force: true}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("shutdown sandbox %s: delete container %s: %w", id, c, err)
		}
	}
	return nil
}

// SharedNamespaces are the namespace types a sandbox shares besides the
// network one: the spec's list, or ipc and uts (Kubernetes' default) when
// it names none. A type outside driver.SandboxNamespaces is
// InvalidArgument.
func SharedNamespaces(spec *driver.SandboxSpec) ([]specs.LinuxNamespaceType, error) {
	if len(spec.Namespaces) == 0 {
		return []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace}, nil
	}
	for _, ns := range spec.Namespaces {
		ok := false
		for _, allowed := range driver.SandboxNamespaces {
			ok = ok || ns == allowed
		}
		if !ok {
			return nil, driver.InvalidArgumentf("create sandbox %s: namespace %q cannot be shared: use ipc, uts or pid (the network one always is)", spec.ID, ns)
		}
	}
	return spec.Namespaces, nil
}
