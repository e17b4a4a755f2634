//go:build linux

package events

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// execGrace is how long a container's exit waits to be journaled after the
// exit record of its init while one of its execs has no exit record yet:
// the execs die with the container and their exits come first.
const execGrace = 5 * time.Second

// Derive journals the exits (and OOM kills) that monitors recorded and no
// event says yet, for every container. Streams call it when they open and
// then periodically; it is idempotent and safe to run in several processes.
func (j *Journal) Derive() {
	entries, err := os.ReadDir(filepath.Join(j.root, "c"))
	if err != nil {
		return
	}
	for _, e := range entries {
		j.deriveContainer(e.Name(), nil)
	}
}

// Deleted journals what is missing of a container's end: the exits of its
// execs (a synthetic one, code 255, for an exec whose status was never
// recorded), its OOM kill and exit (from exit.json, else from exit), then
// the delete event. Delete calls it once the container has ended and
// before its dir is removed. A container whose create was never journaled
// gets no events.
func (j *Journal) Deleted(id string, exit *driver.ExitStatus) error {
	if exit == nil {
		exit = &driver.ExitStatus{Code: 255, ExitedAt: time.Now().UTC(), Reason: "exit status not recorded"}
	}
	pid, ok := readMarker(filepath.Join(j.procDir(id, ""), markerCreate))
	if !ok {
		return nil
	}
	if err := j.deriveContainer(id, exit); err != nil {
		return err
	}
	_, err := j.append(record{Type: driver.EventDelete, ID: id, Pid: pid, Exit: exit}, "", "", false)
	return err
}

// deriveContainer journals the recorded exits of a container's execs and
// then of its init. With final (Deleted) it does not wait for anything and
// falls back to final for the init and to a synthetic status for execs.
func (j *Journal) deriveContainer(id string, final *driver.ExitStatus) error {
	cdir := j.procDir(id, "")
	names := dirNames(cdir)
	if !names[markerCreate] || names[markerExit] {
		return nil
	}
	execsPending := false
	execs, _ := os.ReadDir(filepath.Join(cdir, "exec"))
	for _, e := range execs {
		edir := j.procDir(id, e.Name())
		en := dirNames(edir)
		if !en[markerExec] || en[markerExit] {
			continue
		}
		st := readExit(edir)
		if st == nil && final != nil {
			st = &driver.ExitStatus{Code: 255, ExitedAt: final.ExitedAt, Reason: "the exec's exit status was not recorded before its container was deleted"}
		}
		if st == nil {
			execsPending = true
			continue
		}
		if err := j.journalExit(id, e.Name(), edir, st); err != nil {
			return err
		}
	}
	st := readExit(cdir)
	if final != nil {
		if st == nil {
			st = final
		}
		return j.journalExit(id, "", cdir, st)
	}
	if st == nil || (execsPending && time.Since(st.ExitedAt) < execGrace) {
		return nil
	}
	// A driver call (Start, Pause, ...) may be about to journal its event:
	// the exit comes after it, at the next pass.
	unlock, ok := tryLock(cdir)
	if !ok {
		return nil
	}
	defer unlock()
	return j.journalExit(id, "", cdir, st)
}

// journalExit journals the OOM kill (if any) and the exit of a process,
// each once.
func (j *Journal) journalExit(id, execID, dir string, st *driver.ExitStatus) error {
	marker := markerCreate
	if execID != "" {
		marker = markerExec
	}
	pid, _ := readMarker(filepath.Join(dir, marker))
	if st.OOMKilled {
		rec := record{Type: driver.EventOOM, ID: id, ExecID: execID, Pid: pid}
		if _, err := j.append(rec, filepath.Join(dir, markerOOM), "", true); err != nil {
			return err
		}
	}
	rec := record{Type: driver.EventExit, ID: id, ExecID: execID, Pid: pid, Exit: st}
	_, err := j.append(rec, filepath.Join(dir, markerExit), "", true)
	return err
}

// dirNames returns the set of names in dir.
func dirNames(dir string) map[string]bool {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

// readExit reads a process dir's exit.json, nil if there is none yet.
func readExit(dir string) *driver.ExitStatus {
	data, err := os.ReadFile(filepath.Join(dir, "exit.json"))
	if err != nil {
		return nil
	}
	var st driver.ExitStatus
	if json.Unmarshal(data, &st) != nil {
		return nil
	}
	return &st
}

// readMarker reads the pid a create or exec marker holds; ok is false when
// there is no marker.
func readMarker(path string) (pid uint32, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	return uint32(n), true
}
