package driver

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestUnsupportedReportsNotReadyAndNotImplemented(t *testing.T) {
	u := NewUnsupported(Info{Name: "plan9", Isolation: Isolation{Class: IsolationProcess}}, "plan9")
	info, err := u.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Health.Ready || !strings.Contains(info.Health.Reason, "requires plan9 (this is "+runtime.GOOS+")") {
		t.Fatalf("health %+v", info.Health)
	}
	if info.ContractVersion != ContractVersion || info.OS != runtime.GOOS {
		t.Fatalf("info %+v", info)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"create": func() error { _, err := u.Create(ctx, &CreateRequest{ID: "x"}); return err },
		"start":  func() error { return u.Start(ctx, "x") },
		"state":  func() error { _, err := u.State(ctx, "x"); return err },
		"wait":   func() error { _, err := u.Wait(ctx, &WaitRequest{ID: "x"}); return err },
		"kill":   func() error { return u.Kill(ctx, &KillRequest{ID: "x"}) },
		"delete": func() error { _, err := u.Delete(ctx, &DeleteRequest{ID: "x"}); return err },
		"list":   func() error { _, err := u.List(ctx); return err },
	}
	for name, call := range calls {
		err := call()
		if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), name+": the plan9 driver requires plan9") {
			t.Errorf("%s: %v, want NotImplemented naming %s and plan9", name, err, name)
		}
	}
	if _, err := u.Exec(ctx, &ExecRequest{}); !errdefs.IsNotImplemented(err) {
		t.Fatalf("exec: %v", err)
	}
}
