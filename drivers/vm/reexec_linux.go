package vm

import "os"

// Reexec runs this process as a monitor when it was started as one, and
// never returns then. Call it first thing in main.
func Reexec() {
	if len(os.Args) == 3 && os.Args[0] == monitorName {
		os.Exit(runMonitor(os.Args[1], os.Args[2]))
	}
}
