//go:build linux

package watch

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// exit.json is written here and read by the drivers as driver.ExitStatus.
func TestExitStatusIsDriverExitStatus(t *testing.T) {
	in := ExitStatus{Code: 137, Signal: 9, OOMKilled: true, ExitedAt: time.Unix(5, 6).UTC(), Reason: "r"}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out driver.ExitStatus
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	want := driver.ExitStatus{Code: 137, Signal: 9, OOMKilled: true, ExitedAt: in.ExitedAt, Reason: "r"}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("exit.json %s reads back as %+v, want %+v", data, out, want)
	}
	if a, b := reflect.TypeOf(ExitStatus{}).NumField(), reflect.TypeOf(driver.ExitStatus{}).NumField(); a != b {
		t.Fatalf("watch.ExitStatus has %d fields, driver.ExitStatus %d: keep them alike", a, b)
	}
}

// workload starts a shell command whose stdout is a pipe and returns the
// watch config with the monitor's ends.
func workload(t *testing.T, script string) (Config, map[int]*os.File) {
	t.Helper()
	return workloadIn(t, t.TempDir(), script)
}

// workloadIn is workload with the files in dir; it creates dir/started last.
func workloadIn(t *testing.T, dir, script string) (Config, map[int]*os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	sock := filepath.Join(dir, "c.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	files := map[int]*os.File{}
	for _, f := range []*os.File{r, out, lf} {
		files[int(f.Fd())] = f
	}
	cfg := Config{
		Dir: dir, Pid: cmd.Process.Pid, Socket: sock, Listener: int(lf.Fd()), Console: -1,
		Outputs: []Copy{{From: int(r.Fd()), To: int(out.Fd())}},
	}
	if err := os.WriteFile(filepath.Join(dir, "started"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, files
}

func readExit(t *testing.T, dir string) ExitStatus {
	t.Helper()
	var st ExitStatus
	data, err := os.ReadFile(filepath.Join(dir, "exit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunRecordsExitAndOutput(t *testing.T) {
	cfg, files := workload(t, "echo hello; exit 7")
	if code := Run(cfg, func(fd int) *os.File { return files[fd] }); code != 0 {
		t.Fatalf("Run = %d", code)
	}
	if st := readExit(t, cfg.Dir); st.Code != 7 || st.Signal != 0 || st.ExitedAt.IsZero() {
		t.Errorf("exit.json %+v, want code 7 with a time", st)
	}
	if out, _ := os.ReadFile(filepath.Join(cfg.Dir, "out")); string(out) != "hello\n" {
		t.Errorf("output %q, want hello", out)
	}
	if _, err := os.Stat(cfg.Socket); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
}

func TestControlKillAndWait(t *testing.T) {
	cfg, files := workload(t, "exec sleep 100")
	cfg.Exit.SignalFromCode = true // must not turn a real signal into anything else
	done := make(chan int)
	go func() { done <- Run(cfg, func(fd int) *os.File { return files[fd] }) }()
	call := func(req Request) Reply { return control(t, cfg.Socket, req) }
	waited := make(chan Reply)
	go func() { waited <- call(Request{Op: "wait"}) }()
	if rep := call(Request{Op: "resize", Width: 80, Height: 24}); rep.Error == "" {
		t.Error("resize without a terminal succeeded")
	}
	if rep := call(Request{Op: "kill", Signal: int(syscall.SIGTERM)}); rep.Error != "" {
		t.Fatalf("kill: %s", rep.Error)
	}
	if rep := <-waited; rep.Error != "" {
		t.Fatalf("wait: %s", rep.Error)
	}
	// wait replied: exit.json must be there already.
	if st := readExit(t, cfg.Dir); st.Signal != int32(syscall.SIGTERM) || st.Code != 128+15 {
		t.Errorf("exit.json %+v, want SIGTERM (143)", st)
	}
	<-done
}

// control sends one request and fails the test when no reply comes back.
func control(t *testing.T, sock string, req Request) Reply {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		t.Fatal(err)
	}
	var rep Reply
	if err := json.NewDecoder(conn).Decode(&rep); err != nil {
		t.Fatalf("%s: no reply: %v", req.Op, err)
	}
	return rep
}

// The kill that ends the workload gets its reply although the monitor
// exits right after. (It once exited first, and the driver saw "monitor is
// gone": conformance's EXEC-004 under load.) Here the kill's reply is held
// back (afterKill) until well after the workload died, and Run must not
// have returned by then: a monitor process exits when Run returns.
func TestKillReplyOutlivesMonitor(t *testing.T) {
	cfg, files := workload(t, "exec sleep 100")
	var returned atomic.Bool
	early := make(chan bool, 1)
	afterKill = func() {
		time.Sleep(300 * time.Millisecond)
		early <- returned.Load()
	}
	t.Cleanup(func() { afterKill = func() {} })
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(cfg, func(fd int) *os.File { return files[fd] })
		returned.Store(true)
	}()
	if rep := control(t, cfg.Socket, Request{Op: "kill", Signal: int(syscall.SIGKILL)}); rep.Error != "" {
		t.Fatalf("kill: %s", rep.Error)
	}
	if <-early {
		t.Error("Run returned before the kill's reply was sent: a monitor process would have cut it off")
	}
	<-done
	if st := readExit(t, cfg.Dir); st.Signal != 9 {
		t.Fatalf("exit.json %+v, want SIGKILL", st)
	}
}

func TestSignalFromCodeAndOOMFiles(t *testing.T) {
	cfg, files := workload(t, "exit 137")
	cfg.Exit.SignalFromCode = true
	oom := filepath.Join(t.TempDir(), "memory.events")
	if err := os.WriteFile(oom, []byte("low 0\noom 1\noom_kill 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Exit.OOMFiles = []string{"/nonexistent/memory.oom_control", oom}
	Run(cfg, func(fd int) *os.File { return files[fd] })
	if st := readExit(t, cfg.Dir); st.Code != 137 || st.Signal != 9 || !st.OOMKilled {
		t.Errorf("exit.json %+v, want code 137, signal 9, OOM killed", st)
	}
}

func TestDescriptors(t *testing.T) {
	cfg := Config{Listener: 5, Console: -1, Outputs: []Copy{{From: 7, To: -1}, {From: 8, To: 9}}, Stdin: &Input{To: 10}}
	if got, want := cfg.Descriptors(), []int{5, 7, 8, 9, 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("Descriptors() = %v, want %v", got, want)
	}
}
