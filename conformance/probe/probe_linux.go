//go:build linux

package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main runs the probe command in args ("report", "exit 3", ...) and returns
// the exit code.
func Main(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: probe report|exit N|write N stdout|stderr|echo TEXT|echo-err TEXT|cat|sleep SECS|ready-sleep SECS|ignore-term SECS|alloc MB|fork N [survive-term]|trap-term|syscall NAME|touch PATH|read PATH|winsize|tick")
		return 2
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	num := func(i int) int {
		n, err := strconv.Atoi(arg(i))
		if err != nil {
			fmt.Fprintf(os.Stderr, "probe %s: bad number %q\n", args[0], arg(i))
			os.Exit(2)
		}
		return n
	}
	switch args[0] {
	case "report":
		return printJSON(Collect())
	case "exit":
		return num(1)
	case "write":
		w := io.Writer(os.Stdout)
		if arg(2) == "stderr" {
			w = os.Stderr
		}
		if _, err := io.Copy(w, Pattern(int64(num(1)))); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			return 1
		}
	case "echo":
		fmt.Println(strings.Join(args[1:], " "))
	case "echo-err":
		fmt.Fprintln(os.Stderr, strings.Join(args[1:], " "))
	case "cat":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			return 1
		}
	case "sleep":
		time.Sleep(time.Duration(num(1)) * time.Second)
	case "ready-sleep":
		fmt.Println("ready")
		time.Sleep(time.Duration(num(1)) * time.Second)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Duration(num(1)) * time.Second)
	case "alloc":
		return alloc(num(1))
	case "fork":
		return fork(num(1), arg(2) == "survive-term")
	case "trap-term":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("ready")
		<-ch
		fmt.Println("got SIGTERM")
	case "syscall":
		fmt.Println(trySyscall(arg(1)))
	case "touch":
		f, err := os.Create(arg(1))
		if err != nil {
			fmt.Println(errnoName(err))
			return 1
		}
		f.Close()
		fmt.Println("OK")
	case "read":
		data, err := os.ReadFile(arg(1))
		if err != nil {
			fmt.Println(errnoName(err))
			return 1
		}
		os.Stdout.Write(data)
	case "winsize":
		return winsize()
	case "tick":
		for i := 0; ; i++ {
			fmt.Println(i)
			time.Sleep(20 * time.Millisecond)
		}
	default:
		fmt.Fprintf(os.Stderr, "probe: unknown command %q\n", args[0])
		return 2
	}
	return 0
}

func printJSON(v any) int {
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

// alloc touches mb megabytes, printing progress, then sleeps: with a memory
// limit below mb the kernel's OOM killer ends it.
func alloc(mb int) int {
	var keep [][]byte
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			if j%4096 == 0 {
				b[j] = 1
			}
		}
		keep = append(keep, b)
	}
	fmt.Println("allocated", len(keep))
	time.Sleep(time.Hour)
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

func errnoName(err error) string {
	var errno syscall.Errno
	if e, ok := err.(*os.PathError); ok {
		err = e.Err
	}
	if e, ok := err.(syscall.Errno); ok {
		errno = e
		switch errno {
		case syscall.EPERM:
			return "EPERM"
		case syscall.EACCES:
			return "EACCES"
		case syscall.EROFS:
			return "EROFS"
		case syscall.EINVAL:
			return "EINVAL"
		case syscall.ENOSYS:
			return "ENOSYS"
		case syscall.ENOENT:
			return "ENOENT"
		}
		return "errno " + strconv.Itoa(int(errno))
	}
	return err.Error()
}
