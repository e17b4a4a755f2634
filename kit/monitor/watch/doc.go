// Package watch is the second half of a per-process monitor: once the
// workload exists, it copies the workload's stdio, answers the driver on the
// control socket, reaps the workload (the monitor is its subreaper) and
// writes exit.json. Output to a container log goes in kit/logfile's
// records. It links only the standard library, kit/logfile, x/sys and
// containerd/console, so that cmd/rtd-monitor, the small binary a monitor
// re-executes into after starting its workload, costs a few MB instead of
// the driver binary's resident pages (docs/performance.md).
//
// A monitor without that binary runs the same code in its own process.
package watch
