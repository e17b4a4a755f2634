//go:build linux

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

func (a *app) runCommand() *cobra.Command {
	o := &createOptions{}
	var detach, keep bool
	cmd := &cobra.Command{
		Use: "run [flags] ID", Short: "create and start a container", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			defer s.close()
			ctx, id := cmd.Context(), args[0]
			st, err := s.create(ctx, id, o)
			if err != nil {
				return err
			}
			rec, d, err := s.container(ctx, id)
			if err != nil {
				return err
			}
			if err := d.Start(ctx, id); err != nil {
				_, _ = d.Delete(context.WithoutCancel(ctx), &driver.DeleteRequest{ID: id, Force: true})
				_ = s.store.Remove(id)
				return err
			}
			if detach {
				return nil
			}
			code := forwardUntilExit(ctx, d, st, id, "")
			if !keep {
				_, _ = d.Delete(context.WithoutCancel(ctx), &driver.DeleteRequest{ID: rec.ID, Force: true})
				_ = s.store.Remove(rec.ID)
			}
			return statusError{code: code}
		},
	}
	o.flags(cmd)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "detach from the container's process")
	cmd.Flags().BoolVar(&keep, "keep", false, "do not delete the container after it exits")
	return cmd
}

// forwardUntilExit waits for a stand-in rtd-runc keeps as its child,
// passing the signals rtd-runc receives on to the process (as runc run and
// exec do), and returns the process's exit code. The driver process is not
// kept running meanwhile.
func forwardUntilExit(ctx context.Context, d *core.Plugin, st *standin, id, execID string) int {
	d.Close()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGQUIT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
	done := make(chan int, 1)
	go func() { done <- st.wait() }()
	for {
		select {
		case code := <-done:
			return code
		case sig := <-sigs:
			_ = d.Kill(ctx, &driver.KillRequest{ID: id, ExecID: execID, Signal: uint32(sig.(syscall.Signal))})
		}
	}
}
