//go:build linux

package probe

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// ignoreTerm ignores SIGTERM, says "ready" and sleeps secs seconds.
func ignoreTerm(secs int) int {
	signal.Ignore(syscall.SIGTERM)
	fmt.Println("ready")
	time.Sleep(time.Duration(secs) * time.Second)
	return 0
}

// trapTerm says "ready", waits for SIGTERM and says so.
func trapTerm() int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	fmt.Println("ready")
	<-ch
	fmt.Println("got SIGTERM")
	return 0
}

// fork starts n children that sleep, prints how many started, and waits for
// them (they die with the container). With survive, the parent catches
// SIGTERM (the children do not) and says "children ended" when all are gone.
func fork(n int, survive bool) int {
	if survive {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM)
	}
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	var started []*exec.Cmd
	for i := 0; i < n; i++ {
		c := exec.Command(self, "sleep", "3600")
		c.Args[0] = os.Args[0]
		if err := c.Start(); err != nil {
			break
		}
		started = append(started, c)
	}
	fmt.Println("forked", len(started))
	for _, c := range started {
		_ = c.Wait()
	}
	fmt.Println("children ended")
	return 0
}

func trySyscall(name string) string {
	var err error
	switch name {
	case "getpriority":
		_, err = syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	case "mount":
		err = syscall.Mount("none", "/tmp", "tmpfs", 0, "")
	case "sethostname":
		err = syscall.Sethostname([]byte("probe-changed"))
	case "chroot":
		err = syscall.Chroot("/")
	case "reboot":
		err = syscall.Reboot(0) // invalid cmd: EINVAL if allowed, EPERM if not
	default:
		return "unknown syscall " + name
	}
	if err != nil {
		return errnoName(err)
	}
	return "OK"
}
