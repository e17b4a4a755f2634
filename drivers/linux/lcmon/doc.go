// Package lcmon is the linux driver's monitor backend: it creates a
// container's init or an exec'd process with libcontainer inside a monitor
// process (package proc), and is libcontainer's init when re-executed as
// "init". It does not import the driver SDK, so cmd/rtd-linux-monitor, the
// binary that holds it, starts in about half the time of the driver binary;
// that happens twice per container (the monitor and libcontainer's init,
// which is a re-execution of the monitor's binary).
package lcmon
