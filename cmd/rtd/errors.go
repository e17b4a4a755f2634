package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Exit codes of rtd's own failures, as docker uses them.
const (
	exitRtdError       = 125 // rtd itself failed
	exitCannotInvoke   = 126 // the container's command cannot be run
	exitCommandMissing = 127 // the container's command was not found
)

// statusError ends rtd with a container's exit status, printing nothing.
type statusError struct{ code int }

func (e statusError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// codedError is an error with a specific exit code.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// usageError marks a command-line mistake (exit 125, like every rtd error).
func usageError(err error) error { return codedError{code: exitRtdError, err: err} }

// commandError maps a failure to start a workload to docker's exit codes
// when the driver says why: 127 when the command was not found, 126 when it
// cannot be run.
func commandError(err error) error {
	if err == nil || !errdefs.IsInvalidArgument(err) {
		return err
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return codedError{code: exitCommandMissing, err: err}
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "exec format error"), strings.Contains(msg, "is a directory"):
		return codedError{code: exitCannotInvoke, err: err}
	}
	return err
}

// exitCode returns the exit code for err and the message to print, if any.
func exitCode(err error) (int, string) {
	if err == nil {
		return 0, ""
	}
	var st statusError
	if errors.As(err, &st) {
		return st.code, ""
	}
	code := exitRtdError
	var ce codedError
	if errors.As(err, &ce) {
		code = ce.code
	}
	return code, message(err)
}

// classSuffixes are what errdefs classes append to a wrapped message.
var classSuffixes = []error{
	errdefs.ErrNotFound, errdefs.ErrAlreadyExists, errdefs.ErrInvalidArgument,
	errdefs.ErrFailedPrecondition, errdefs.ErrNotImplemented, errdefs.ErrUnavailable,
	errdefs.ErrUnknown, errdefs.ErrPermissionDenied, errdefs.ErrInternal,
}

// message is err on one line, without the names of its errdefs classes
// appended to it (the message already says what is wrong).
func message(err error) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	for changed := true; changed; {
		changed = false
		for _, c := range classSuffixes {
			if !errors.Is(err, c) {
				continue
			}
			if t, ok := strings.CutSuffix(s, ": "+c.Error()); ok {
				s, changed = t, true
			}
		}
	}
	return s
}
