// Package wire is what the vm driver's host side and its guest agent agree
// on: the name of the virtio-serial port, the yamux settings of the session
// multiplexed over it, the header that opens every stream, the control
// messages, and the paths and disk serials inside the guest.
//
// Every stream of the session starts with one JSON line (a Header) written by
// the host, which opens all streams. Kind "grpc" streams carry the driver
// contract (the agent serves a linux driver); kind "stdio" streams carry one
// standard stream of one process; kind "ctl" streams carry one Request and
// its Reply.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/rtd-project/rtd/internal/guest"
)

// PortName is the name of the virtserialport the agent serves on.
const PortName = "rtd.agent"

// Disk serials of the block devices the host attaches.
const (
	RootfsSerial = "rtd-rootfs" // EROFS image of the bundle's root
	BindsSerial  = "rtd-binds"  // EROFS image of the spec's bind-mount sources
)

// Paths inside the guest.
const (
	GuestRun      = "/run/rtd"
	GuestRootfs   = "/run/rtd/rootfs" // overlay: rootfs image + tmpfs
	GuestBundle   = "/run/rtd/bundle" // config.json as the guest sees it
	GuestBinds    = "/run/rtd/binds"  // bind sources, BindsSerial mounted
	GuestShares   = "/run/rtd/shares" // virtiofs shares, one dir each
	GuestIO       = "/run/rtd/io"     // FIFOs of the processes' stdio
	GuestStateDir = "/run/rtd/linux"  // state of the guest's linux driver
)

// Paths of a pod's containers inside the guest.
const (
	GuestContainers = "/run/rtd/c"   // one dir per container of a pod
	PodShare        = "/run/rtd/pod" // the pod's virtiofs share (share 0)
	PodRootfsImage  = "rootfs.img"   // names of the images in a container's
	PodBindsImage   = "binds.img"    // directory of the pod share

	// PodShm is the pod's shared memory, a tmpfs of the guest: what a
	// container's read-write bind of a directory onto /dev/shm (CRI's
	// pod /dev/shm) becomes in a pod.
	PodShm = "/run/rtd/pod-shm"
)

// ContainerDir is the guest directory of a pod's container id.
func ContainerDir(id string) string { return path.Join(GuestContainers, id) }

// ContainerRootfs is the root (overlay) of a pod's container.
func ContainerRootfs(id string) string { return path.Join(ContainerDir(id), "rootfs") }

// ContainerBundle holds the config.json of a pod's container.
func ContainerBundle(id string) string { return path.Join(ContainerDir(id), "bundle") }

// ContainerBinds is where a pod's container's binds image is mounted.
func ContainerBinds(id string) string { return path.Join(ContainerDir(id), "binds") }

// ContainerBindSource is where the guest finds the source of bind mount i
// of a pod's container.
func ContainerBindSource(id string, i int) string {
	return path.Join(ContainerBinds(id), fmt.Sprint(i))
}

// PodImage is the guest path of an image of a pod's container in the pod
// share.
func PodImage(layout, name string) string { return path.Join(PodShare, layout, name) }

// BindSource is where the guest finds the source of bind mount i.
func BindSource(i int) string { return path.Join(GuestBinds, fmt.Sprint(i)) }

// ShareTag is the virtiofs tag of share i (a host directory served by
// virtiofsd).
func ShareTag(i int) string { return fmt.Sprintf("rtdfs%d", i) }

// ShareSource is where the guest mounts share i.
func ShareSource(i int) string { return path.Join(GuestShares, fmt.Sprint(i)) }

// ProbeArg on the kernel command line makes the agent report ProbeOK on the
// console and power off at once: the host boots it to learn whether an
// accelerator works.
const (
	ProbeArg = "rtd.probe=1"
	ProbeOK  = "RTD-AGENT-PROBE-OK"
)

// InfoArg makes the agent binary, run on the host, print its AgentInfo as
// JSON and exit.
const InfoArg = "--info"

// AgentInfo is what the agent binary tells about how it was built.
type AgentInfo struct {
	// SyscallFilter is "seccomp" when the guest's linux driver enforces
	// seccomp profiles, "none" when it was built without.
	SyscallFilter string
}

// Stream kinds.
const (
	KindGRPC  = "grpc"
	KindStdio = "stdio"
	KindCtl   = "ctl"
)

// Standard streams of a stdio stream.
const (
	Stdin  = "stdin"
	Stdout = "stdout"
	Stderr = "stderr"
)

// Header opens a stream.
type Header struct {
	Kind string
	// ID and ExecID name the process of a stdio stream ("" ExecID: init).
	ID     string `json:",omitempty"`
	ExecID string `json:",omitempty"`
	// Stream is stdin, stdout or stderr.
	Stream string `json:",omitempty"`
}

// Control operations.
const (
	// OpInit prepares a VM of one container: it sets the guest clock to
	// UnixNano, configures the network interfaces Net, mounts the root filesystem (and the binds disk when Binds,
	// and the virtiofs shares 0..Shares-1) and writes Spec as the bundle's
	// config.json (GuestBundle).
	OpInit = "init"
	// OpPod prepares the VM of a pod (sandbox): it sets the clock and the
	// hostname (Hostname), and mounts the pod's share (virtiofs share 0,
	// tag ShareTag(0), at PodShare) through which the host hands over every
	// container's images.
	OpPod = "pod"
	// OpContainer lays a pod's container out: it loop-mounts the EROFS
	// image PodImage(Layout, PodRootfsImage) of the pod share under a writable
	// overlay at ContainerRootfs(ID), the binds image likewise when Binds,
	// and writes Spec as ContainerBundle(ID)/config.json.
	OpContainer = "container"
	// OpRemove undoes OpContainer for container ID (after the guest's
	// linux driver deleted it).
	OpRemove = "remove"
)

// Request is a control request (see the Op constants).
type Request struct {
	Op       string
	UnixNano int64           `json:",omitempty"`
	Spec     json.RawMessage `json:",omitempty"`
	Binds    bool            `json:",omitempty"`
	Shares   int             `json:",omitempty"`
	Net      []Interface     `json:",omitempty"`
	ID       string          `json:",omitempty"`
	Hostname string          `json:",omitempty"`
	// Layout names the directory of the pod share holding container ID's
	// images (unique per container, so that an id used again never meets
	// the guest's cached view of an old image).
	Layout string `json:",omitempty"`
}

// Interface is a virtio-net device of the guest (see guest.Interface).
type Interface = guest.Interface

// Route is a route of an Interface.
type Route = guest.Route

// Reply answers a control request (the agent also greets with an empty
// Reply when it accepts a control stream), and acknowledges a stdio stream once its
// FIFO exists in the guest (Path).
type Reply struct {
	Error string `json:",omitempty"`
	Path  string `json:",omitempty"`
}

// IOPath is the guest FIFO of one standard stream of a process.
func IOPath(id, execID, stream string) string {
	if execID == "" {
		execID = "-init"
	}
	return path.Join(GuestIO, id, execID, stream)
}

// maxLine bounds a header or control line (a spec can be large).
const maxLine = 16 << 20

// WriteLine writes v as one JSON line.
func WriteLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// ReadLine reads one JSON line into v without reading past it, so the rest
// of the stream stays for whoever uses it next.
func ReadLine(r io.Reader, v any) error {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
			if len(line) > maxLine {
				return errors.New("line too long")
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) == 0 {
				return io.EOF
			}
			return err
		}
	}
	return json.Unmarshal(line, v)
}

// Config is the yamux configuration of both ends. There are no automatic
// keepalives: the guest answers nothing while it boots, so the host bounds
// the boot itself and pings the agent only once it is up (a ping waits
// ConnectionWriteTimeout for its answer). Stream opens wait as long as the
// guest boots; windows are large for stdio throughput.
func Config(logOutput io.Writer) *yamux.Config {
	c := yamux.DefaultConfig()
	c.EnableKeepAlive = false
	c.ConnectionWriteTimeout = 30 * time.Second
	c.StreamOpenTimeout = 0
	c.StreamCloseTimeout = 0
	c.MaxStreamWindowSize = 4 << 20
	c.AcceptBacklog = 256
	if logOutput == nil {
		logOutput = io.Discard
	}
	c.LogOutput = logOutput
	return c
}
