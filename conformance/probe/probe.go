//go:build linux || wasip1

package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main runs the probe command in args ("report", "exit 3", ...) and returns
// the exit code.
func Main(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: probe report|exit N|write N stdout|stderr|echo TEXT|echo-err TEXT|cat|sleep SECS|ready-sleep SECS [CODE]|ignore-term SECS|alloc MB|fork N [survive-term]|trap-term|syscall NAME|touch PATH|read PATH|winsize|tick")
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
		return write(int64(num(1)), arg(2) == "stderr")
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
		if arg(2) != "" {
			return num(2)
		}
	case "ignore-term":
		return ignoreTerm(num(1))
	case "alloc":
		return alloc(num(1))
	case "fork":
		return fork(num(1), arg(2) == "survive-term")
	case "trap-term":
		return trapTerm()
	case "syscall":
		fmt.Println(trySyscall(arg(1)))
	case "touch":
		return touch(arg(1))
	case "read":
		return read(arg(1))
	case "winsize":
		return winsize()
	case "dial":
		return dial(arg(1))
	case "serve":
		return serve(arg(1), arg(2))
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

// dial connects to addr over TCP and copies what the peer sends to stdout.
func dial(addr string) int {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 1
	}
	defer c.Close()
	if _, err := io.Copy(os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 1
	}
	return 0
}

// serve listens on addr over TCP, prints "listening", answers the first
// connection with token and exits.
func serve(addr, token string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	defer ln.Close()
	fmt.Println("listening")
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	defer c.Close()
	if _, err := io.WriteString(c, token+"\n"); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

// write writes n bytes of Pattern to stdout, or to stderr.
func write(n int64, stderr bool) int {
	w := io.Writer(os.Stdout)
	if stderr {
		w = os.Stderr
	}
	if _, err := io.Copy(w, Pattern(n)); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		return 1
	}
	return 0
}

// touch creates path and prints OK, or the errno's name.
func touch(path string) int {
	f, err := os.Create(path)
	if err != nil {
		fmt.Println(errnoName(err))
		return 1
	}
	f.Close()
	fmt.Println("OK")
	return 0
}

// read prints the file at path, or the errno's name.
func read(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(errnoName(err))
		return 1
	}
	os.Stdout.Write(data)
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

// rootReadOnly reports whether creating /.probe fails with EROFS (a file
// it could create is removed again).
func rootReadOnly() bool {
	f, err := os.Create("/.probe")
	if err != nil {
		return errnoName(err) == "EROFS"
	}
	f.Close()
	os.Remove("/.probe")
	return false
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
