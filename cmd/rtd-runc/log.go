//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// statusError ends rtd-runc with a container process's exit status and
// prints nothing (run, exec).
type statusError struct{ code int }

func (e statusError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// codedError is a failure with an exit code other than 1 (exec's 255).
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// exit logs err as runc does and returns the exit code: a process's status
// as is, 1 for every failure of rtd-runc. With --log, the error goes to the
// log file in --log-format (containerd's go-runc and conmon read the last
// "error" entry from there) and a plain line to stderr; without it, a
// logrus-style text line to stderr.
func (a *app) exit(err error) int {
	if err == nil {
		return 0
	}
	var st statusError
	if errors.As(err, &st) {
		return st.code
	}
	code := 1
	var ce codedError
	if errors.As(err, &ce) {
		code = ce.code
	}
	msg := runcMessage(err)
	if a.logPath != "" {
		a.logf("error", "%s", msg)
		fmt.Fprintln(os.Stderr, msg)
	} else {
		fmt.Fprintln(os.Stderr, textLine("error", msg))
	}
	return code
}

// runcMessage is err's text without the errdefs class that driver's
// constructors append (": not found"): runc's callers read the message
// itself ("container does not exist", "container with id exists").
func runcMessage(err error) string {
	msg := err.Error()
	for _, class := range []error{errdefs.ErrNotFound, errdefs.ErrAlreadyExists, errdefs.ErrInvalidArgument,
		errdefs.ErrFailedPrecondition, errdefs.ErrNotImplemented, errdefs.ErrUnavailable, errdefs.ErrPermissionDenied} {
		if errors.Is(err, class) {
			msg = strings.TrimSuffix(msg, ": "+class.Error())
		}
	}
	return msg
}

// logf appends one entry to the --log file (nothing without --log, except
// errors, which exit prints).
func (a *app) logf(level, format string, args ...any) {
	if a.logPath == "" || (level == "debug" && !a.debug) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	var line string
	if a.logFormat == "json" {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().UTC().Format(time.RFC3339Nano)})
		line = string(b)
	} else {
		line = textLine(level, msg)
	}
	f, err := os.OpenFile(a.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

// textLine is logrus's text format, which runc writes to stderr.
func textLine(level, msg string) string {
	return fmt.Sprintf("time=%q level=%s msg=%q", time.Now().UTC().Format(time.RFC3339), level, msg)
}
