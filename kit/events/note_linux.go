//go:build linux

package events

import (
	"github.com/rtd-project/rtd/driver"
	mproc "github.com/rtd-project/rtd/kit/monitor/proc"
)

// Note journals the event typ of container id after a driver call that
// succeeded, with the pid in the container's pid file (kit/monitor's
// layout, STATE/c/ID/pid) when there is one. The call stands even when
// the journal cannot be written: the failure is logged.
func (j *Journal) Note(typ driver.EventType, id string) {
	ev := driver.Event{Type: typ, ID: id}
	if rec, err := mproc.ReadPidRecord(j.procDir(id, "")); err == nil {
		ev.Pid = uint32(rec.Pid)
	}
	if err := j.Record(ev); err != nil {
		j.log.Warn("events", "error", err)
	}
}

// ExecStarted is the hook to give kit/monitor's Containers.Exec for req:
// once the exec's process runs, it journals the exec event with its pid
// (an error fails the exec).
func (j *Journal) ExecStarted(req *driver.ExecRequest) func(pid int) error {
	return func(pid int) error {
		return j.Record(driver.Event{Type: driver.EventExec, ID: req.ID, ExecID: req.ExecID, Pid: uint32(pid)})
	}
}
