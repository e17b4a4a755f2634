// Package logfile is the format of a detached container's log
// (container.log): the workload's stdout and stderr kept apart, each chunk
// stamped with the time the monitor read it, so that `rtd logs` can send
// stderr to its own stderr, print docker's -t timestamps and filter with
// --since/--until.
//
// A log file starts with Magic, which its creator (the core) writes; a
// monitor that finds Magic at the start of an output file appends records
// to it, one write per chunk it read from the workload:
//
//	offset 0  1 byte   0x1e (record mark)
//	offset 1  1 byte   stream: 1 stdout, 2 stderr
//	offset 2  2 bytes  zero
//	offset 4  4 bytes  payload length, little endian (at most MaxPayload)
//	offset 8  8 bytes  time read, Unix nanoseconds, little endian
//	offset 16          payload (the bytes as the workload wrote them)
//
// The header costs 16 bytes per read (a read is up to 64 KiB), one
// time.Now and no copy: the monitor reads into the buffer behind the
// header and writes header and payload in one append, so the stdout and
// stderr copies never interleave inside a record.
//
// A file without Magic (logs written before this format, or by a driver
// that does not know it) reads as raw stdout with no time, and so does
// the rest of a file from a record that does not parse.
//
// The package links only the standard library: the monitor's small binary
// (cmd/rtd-monitor) imports it.
package logfile
