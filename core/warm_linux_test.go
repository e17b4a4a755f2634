//go:build linux

package core

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// Two cores of one root (two rtd commands) share one warm driver process;
// Close keeps it running; a call through a warm driver that is killed is
// retried on a new warm driver, as through a launched one.
func TestWarmDriverSharedAndRelaunched(t *testing.T) {
	root := shortTempDir(t)
	search := []string{fakeDriverDir(t)}
	newCore := func() *Core {
		c := New(Options{Root: root, SearchPath: search, WarmIdle: time.Hour})
		t.Cleanup(c.Close)
		return c
	}
	c1, c2 := newCore(), newCore()
	d1, err := c1.Driver(t.Context(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	cl1, err := d1.Process(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pid := d1.warm.Pid()
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	c1.Close()
	if cl1.Exited() || syscall.Kill(pid, 0) != nil {
		t.Fatal("closing the core ended the warm driver")
	}
	d2, err := c2.Driver(t.Context(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Process(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d2.warm == nil || d2.warm.Pid() != pid {
		t.Fatalf("second core's driver: %+v, want the warm driver %d", d2.warm, pid)
	}

	state := c2.DriverStateDir("fake")
	writeFile(t, filepath.Join(state, "block-wait"), "")
	done := make(chan error, 1)
	go func() {
		st, err := d2.Wait(t.Context(), &driver.WaitRequest{ID: "x"})
		if err == nil && st.Code != 42 {
			t.Errorf("Wait code %d, want 42", st.Code)
		}
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // let the call reach the driver
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	os.Remove(filepath.Join(state, "block-wait"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait through a warm driver kill: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return after the warm driver was killed")
	}
	if d2.warm == nil || d2.warm.Pid() == pid || d2.warm.Exited() {
		t.Fatalf("after the kill: %+v, want a new warm driver", d2.warm)
	}
	newPid := d2.warm.Pid()
	t.Cleanup(func() { _ = syscall.Kill(newPid, syscall.SIGKILL) })
}
