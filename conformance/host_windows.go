//go:build windows

package conformance

import (
	"errors"
	"os"
)

// The suite's stdio plumbing uses FIFOs; on Windows it would need named
// pipes, which are not written yet: the cases that create containers fail
// with this error, and INFO cases still run.
var errNoFIFO = errors.New("conformance: stdio FIFOs are not implemented on windows yet")

func mkfifo(string) error { return errNoFIFO }

func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func hostUname() (release, version string) { return "windows", "" }
