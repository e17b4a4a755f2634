// Command rtd-monitor is the small half of rtd's per-process monitors. A
// Linux driver's monitor starts its workload from the driver binary, then
// re-executes into this binary, which keeps the workload as its child
// (subreaper), copies its stdio, answers the driver and writes its exit
// status (kit/monitor/watch). It links no libcontainer, gRPC or
// go-plugin, so a running container costs a few MB. It is not run by hand.
//
//	rtd-monitor STATE PROCDIR CONFIGFD
//
// CONFIGFD is an inherited descriptor (a memfd) holding the watch's JSON
// config: nothing of it shows on the command line.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/rtd-project/rtd/kit/monitor/watch"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "rtd-monitor: not to be run by hand; a driver's monitor re-executes into it (rtd-monitor STATE PROCDIR CONFIGFD)")
		os.Exit(2)
	}
	fd, err := strconv.Atoi(os.Args[3])
	if err != nil || fd < 3 {
		fmt.Fprintf(os.Stderr, "rtd-monitor: config descriptor %q: not a descriptor number\n", os.Args[3])
		os.Exit(2)
	}
	f := os.NewFile(uintptr(fd), "config")
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	f.Close()
	var cfg watch.Config
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "rtd-monitor: config: %v\n", err)
		os.Exit(2)
	}
	os.Exit(watch.Main(cfg))
}
