package linux

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/monitor"
)

// halfCreated makes the process dir a driver killed during Create leaves
// before its monitor ran: request.json and nothing else.
func halfCreated(t *testing.T, d *Driver, id string) string {
	t.Helper()
	dir := d.layout.ContainerDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := monitor.WriteRequest(dir, monitor.Request{ID: id}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A Delete that comes before any monitor locked the dir (the driver died
// before spawning it) returns at once and removes everything: it never
// waits for a workload nobody registered.
func TestDeleteBeforeMonitorLocks(t *testing.T) {
	d := newTestDriver(t)
	dir := halfCreated(t, d, "early")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "early", Force: true}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("Delete of a never-started container took %s", took)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("process dir left")
	}
}

// A Delete that comes while a monitor holds the dir's lock (it is still
// starting the workload) waits for the lock, then cleans up.
func TestDeleteWaitsForStartingMonitor(t *testing.T) {
	d := newTestDriver(t)
	dir := halfCreated(t, d, "starting")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unlock, err := monitor.LockDir(ctx, dir) // as a starting monitor does
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.Delete(ctx, &driver.DeleteRequest{ID: "starting", Force: true})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Delete returned (%v) while the monitor was still starting", err)
	case <-time.After(300 * time.Millisecond):
	}
	unlock() // the monitor failed without registering a workload
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Delete did not return after the monitor released the lock")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("process dir left")
	}
}
