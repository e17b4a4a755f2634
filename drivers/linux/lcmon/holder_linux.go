package lcmon

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// HolderArg is the first argument that makes the monitor binary a sandbox
// holder: the small process (a pause) whose namespaces the containers of a
// sandbox join. The driver starts it in new namespaces (clone flags) with
// HolderHostnameEnv and HolderLoopbackEnv; it sets them up, writes
// HolderReady on stdout and then only reaps children until a signal ends it.
const HolderArg = "sandbox-holder"

// Environment of a holder.
const (
	HolderHostnameEnv = "RTD_SANDBOX_HOSTNAME" // set the hostname (new UTS namespace)
	HolderLoopbackEnv = "RTD_SANDBOX_LOOPBACK" // bring lo up (new network namespace)
)

// HolderReady is the line a holder writes once its namespaces are set up.
const HolderReady = "ready"

// holderMain is the holder's whole life; it returns the exit code.
func holderMain() int {
	if h := os.Getenv(HolderHostnameEnv); h != "" {
		if err := unix.Sethostname([]byte(h)); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox holder: set hostname %q: %v\n", h, err)
			return 1
		}
	}
	if os.Getenv(HolderLoopbackEnv) != "" {
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sandbox holder: bring up lo: %v\n", err)
			return 1
		}
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGCHLD)
	if _, err := fmt.Fprintln(os.Stdout, HolderReady); err != nil {
		return 1
	}
	os.Stdout.Close()
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			return 0
		}
		// As pid 1 of a shared pid namespace it inherits orphans: reap them.
		for {
			var ws unix.WaitStatus
			if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
	return 0
}
