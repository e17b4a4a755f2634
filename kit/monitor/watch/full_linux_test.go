//go:build linux

package watch

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/internal/testutil"
)

// fill writes path until its filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for _, n := range []int{4096, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
}

// On a full disk the exit status survives: in the room reserved when the
// watch started, and without it in memory, served to "wait" until it can be
// written (issue 12 item 4).
func TestFullDiskKeepsExitStatus(t *testing.T) {
	testutil.NeedRoot(t)
	for _, reserve := range []bool{true, false} {
		dir := t.TempDir()
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
		trigger := filepath.Join(t.TempDir(), "go")
		cfg, files := workloadIn(t, dir, "while [ ! -e "+trigger+" ]; do sleep 0.01; done; exit 9")
		done := make(chan int, 1)
		go func() { done <- Run(cfg, func(fd int) *os.File { return files[fd] }) }()
		room := filepath.Join(dir, exitReserveFile)
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(room); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !reserve {
			os.Remove(room)
		}
		fill(t, filepath.Join(dir, "fill"))
		if err := os.WriteFile(trigger, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if reserve {
			<-done
			if st := readExit(t, dir); st.Code != 9 {
				t.Errorf("exit.json on a full disk says %d, want 9", st.Code)
			}
			continue
		}
		r := control(t, cfg.Socket, Request{Op: "wait"})
		if r.Status == nil || r.Status.Code != 9 {
			t.Fatalf("wait on a full disk without room: %+v, want the status 9 in the reply", r)
		}
		select {
		case <-done:
			t.Fatal("the monitor exited with its exit status unwritten")
		case <-time.After(300 * time.Millisecond):
		}
		os.Remove(filepath.Join(dir, "fill"))
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the monitor did not write its status once the disk had room")
		}
		if st := readExit(t, dir); st.Code != 9 {
			t.Errorf("exit.json written later says %d, want 9", st.Code)
		}
	}
}
