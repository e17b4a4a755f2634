package vm

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"

	imon "github.com/rtd-project/rtd/kit/monitor"
	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// The state directory of the driver is an imon.Layout (package kit/monitor):
//
//	<state>/c/<id>/                 one container: its VM, monitor and records
//	<state>/c/<id>/exec/<exec-id>/  exit.json of an exec'd process
//	<state>/s/<hash>.sock           monitor sockets (short paths)
//	<state>/initramfs/<hash>.cpio   initramfs images, by content hash
//	<state>/accel.json              the accelerator probe's answer
//
// A container dir holds request.json (what the monitor runs), monitor.pid and
// qemu.pid (pid records), exit.json (written once), monitor.log,
// console.log (the guest's serial console) and, while the VM runs, the disk
// images it boots with. The records are the kit's (package monitor), in its
// formats.
type layout struct{ imon.Layout }

func newLayout(root string) layout { return layout{imon.Layout{Root: root}} }

func (l layout) initramfsDir() string { return filepath.Join(l.Root, "initramfs") }
func (l layout) accelFile() string    { return filepath.Join(l.Root, "accel.json") }

// socketPath is the monitor's gRPC socket. Its name is the vm driver's own
// (a hash of the id alone, not imon.Layout.SocketPath's): the monitors
// of VMs that run while the driver is upgraded stay reachable.
func (l layout) socketPath(id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(l.Root, "s", hex.EncodeToString(sum[:8])+".sock")
}

// Pid records in a container dir.
const (
	monitorPidFile = "monitor.pid"
	qemuPidFile    = "qemu.pid"
)

// readPid reads a pid record of container dir dir.
func readPid(dir, name string) (imon.PidRecord, error) {
	return proc.ReadPidFile(filepath.Join(dir, name))
}
