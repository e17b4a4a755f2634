package unikernel

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/driver/drivertest"
	"github.com/rtd-project/rtd/internal/testutil"
)

// linuxGuest builds rtd-unikernel-init as make build does (static) and
// skips when the linux guest cannot boot here.
func linuxGuest(t *testing.T) *assets {
	needQEMU(t)
	// Static (drivertest's default): the initramfs has no libc (the init
	// links package net through netlink, which uses cgo if allowed).
	initBin := drivertest.Build(t, "github.com/rtd-project/rtd/cmd/"+initName, drivertest.BuildOptions{})
	t.Setenv(InitEnv, initBin)
	a := findAssets(os.Args[0])
	if err := a.linuxReady(); err != nil {
		t.Skip(err)
	}
	return a
}

// A reader slower than the guest leaves the output's tail queued in QEMU
// when the program exits; the VM must not end before it was delivered.
func TestLinuxGuestSlowReaderGetsEveryByte(t *testing.T) {
	linuxGuest(t)
	const size = 16 << 20
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	d := New(Options{StateDir: t.TempDir()})
	spec := testutil.Spec(testutil.BusyboxRootfs(t), "sh", "-c", "dd if=/dev/zero bs=65536 count=256 2>/dev/null; echo end >&2")
	spec.Annotations = map[string]string{AnnotType: base64.StdEncoding.EncodeToString([]byte("linux"))}
	bundle := testutil.Bundle(t, spec)
	stdout := filepath.Join(t.TempDir(), "out")
	if err := syscall.Mkfifo(stdout, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 1)
	go func() {
		f, err := os.Open(stdout)
		if err != nil {
			got <- -1
			return
		}
		defer f.Close()
		// Start late and read slowly (about 8 MB/s): the guest fills
		// every buffer on the way and exits while QEMU still holds data.
		time.Sleep(2 * time.Second)
		var n int64
		buf := make([]byte, 64<<10)
		for {
			m, err := io.ReadFull(f, buf)
			n += int64(m)
			if err != nil {
				got <- n
				return
			}
			time.Sleep(8 * time.Millisecond)
		}
	}()
	stderr, gotErr := fifo(t, "err")
	if _, err := d.Create(ctx, &driver.CreateRequest{ID: "s1", Bundle: bundle, Stdio: driver.Stdio{Stdout: stdout, Stderr: stderr}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctx, &driver.WaitRequest{ID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Code != 0 {
		t.Errorf("exit %+v", st)
	}
	if n := <-got; n != size {
		t.Errorf("stdout: %d bytes arrived, want %d (the tail was lost)", n, size)
	}
	if e := <-gotErr; e != "end\n" {
		t.Errorf("stderr %q", e)
	}
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: "s1"}); err != nil {
		t.Fatal(err)
	}
}
