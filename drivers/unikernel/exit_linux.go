package unikernel

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// exitOf translates the exit status recorded in a container dir (see
// guestExit).
func (d *Driver) exitOf(dir string, raw *driver.ExitStatus) *driver.ExitStatus {
	guest, _ := os.ReadFile(filepath.Join(dir, guestFile))
	status, _ := os.ReadFile(filepath.Join(dir, statusFile))
	killed := 0
	if data, err := os.ReadFile(filepath.Join(dir, killedFile)); err == nil {
		killed, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	st := guestExit(string(guest), *raw, status, killed)
	if raw.Reason != "" && st.Reason == "" && raw.Code == 255 && raw.Signal == 0 && killed == 0 {
		st.Reason = raw.Reason // the monitor's own: status lost
	}
	return &st
}
