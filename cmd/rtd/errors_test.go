package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// The exit code comes from the error's type and class only: the same text
// with another class gives another code.
func TestExitCodeAndMessage(t *testing.T) {
	notFound := driver.NotFoundf(`start x: the command was not found: exec: "nope": executable file not found in $PATH`)
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{statusError{code: 42}, 42, ""},
		{fmt.Errorf("wrapped: %w", statusError{code: 137}), 137, ""},
		{driver.NotFoundf(`driver "foo" not found (searched: a, b)`), 125, `driver "foo" not found (searched: a, b)`},
		{driver.NotFoundf("no such container: x"), 125, "no such container: x"},
		// A driver's refusal to start the process: by class, as docker.
		{fmt.Errorf("create x: %w", core.ProcessError{Err: notFound}), 127,
			`create x: start x: the command was not found: exec: "nope": executable file not found in $PATH`},
		{core.ProcessError{Err: driver.PermissionDeniedf(`start x: the command cannot be executed: exec: "/etc": is a directory`)}, 126,
			`start x: the command cannot be executed: exec: "/etc": is a directory`},
		{core.ProcessError{Err: driver.InvalidArgumentf("start x: executable file not found")}, 125, "start x: executable file not found"},
		{core.ProcessError{Err: driver.Unavailablef("driver died: no such file or directory")}, 125, "driver died: no such file or directory"},
		{core.ProcessError{Err: errors.New("permission denied")}, 125, "permission denied"},
		// The class's name is cut once: the kernel's words before it stay.
		{core.ProcessError{Err: driver.PermissionDeniedf(`start x: the command cannot be executed: exec: "/etc/passwd": permission denied`)}, 126,
			`start x: the command cannot be executed: exec: "/etc/passwd": permission denied`},
		{driver.NotFoundf("stat /x: not found"), 125, "stat /x: not found"},
		// Not a process error: the class alone is not the command's.
		{notFound, 125, `start x: the command was not found: exec: "nope": executable file not found in $PATH`},
		{driver.PermissionDeniedf("root /tmp/x: /tmp/x is owned by uid 65534"), 125, "root /tmp/x: /tmp/x is owned by uid 65534"},
		{errors.Join(errors.New("one"), errors.New("two")), 125, "one; two"},
		{usageError(errors.New("unknown flag: --x")), 125, "unknown flag: --x"},
	} {
		code, msg := exitCode(tc.err)
		if code != tc.code || msg != tc.msg {
			t.Errorf("exitCode(%v) = %d, %q; want %d, %q", tc.err, code, msg, tc.code, tc.msg)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]uint32{"KILL": 9, "sigkill": 9, "SIGTERM": 15, "term": 15, "9": 9, "15": 15, "HUP": 1} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "NOPE", "-1"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) succeeded", in)
		}
	}
}

// Docker's codes: a failed run or create 125; any other failed command 1; a flag
// error 125 wherever it is; a container's or a process's own code as is.
func TestDockerCode(t *testing.T) {
	notFound := driver.NotFoundf("no such container: x")
	for _, tc := range []struct {
		command string
		err     error
		want    int
	}{
		{"rtd run", notFound, 125},
		{"rtd rm", notFound, 1},
		{"rtd inspect", notFound, 1},
		{"rtd rm", hintError{code: 125, err: errors.New("unknown flag: --x")}, 125},
		{"rtd rm", hintError{code: 1, err: errors.New(`"rtd rm" requires at least 1 argument`)}, 1},
		{"rtd ps", usageError(errors.New("invalid --format")), 125},
		{"rtd wait", statusError{code: 3}, 3},
		{"rtd exec", core.ProcessError{Err: driver.NotFoundf("exec: not found")}, 127},
		{"rtd create", notFound, 125},
		{"rtd network create", driver.AlreadyExistsf("network x exists"), 1},
		{"rtd volume rm", driver.FailedPreconditionf("volume in use"), 1},
	} {
		code, _ := exitCode(tc.err)
		if got := dockerCode(tc.command, tc.err, code); got != tc.want {
			t.Errorf("%s: %v: exit %d, want %d", tc.command, tc.err, got, tc.want)
		}
	}
}
