package lcmon

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// The errdefs classes, as the driver SDK's constructors make them: they
// cross to the driver through proc's start report.

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

func alreadyExistsf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrAlreadyExists)
}

func notFoundf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrNotFound)
}

func permissionDeniedf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrPermissionDenied)
}
