// Command rtd-monitor is the small half of rtd's per-process monitors. A
// Linux driver's monitor starts its workload from the driver binary, then
// re-executes into this binary, which keeps the workload as its child
// (subreaper), copies its stdio, answers the driver and writes its exit
// status (internal/monitor/watch). It links no libcontainer, gRPC or
// go-plugin, so a running container costs a few MB. It is not run by hand.
//
//	rtd-monitor STATE PROCDIR CONFIG
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rtd-project/rtd/internal/monitor/watch"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "rtd-monitor: not to be run by hand; a driver's monitor re-executes into it (rtd-monitor STATE PROCDIR CONFIG)")
		os.Exit(2)
	}
	var cfg watch.Config
	if err := json.Unmarshal([]byte(os.Args[3]), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "rtd-monitor: config: %v\n", err)
		os.Exit(2)
	}
	os.Exit(watch.Main(cfg))
}
