package driver

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// The error constructors below wrap the errdefs classes, so that callers on
// both sides of the plugin boundary can test errors with errdefs.IsNotFound
// and friends. Messages are lowercase, name the operation and the id, and
// stand alone: rtd prints them without the class name appended to them
// ("wait x: no such container", never "wait x: container" relying on
// ": not found"). The class decides rtd's exit code: NotFound from Create,
// Start or Exec means the command was not found (127), PermissionDenied
// that it cannot be executed (126).

func classed(class error, format string, args []any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), class)
}

// NotFoundf returns an error of class NotFound.
func NotFoundf(format string, args ...any) error {
	return classed(errdefs.ErrNotFound, format, args)
}

// AlreadyExistsf returns an error of class AlreadyExists.
func AlreadyExistsf(format string, args ...any) error {
	return classed(errdefs.ErrAlreadyExists, format, args)
}

// InvalidArgumentf returns an error of class InvalidArgument.
func InvalidArgumentf(format string, args ...any) error {
	return classed(errdefs.ErrInvalidArgument, format, args)
}

// FailedPreconditionf returns an error of class FailedPrecondition.
func FailedPreconditionf(format string, args ...any) error {
	return classed(errdefs.ErrFailedPrecondition, format, args)
}

// NotImplementedf returns an error of class NotImplemented.
func NotImplementedf(format string, args ...any) error {
	return classed(errdefs.ErrNotImplemented, format, args)
}

// PermissionDeniedf returns an error of class PermissionDenied.
func PermissionDeniedf(format string, args ...any) error {
	return classed(errdefs.ErrPermissionDenied, format, args)
}

// Unavailablef returns an error of class Unavailable.
func Unavailablef(format string, args ...any) error {
	return classed(errdefs.ErrUnavailable, format, args)
}
