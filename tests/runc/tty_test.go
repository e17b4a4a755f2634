//go:build linux

package runc

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/utils"

	"github.com/rtd-project/rtd/internal/testutil"
)

// TestConsoleSocket: a terminal container created with --console-socket
// hands its terminal's master to the socket (runc's SCM_RIGHTS message);
// the container's output comes out of it, for runc and rtd-runc alike.
func TestConsoleSocket(t *testing.T) {
	need(t)
	eachRuntime(t, false, func(t *testing.T, r *runtime) {
		spec := testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "tty && echo hello-tty && exit 3")
		spec.Process.Terminal = true
		b := testutil.Bundle(t, spec)
		sockPath := filepath.Join(t.TempDir(), "console.sock")
		ln, err := net.Listen("unix", sockPath)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan *os.File, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				got <- nil
				return
			}
			defer c.Close()
			f, err := c.(*net.UnixConn).File()
			if err != nil {
				got <- nil
				return
			}
			defer f.Close()
			master, err := utils.RecvFile(f) //nolint:staticcheck // runc's protocol, as its callers use it
			if err != nil {
				got <- nil
				return
			}
			got <- master
		}()
		r.ok("create", "--bundle", b, "--console-socket", sockPath, "c1")
		var master *os.File
		select {
		case master = <-got:
		case <-time.After(30 * time.Second):
			t.Fatal("no terminal received on the console socket")
		}
		if master == nil {
			t.Fatal("receiving the terminal failed")
		}
		defer master.Close()
		out := &testutil.SyncBuffer{}
		go func() { _, _ = io.Copy(out, master) }()
		r.ok("start", "c1")
		r.waitStatus("c1", "stopped")
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "hello-tty") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if s := out.String(); !strings.Contains(s, "hello-tty") || !strings.Contains(s, "/dev/pts/") {
			t.Fatalf("terminal output %q, want a /dev/pts name and hello-tty", s)
		}
		r.ok("delete", "c1")
		assertEmpty(t, r)
	})
}

// TestTerminalNeedsConsoleSocket: a terminal container without
// --console-socket is refused as runc refuses it, leaving nothing.
func TestTerminalNeedsConsoleSocket(t *testing.T) {
	need(t)
	spec := testutil.Spec(testutil.BusyboxRootfs(t), "true")
	spec.Process.Terminal = true
	b := testutil.Bundle(t, spec)
	r := newRuntime(t, rtdRunc())
	if res := r.run("create", "--bundle", b, "c1"); res.code != 1 || !strings.Contains(res.stderr, "console socket") {
		t.Fatalf("create: %s, want exit 1 naming the console socket", res)
	}
	assertEmpty(t, r)
}
