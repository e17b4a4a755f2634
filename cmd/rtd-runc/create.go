//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// createOptions are the flags of create and run.
type createOptions struct {
	bundle        string
	pidFile       string
	consoleSocket string
}

func (o *createOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.bundle, "bundle", "b", "", "path to the root of the bundle directory (default: the current directory)")
	f.StringVar(&o.pidFile, "pid-file", "", "file to write the process id to")
	f.StringVar(&o.consoleSocket, "console-socket", "", "unix socket that receives the terminal's master")
	// Accepted for runc's callers; they change nothing here.
	var b bool
	var n int
	var s string
	f.BoolVar(&b, "no-pivot", false, "accepted, ignored")
	f.BoolVar(&b, "no-new-keyring", false, "accepted, ignored")
	f.IntVar(&n, "preserve-fds", 0, "accepted, ignored")
	f.StringVar(&s, "notify-socket", "", "accepted, ignored")
}

func (a *app) createCommand() *cobra.Command {
	o := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create [flags] ID",
		Short: "create a container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			defer s.close()
			_, err = s.create(cmd.Context(), args[0], o)
			return err
		},
	}
	o.flags(cmd)
	return cmd
}

// create creates container id from the bundle on the chosen driver and
// starts its stand-in. A failure leaves nothing behind: no record, no
// stand-in, nothing on the driver.
func (s *session) create(ctx context.Context, id string, o *createOptions) (_ *standin, retErr error) {
	if s.a.systemdCgroup {
		return nil, driver.NotImplementedf("runc create failed: --systemd-cgroup is not supported by rtd-runc: use cgroupfs (drop the flag)")
	}
	if !driver.ValidID(id) {
		return nil, driver.InvalidArgumentf("runc create failed: invalid container ID format: %s", id)
	}
	bundle, spec, err := loadBundle(o)
	if err != nil {
		return nil, err
	}
	terminal := spec.Process != nil && spec.Process.Terminal
	d, err := s.core.Driver(ctx, s.a.driverName())
	if err != nil {
		return nil, fmt.Errorf("runc create failed: %w", err)
	}
	owner := ""
	if u, err := user.Current(); err == nil {
		owner = u.Username
	}
	rec := &record{ID: id, Driver: d.Name, DriverPath: d.Path, Bundle: bundle, Rootfs: ocispec.RootfsPath(bundle, spec),
		Created: time.Now().UTC(), Owner: owner, Annotations: spec.Annotations}
	if err := s.store.Create(id, rec); err != nil {
		if errdefs.IsAlreadyExists(err) {
			return nil, driver.AlreadyExistsf("runc create failed: container with given ID already exists: %s", id)
		}
		return nil, err
	}
	var st *standin
	created := false
	defer func() {
		if retErr == nil {
			return
		}
		if created {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_, _ = d.Delete(cctx, &driver.DeleteRequest{ID: id, Force: true})
			cancel()
		}
		if st != nil {
			st.abort()
		}
		_ = s.store.Remove(id)
	}()
	var tty *os.File
	if terminal {
		if tty, err = newConsole(o.consoleSocket); err != nil {
			return nil, fmt.Errorf("runc create failed: %w", err)
		}
		defer tty.Close()
	}
	if st, err = startStandin(s.store.Root, d.Path, id, "", tty); err != nil {
		return nil, err
	}
	stdio, err := stdioOf(st, terminal)
	if err != nil {
		return nil, fmt.Errorf("runc create failed: %w", err)
	}
	created = true
	resp, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bundle, Stdio: stdio, Annotations: spec.Annotations})
	if err != nil {
		created = !errdefs.IsAlreadyExists(err)
		return nil, fmt.Errorf("runc create failed: %w", err)
	}
	rec.StandinPid = st.pid()
	if err := s.store.Save(id, rec); err != nil {
		return nil, err
	}
	if err := writePidFile(o.pidFile, st.pid()); err != nil {
		return nil, err
	}
	if err := st.commit(resp.Pid); err != nil {
		return nil, fmt.Errorf("runc create failed: stand-in: %w", err)
	}
	s.a.logf("debug", "created %s on driver %s: workload pid %d, stand-in pid %d", id, d.Name, resp.Pid, st.pid())
	return st, nil
}

// loadBundle reads the bundle of a create (--bundle, default the current
// directory) and checks its terminal against --console-socket, as runc
// does.
func loadBundle(o *createOptions) (string, *specs.Spec, error) {
	bundle := o.bundle
	if bundle == "" {
		bundle = "."
	}
	bundle, err := filepath.Abs(bundle)
	if err != nil {
		return "", nil, err
	}
	if fi, err := os.Stat(bundle); err != nil || !fi.IsDir() {
		return "", nil, driver.InvalidArgumentf("runc create failed: bundle %s: not a directory", bundle)
	}
	spec, err := ocispec.Load(bundle)
	if err != nil {
		return "", nil, fmt.Errorf("runc create failed: %w", err)
	}
	terminal := spec.Process != nil && spec.Process.Terminal
	if terminal && o.consoleSocket == "" {
		return "", nil, driver.InvalidArgumentf("runc create failed: cannot allocate tty if runc will detach without setting console socket")
	}
	if !terminal && o.consoleSocket != "" {
		return "", nil, driver.InvalidArgumentf("runc create failed: cannot use console socket if runc will not detach or allocate tty")
	}
	return bundle, spec, nil
}

// writePidFile writes pid to path atomically, as runc does ("" writes
// nothing).
func writePidFile(path string, pid int) error {
	if path == "" {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("write pid file %s: %w", path, err)
	}
	return nil
}
