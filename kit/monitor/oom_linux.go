//go:build linux

package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// OOMFiles are the cgroup files of process pid that carry its cgroup's
// "oom_kill N" counter (memory.oom_control on cgroup v1, memory.events on
// v2), for a Monitor's Exit.OOMFiles: the watch reads them when the
// workload exits and reports an OOM kill. Nil when pid has no memory
// cgroup (or has exited).
func OOMFiles(pid int) []string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		switch {
		case len(parts) != 3:
		case parts[1] == "memory":
			return []string{filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.oom_control")}
		case parts[0] == "0" && parts[1] == "":
			if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil { // pure cgroup v2
				return []string{filepath.Join("/sys/fs/cgroup", parts[2], "memory.events")}
			}
		}
	}
	return nil
}
