package core

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// fakeDriverName is the name under which the test binary serves fakeDriver.
const fakeDriverName = "rtd-driver-fake"

// TestMain lets the test binary be a driver: started as rtd-driver-fake (a
// symlink made by fakeDriverPath) it serves fakeDriver over go-plugin.
func TestMain(m *testing.M) {
	if name := filepath.Base(os.Args[0]); strings.HasPrefix(name, fakeDriverName) {
		// rtd-driver-fake is of class process; rtd-driver-fakeCLASS of CLASS.
		class := driver.IsolationClass(strings.TrimPrefix(name, fakeDriverName))
		if class == "" {
			class = driver.IsolationProcess
		}
		driver.Serve(&fakeDriver{state: driver.StateDir(), class: class}, nil)
		return
	}
	os.Exit(m.Run())
}

// fakeDriver keeps its "containers" as files in its state dir, so that a
// relaunched process knows them:
//
//	<state>/<id>         the container exists
//	<state>/block-wait   Wait blocks while this file exists
//	<state>/fail-create  Create fails with InvalidArgument
//	<state>/deleted-<id> Delete was called
type fakeDriver struct {
	driver.Unimplemented
	state string
	class driver.IsolationClass
}

func (f *fakeDriver) exists(name string) bool {
	_, err := os.Stat(filepath.Join(f.state, name))
	return err == nil
}

func (f *fakeDriver) touch(name string) error {
	return os.WriteFile(filepath.Join(f.state, name), nil, 0o600)
}

func (f *fakeDriver) Info(context.Context) (*driver.Info, error) {
	return &driver.Info{Name: "fake", Version: f.state, ContractVersion: driver.ContractVersion,
		Isolation: driver.Isolation{Class: f.class}, Health: driver.Health{Ready: true}}, nil
}

func (f *fakeDriver) Create(_ context.Context, req *driver.CreateRequest) (*driver.CreateResponse, error) {
	if f.exists("fail-create") {
		return nil, driver.InvalidArgumentf("create %s: refused by the fake driver", req.ID)
	}
	if _, err := os.Stat(filepath.Join(req.Bundle, "config.json")); err != nil {
		return nil, driver.InvalidArgumentf("create %s: %v", req.ID, err)
	}
	return &driver.CreateResponse{Pid: 1}, f.touch(req.ID)
}

func (f *fakeDriver) Start(context.Context, string) error { return nil }

func (f *fakeDriver) State(_ context.Context, id string) (*driver.State, error) {
	if !f.exists(id) {
		return nil, driver.NotFoundf("state %s: container", id)
	}
	return &driver.State{ID: id, Status: driver.StatusRunning, Pid: uint32(os.Getpid())}, nil
}

func (f *fakeDriver) Wait(ctx context.Context, req *driver.WaitRequest) (*driver.ExitStatus, error) {
	for f.exists("block-wait") {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return &driver.ExitStatus{Code: 42}, nil
}

func (f *fakeDriver) Kill(context.Context, *driver.KillRequest) error { return nil }

func (f *fakeDriver) Delete(_ context.Context, req *driver.DeleteRequest) (*driver.ExitStatus, error) {
	if err := f.touch("deleted-" + req.ID); err != nil {
		return nil, err
	}
	if !f.exists(req.ID) {
		return nil, driver.NotFoundf("delete %s: container", req.ID)
	}
	return &driver.ExitStatus{}, os.Remove(filepath.Join(f.state, req.ID))
}

func (f *fakeDriver) List(context.Context) ([]*driver.State, error) { return nil, nil }

// fakeDriverDir makes the test binary available as rtd-driver-fake in a
// new directory and returns that directory.
func fakeDriverDir(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, fakeDriverName)); err != nil {
		t.Skipf("cannot symlink the test binary: %v", err)
	}
	return dir
}
