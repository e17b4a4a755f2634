package unikernel

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// guestExit turns QEMU's exit status (raw, as the monitor recorded it)
// into the container's:
//
//   - a Kill's signal (killed, 0: none) wins when QEMU ended by a signal or
//     shut down at it (SIGTERM and SIGINT make QEMU exit 0): 128+signal;
//   - linux guest: the code rtd's init wrote on the status disk (status),
//     with the OOM kill it saw in the program's cgroup;
//   - pvh, unikraft: isa-debug-exit's status (N<<1)|1 is the guest's N; 0
//     means the guest halted the machine (success);
//   - anything else is QEMU's own failure, reported as is with a reason.
func guestExit(guest string, raw driver.ExitStatus, status []byte, killed int) driver.ExitStatus {
	st := driver.ExitStatus{ExitedAt: raw.ExitedAt, OOMKilled: raw.OOMKilled}
	if guest == GuestLinux {
		if code, oom, ok := parseStatus(status); ok {
			st.Code, st.OOMKilled = uint32(code), oom
			if killed == 0 && code > 128 && code <= 128+64 {
				st.Reason = fmt.Sprintf("the guest program ended by signal %d", code-128)
			}
			return st
		}
	}
	switch {
	case raw.Signal != 0:
		st.Signal, st.Code = raw.Signal, 128+uint32(raw.Signal)
		return st
	case killed != 0 && (raw.Code == 0 || guest == GuestLinux):
		st.Signal, st.Code = int32(killed), 128+uint32(killed)
		return st
	case guest == GuestLinux:
		st.Code = 255
		st.Reason = fmt.Sprintf("the linux guest ended without reporting an exit status (qemu exited with %d; see the container's stderr, the guest's console)", raw.Code)
		return st
	case raw.Code == 0:
		return st
	case raw.Code&1 == 1:
		st.Code = raw.Code >> 1
		return st
	}
	st.Code = raw.Code
	st.Reason = fmt.Sprintf("qemu failed with status %d (see the container's stderr)", raw.Code)
	return st
}

// parseStatus reads "rtd-exit: N" (and " oom" when the OOM killer struck
// in the program's cgroup) from the start of the status disk.
func parseStatus(data []byte) (code int, oom, ok bool) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	v, ok := strings.CutPrefix(string(line), "rtd-exit: ")
	if !ok {
		return 0, false, false
	}
	v, oom = strings.CutSuffix(v, " oom")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 255 {
		return 0, false, false
	}
	return n, oom, true
}
