package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// runSelfJob re-executes this runner in a job mode (-cpu, -verbs) with job
// as its JSON argument and returns the nanoseconds the job printed. what
// names the job in an error, with the last lines of the child's stderr.
func runSelfJob(mode string, job any, what string) (time.Duration, error) {
	data, err := json.Marshal(job)
	if err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	out, err := exec.Command(self, "-"+mode, string(data)).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = lastLines(string(ee.Stderr), 3)
		}
		return 0, fmt.Errorf("%s: %v: %s", what, err, msg)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("-%s printed %q", mode, out)
	}
	return time.Duration(ns), nil
}

// startSelfJob is the start of a job mode: decode the JSON argument into
// job and become the child subreaper of everything the job starts, so that
// the job reaps (and, for -cpu, accounts for) what its commands leave
// behind.
func startSelfJob(arg string, job any) error {
	if err := json.Unmarshal([]byte(arg), job); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
