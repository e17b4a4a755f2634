package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
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

// lost says what to do when the driver of a recorded container answers
// that it has no such container (its state is gone): the record is all
// that is left, and rm removes it.
func lost(rec *core.Record, err error) error {
	var pe core.ProcessError
	if err == nil || !errdefs.IsNotFound(err) || errors.As(err, &pe) {
		return err
	}
	return driver.NotFoundf("%s (the %s driver no longer has container %s; rtd rm %s removes its record)", message(err), rec.Driver, rec.ID, rec.ID)
}

// exitCode returns the exit code for err and the message to print, if any.
// It comes from the error's type and class, never from its text: a
// container's status as is; a driver's refusal to start a process
// (core.ProcessError) by class, as docker: NotFound 127 (command not
// found), PermissionDenied 126 (cannot be executed); every other failure
// of rtd 125.
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
	var he hintError
	var pe core.ProcessError
	switch {
	case errors.As(err, &he):
		code = he.code
	case errors.As(err, &ce):
		code = ce.code
	case errors.As(err, &pe) && errdefs.IsNotFound(pe.Err):
		code = exitCommandMissing
	case errors.As(err, &pe) && errdefs.IsPermissionDenied(pe.Err):
		code = exitCannotInvoke
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
// appended to it: every message of rtd and its drivers says what is wrong
// without them ("no such container: x", not "x: not found").
func message(err error) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	// Once per class: the suffix the errdefs constructors and errgrpc add.
	// The words before it are the message's own ("...: permission denied"
	// from the kernel stays).
	for _, c := range classSuffixes {
		if errors.Is(err, c) {
			s = strings.TrimSuffix(s, ": "+c.Error())
		}
	}
	return s
}

// exitFailure is docker's exit code for a failed command other than run:
// docker exits 125 only when run fails (or a flag cannot be parsed), and 1
// when any other command does (rm, kill, inspect, stop, ...).
const exitFailure = 1

// hintError is an error followed by a hint line on stderr, as docker's
// "See 'docker run --help'." after a flag or argument error.
type hintError struct {
	code int
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

// helpHint is docker's hint naming a command's help.
func helpHint(path string) string { return "See '" + path + " --help'." }

// dockerCode applies docker's rule to the exit code of a failed command:
// an error without a code of its own (not a usage error, not a container's
// or a process's status) exits 1, except from run and create (125).
// command is the command's path ("rtd run"; "rtd network create" is not
// a container's create).
func dockerCode(command string, err error, code int) int {
	if code != exitRtdError || command == "rtd run" || command == "rtd create" {
		return code
	}
	var ce codedError
	var he hintError
	if errors.As(err, &ce) || errors.As(err, &he) {
		return code
	}
	return exitFailure
}
