package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

func newTopCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "top CONTAINER",
		Short: "List the processes of a running container (drivers with the pids capability)",
		Args:  argsExactly(1, "CONTAINER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, d, err := a.containerDriver(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := d.State(ctx, rec.ID)
			if err != nil {
				return lost(rec, err)
			}
			if st.Status != driver.StatusRunning && st.Status != driver.StatusPaused {
				return driver.FailedPreconditionf("container %s is not running", rec.ID)
			}
			procs, err := d.Pids(ctx, rec.ID)
			if err != nil {
				return lost(rec, err)
			}
			info, err := d.Info(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
			if !info.Isolation.SharesHostKernel {
				// The pids are the sandbox's or the guest's own: the host's
				// /proc says nothing about them.
				fmt.Fprintln(tw, "PID\tEXEC ID")
				for _, p := range procs {
					fmt.Fprintf(tw, "%d\t%s\n", p.Pid, dash(p.ExecID))
				}
				return tw.Flush()
			}
			fmt.Fprintln(tw, "UID\tPID\tPPID\tSTAT\tCMD")
			for _, p := range procs {
				uid, ppid, stat, cmdline := hostProcess(p.Pid)
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", uid, p.Pid, ppid, stat, cmdline)
			}
			return tw.Flush()
		},
	}
}

// hostProcess reads a process's uid, parent, state and command line from
// the host's /proc ("?" for what cannot be read: it may have just ended).
func hostProcess(pid uint32) (uid, ppid, stat, cmdline string) {
	uid, ppid, stat, cmdline = "?", "?", "?", "?"
	dir := filepath.Join("/proc", strconv.Itoa(int(pid)))
	if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					uid = f[0]
				}
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "stat")); err == nil {
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 1 {
				stat, ppid = f[0], f[1]
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(b) > 0 {
		cmdline = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	}
	return uid, ppid, stat, cmdline
}
