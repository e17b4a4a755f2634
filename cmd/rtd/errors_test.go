package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rtd-project/rtd/driver"
)

func TestExitCodeAndMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{statusError{code: 42}, 42, ""},
		{fmt.Errorf("wrapped: %w", statusError{code: 137}), 137, ""},
		{driver.NotFoundf(`driver "foo" not found (searched: a, b)`), 125, `driver "foo" not found (searched: a, b)`},
		{fmt.Errorf("create x: %w", driver.InvalidArgumentf("start x: exec: \"nope\": executable file not found in $PATH")), 125,
			`create x: start x: exec: "nope": executable file not found in $PATH`},
		{commandError(driver.InvalidArgumentf("start x: exec: \"nope\": executable file not found in $PATH")), 127,
			`start x: exec: "nope": executable file not found in $PATH`},
		{commandError(driver.InvalidArgumentf("start x: exec: \"/etc\": permission denied")), 126, `start x: exec: "/etc": permission denied`},
		{commandError(driver.Unavailablef("driver died: no such file or directory")), 125, "driver died: no such file or directory"},
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
