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
	_, err = u.Create(context.Background(), &CreateRequest{ID: "x"})
	if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "requires plan9") {
		t.Fatalf("create: %v", err)
	}
	if _, err := u.Exec(context.Background(), &ExecRequest{}); !errdefs.IsNotImplemented(err) {
		t.Fatalf("exec: %v", err)
	}
}
