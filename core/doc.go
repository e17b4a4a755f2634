// Package core is rtd's thin core: it finds driver executables, launches
// them as go-plugin processes (relaunching one that died), keeps one record
// per container under a root directory, and turns an image argument ("hello",
// an OCI bundle directory or a root filesystem directory) into the OCI bundle
// a driver runs. Every container operation is routed to the driver that
// created the container; the core holds no container state in memory.
package core
