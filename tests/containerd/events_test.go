//go:build linux

package containerd

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEvents: the task events of a container's life reach containerd
// each exactly once, also across a driver relaunch, and an exec's exit
// comes before its init's.
func TestEvents(t *testing.T) {
	d := startContainerd(t)
	d.importImages()
	ev := exec.CommandContext(d.ctx, filepath.Join(cdBin, "ctr"), "-a", d.sock, "events")
	ev.Env = environ()
	out, err := ev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	defer func() { _ = ev.Process.Kill(); _ = ev.Wait() }()
	time.Sleep(500 * time.Millisecond) // subscribed

	id := uid("evt")
	args := append([]string{"run", "-d"}, d.runtimeFlags("linux")...)
	ok(t, d.ctr(append(args, busyboxImage, id, "sleep", "1000")...))
	d.waitStatus(id, "RUNNING")
	if r := d.ctr("task", "exec", "--exec-id", "e1", id, "sh", "-c", "exit 3"); r.code != 3 {
		t.Fatalf("exec e1: %s", r)
	}
	ok(t, d.ctr("task", "pause", id))
	ok(t, d.ctr("task", "resume", id))
	// The driver dies: nothing may be lost or published twice.
	drivers := childrenNamed(d.shimPid(id), "rtd-driver-")
	if len(drivers) != 1 {
		t.Fatalf("want one driver process, found %v", drivers)
	}
	_ = syscall.Kill(drivers[0], syscall.SIGKILL)
	waitGone(t, drivers[0])
	ok(t, d.ctr("task", "exec", "-d", "--exec-id", "e2", id, "sleep", "1000"))
	time.Sleep(300 * time.Millisecond)
	ok(t, d.ctr("task", "kill", "-s", "SIGKILL", id))
	d.waitStatus(id, "STOPPED")
	ok(t, d.ctr("task", "rm", id))
	ok(t, d.ctr("containers", "rm", id))
	time.Sleep(time.Second)

	mu.Lock()
	got := append([]string(nil), lines...)
	mu.Unlock()
	count, exits := countTopics(got, id)
	want := map[string]int{
		"/tasks/create": 1, "/tasks/start": 1, "/tasks/exec-added": 2, "/tasks/exec-started": 2,
		"/tasks/paused": 1, "/tasks/resumed": 1, "/tasks/exit": 3, "/tasks/delete": 1,
	}
	for topic, n := range want {
		if count[topic] != n {
			t.Errorf("%s published %d times, want %d", topic, count[topic], n)
		}
	}
	if strings.Join(exits, ",") != "e1,e2,init" {
		t.Errorf("exit order %v, want e1, e2, init (an exec's exit before its init's)", exits)
	}
	if t.Failed() {
		t.Logf("events:\n%s", strings.Join(got, "\n"))
	}
}

// countTopics counts the topics of container id's events among lines (ctr
// events' output) and lists its exits in order: e1, e2 or init.
func countTopics(lines []string, id string) (map[string]int, []string) {
	count := map[string]int{}
	var exits []string
	for _, l := range lines {
		if !strings.Contains(l, `"container_id":"`+id+`"`) {
			continue
		}
		// "2026-12-07 14:08:31.8 +0000 UTC default /tasks/create {...}"
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		topic := f[5]
		count[topic]++
		if topic == "/tasks/exit" {
			switch {
			case strings.Contains(l, `"id":"e1"`):
				exits = append(exits, "e1")
			case strings.Contains(l, `"id":"e2"`):
				exits = append(exits, "e2")
			default:
				exits = append(exits, "init")
			}
		}
	}
	return count, exits
}
