package drivertest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rtd-project/rtd/driver"
)

// New serves d over gRPC on a unix socket in a temporary directory and
// returns a client connected to it. Both are closed when t ends. Log lines
// of the server (panics) go to t.Log.
func New(t testing.TB, d driver.Driver) *driver.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "rtd-drivertest-")
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "driver.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("drivertest: listen: %v", err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "drivertest", Output: testWriter{t}, Level: hclog.Debug})
	srv := driver.NewGRPCServer(d, logger)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("drivertest: dial: %v", err)
	}
	t.Cleanup(func() { cc.Close() })
	return driver.NewClient(cc, "drivertest")
}

// testWriter sends log output to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
