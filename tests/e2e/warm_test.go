//go:build linux

package e2e

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Warm drivers (docs/performance.md, docs/robustness.md): one driver
// process per root serves the commands that follow each other, and ends
// itself when idle or when its root goes away. What a kill -9 of rtd leaves
// is managed: the warm driver exits on its own, containers are reclaimed or
// removable as before.

// warmEnv is an env whose commands keep their driver warm for idle.
func warmEnv(t *testing.T, idle time.Duration) *env {
	e := newEnv(t)
	e.extraEnv = append(e.extraEnv, "RTD_DRIVER_IDLE="+idle.String())
	return e
}

// waitNoDriver waits until no driver process serves root, at most limit.
func waitNoDriver(root string, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		pids := driverPids(root)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One process serves a container's whole life across commands, then exits
// once idle, leaving no socket.
func TestWarmDriverServesCommands(t *testing.T) {
	const idle = 2 * time.Second
	e := warmEnv(t, idle)
	fs := rootfs(t)
	id := uniqueID("w")
	e.ok("run", "-d", "--name", id, fs, "sleep", "1000")
	first := driverPids(e.root)
	if len(first) != 1 {
		t.Fatalf("driver processes after run -d: %v, want one warm driver", first)
	}
	if l := psLine(e, id); !strings.Contains(l, "running") {
		t.Errorf("ps: %q, want running", l)
	}
	e.ok("kill", "-s", "KILL", id)
	e.wantCode(137, "wait", id)
	e.ok("rm", id)
	e.wantCode(3, "run", "--rm", fs, "sh", "-c", "exit 3")
	if now := driverPids(e.root); len(now) != 1 || now[0] != first[0] {
		t.Errorf("driver processes after six commands: %v, want the same warm driver %d", now, first[0])
	}
	assertNoLeaks(t, e, id)
	if left := waitNoDriver(e.root, idle+10*time.Second); len(left) > 0 {
		t.Fatalf("warm driver %v still runs %s after the last command", left, idle+10*time.Second)
	}
	if socks, _ := filepath.Glob(filepath.Join(e.root, "sock", "*.sock")); len(socks) > 0 {
		t.Errorf("sockets left after the warm driver exited: %v", socks)
	}
}

// rtd SIGKILLed at random points of run -d with a warm driver: the next
// commands reclaim or remove every container, and once idle nothing of
// the root runs any more: no driver, no monitor.
func TestWarmDriverCLIKilled(t *testing.T) {
	const idle = time.Second
	e := warmEnv(t, idle)
	fs := rootfs(t)
	tries := 20
	if testing.Short() {
		tries = 8
	}
	var ids []string
	for i := 0; i < tries; i++ {
		id := uniqueID(fmt.Sprintf("wk%d", i))
		ids = append(ids, id)
		cmd := e.command(nil, "run", "-d", "--name", id, fs, "sleep", "100")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			waitFor(func() bool { _, err := os.Stat(filepath.Join(e.root, "drivers", "linux", "c", id)); return err == nil })
		} else {
			time.Sleep(time.Duration(1+rand.Intn(20)) * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	if r := e.ok("ps", "-a"); strings.Contains(r.stdout, "unknown") {
		t.Errorf("ps -a shows containers as unknown:\n%s", r.stdout)
	}
	for _, id := range ids {
		if r := e.rtd("rm", "-f", id); r.code != 0 && !strings.Contains(r.stderr, "no such container") {
			t.Errorf("rm -f %s: %s", id, r)
		}
		assertNothingOf(t, e, id)
	}
	if left := waitNoDriver(e.root, idle+10*time.Second); len(left) > 0 {
		t.Errorf("warm driver %v still runs after the commands ended", left)
	}
	if mons := monitorPids(e.root, ""); len(mons) > 0 {
		t.Errorf("monitors left: %v", mons)
	}
}

// A warm driver whose root is removed exits at once, whatever its idle
// timeout.
func TestWarmDriverRootRemoved(t *testing.T) {
	e := warmEnv(t, time.Hour)
	e.ok("run", "--rm", rootfs(t), "true")
	pids := driverPids(e.root)
	if len(pids) != 1 {
		t.Fatalf("driver processes after run --rm: %v, want one warm driver", pids)
	}
	if err := os.RemoveAll(e.root); err != nil {
		t.Fatal(err)
	}
	if left := waitNoDriver(e.root, 10*time.Second); len(left) > 0 {
		t.Fatalf("warm driver %v still runs 10s after its root was removed", left)
	}
}

// The warm driver SIGKILLed while a container runs: the container keeps
// running, and the next command starts another warm driver that manages it.
func TestWarmDriverKilled(t *testing.T) {
	e := warmEnv(t, 5*time.Second)
	id := uniqueID("wd")
	e.ok("run", "-d", "--name", id, rootfs(t), "sleep", "1000")
	if n := killDrivers(t, e.root); n != 1 {
		t.Fatalf("killed %d driver processes, want the one warm driver", n)
	}
	if l := psLine(e, id); !strings.Contains(l, "running") {
		t.Fatalf("after killing the warm driver, ps: %q, want running", l)
	}
	e.ok("rm", "-f", id)
	assertNoLeaks(t, e, id)
}
