// Package proc is the start half of a per-process monitor (package monitor
// is the driver's side): the monitor process reads its request, starts the
// workload through a Backend, reports the pid to the driver and hands the
// workload to package watch, re-executing into cmd/rtd-monitor when it can.
// It does not import the driver SDK (gRPC, go-plugin), so that a small
// binary such as cmd/rtd-linux-monitor can hold it with a backend and start
// quickly; the state layout and the request it shares with the driver side
// are defined here.
package proc
