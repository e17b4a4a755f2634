//go:build linux

package main

import (
	"fmt"
	"net"
	"os"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/driver"
)

// stdioOf names the stand-in's descriptors 0-2 (rtd-runc's own, inherited)
// for the driver: /proc/STANDIN/fd/N, or "" for /dev/null. With a terminal,
// input and output are the slave the stand-in holds as descriptor 4.
func stdioOf(s *standin, terminal bool) (driver.Stdio, error) {
	if terminal {
		p := s.path(standinTtyFd)
		return driver.Stdio{Stdin: p, Stdout: p, Terminal: true}, nil
	}
	var paths [3]string
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			continue // closed: /dev/null
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFSOCK:
			return driver.Stdio{}, driver.NotImplementedf("stdio descriptor %d is a socket: rtd-runc passes pipes, files and terminals only", fd)
		case unix.S_IFCHR:
			if isDevNull(&st) {
				continue
			}
		}
		paths[fd] = s.path(fd)
	}
	return driver.Stdio{Stdin: paths[0], Stdout: paths[1], Stderr: paths[2]}, nil
}

func isDevNull(st *unix.Stat_t) bool {
	var null unix.Stat_t
	return unix.Stat("/dev/null", &null) == nil && null.Rdev == st.Rdev
}

// newConsole makes the terminal a --console-socket caller receives: a pty
// whose master goes to the socket (runc's protocol: one SCM_RIGHTS message)
// and whose slave, in raw mode, the stand-in holds; the driver's monitor
// copies between it and the container's own terminal.
func newConsole(socketPath string) (slave *os.File, retErr error) {
	master, slavePath, err := console.NewPty()
	if err != nil {
		return nil, fmt.Errorf("allocate a terminal: %w", err)
	}
	defer master.Close()
	slave, err = os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", slavePath, err)
	}
	defer func() {
		if retErr != nil {
			slave.Close()
		}
	}()
	if err := master.SetRaw(); err != nil {
		return nil, fmt.Errorf("raw mode on the terminal: %w", err)
	}
	conn, err := net.Dial("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("connect to the console socket %s: %w", socketPath, err)
	}
	defer conn.Close()
	sock, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, err
	}
	defer sock.Close()
	if err := utils.SendRawFd(sock, slavePath, master.Fd()); err != nil { //nolint:staticcheck // runc's own protocol helper
		return nil, fmt.Errorf("send the terminal to %s: %w", socketPath, err)
	}
	return slave, nil
}
