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
//	<state>/sb/<id>/                one sandbox (pod): its VM, monitor, records
//	<state>/sb/<id>/share/          its virtiofs share: its containers' images
//
// A container of a sandbox has its dir under c/ as any other, with a
// "sandbox" file naming the sandbox; the sandbox's monitor runs it and
// writes its exit.json there.
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

// sandboxKey names sandbox id where container ids name containers (host
// socket names): a sandbox and a container may have the same id.
func sandboxKey(id string) string { return "sandbox/" + id }

// sandboxSocket is the gRPC socket of a sandbox's monitor.
func (l layout) sandboxSocket(id string) string { return l.socketPath(sandboxKey(id)) }

// SandboxesDir holds one dir per sandbox (pod).
func (l layout) SandboxesDir() string { return filepath.Join(l.Root, "sb") }

// SandboxDir is the dir of sandbox id: its monitor's records, console and
// the share its containers' images go through.
func (l layout) SandboxDir(id string) string { return filepath.Join(l.SandboxesDir(), id) }

// sandboxFile in a container dir names the sandbox the container is in.
const sandboxFile = "sandbox"

// Pid records in a container dir.
const (
	monitorPidFile = "monitor.pid"
	qemuPidFile    = "qemu.pid"
)

// readPid reads a pid record of container dir dir.
func readPid(dir, name string) (imon.PidRecord, error) {
	return proc.ReadPidFile(filepath.Join(dir, name))
}
