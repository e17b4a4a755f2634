//go:build unix

package core

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

func TestRetryRelaunchesDeadDriver(t *testing.T) {
	c, state := newFakeCore(t)
	d, err := c.Driver(t.Context(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := d.Process(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(state, "block-wait"), "")
	type result struct {
		st  *driver.ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := d.Wait(t.Context(), &driver.WaitRequest{ID: "x"})
		done <- result{st, err}
	}()
	time.Sleep(200 * time.Millisecond) // let the call reach the driver
	if err := syscall.Kill(cl.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The relaunched driver still blocks until the file goes away.
	time.Sleep(500 * time.Millisecond)
	os.Remove(filepath.Join(state, "block-wait"))
	select {
	case r := <-done:
		if r.err != nil || r.st.Code != 42 {
			t.Fatalf("Wait through a driver kill = %+v, %v; want code 42", r.st, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return after the driver was killed")
	}
	cl2, err := d.Process(t.Context())
	if err != nil || cl2.Pid() == cl.Pid() {
		t.Fatalf("client after relaunch: pid %d (was %d), %v", cl2.Pid(), cl.Pid(), err)
	}

	// Killed between calls: the next call relaunches, even one not retried.
	if err := syscall.Kill(cl2.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for !cl2.Exited() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Start(context.Background(), "x"); err != nil {
		t.Fatalf("Start after the driver died = %v, want a relaunch", err)
	}
}
