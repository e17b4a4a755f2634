package imagestore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// classed wraps class into a message of its own (see driver.NotFoundf).
func classed(class error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), class)
}

// classify gives an error of a transfer or a write its errdefs class:
// NotFound for an unknown repository, tag or digest, PermissionDenied for
// refused credentials, ResourceExhausted for a full disk, Unavailable for
// a registry that cannot be reached or dropped the connection.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, c := range []error{errdefs.ErrNotFound, errdefs.ErrInvalidArgument, errdefs.ErrPermissionDenied,
		errdefs.ErrResourceExhausted, errdefs.ErrUnavailable, errdefs.ErrDataLoss, errdefs.ErrFailedPrecondition} {
		if errors.Is(err, c) {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	// go-containerregistry's verifying reader (internal/verify) has no
	// exported error type: its message is all there is to go by.
	if strings.HasPrefix(err.Error(), "error verifying") || strings.Contains(err.Error(), ": error verifying ") {
		return classed(errdefs.ErrDataLoss, "%s: content does not match its digest (corrupt or tampered): %v; refused", op, err)
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return classed(errdefs.ErrNotFound, "%s: not in the registry: %v", op, te)
		case http.StatusUnauthorized, http.StatusForbidden:
			return classed(errdefs.ErrPermissionDenied, "%s: the registry refused the credentials (docker login, or ~/.docker/config.json): %v", op, te)
		}
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return classed(errdefs.ErrNotFound, "%s: not in the registry: %v", op, te)
			}
		}
		return classed(errdefs.ErrUnavailable, "%s: %v", op, te)
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return classed(errdefs.ErrResourceExhausted, "%s: no space left on the device: %v; free some space (rtd image prune) and try again", op, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return classed(errdefs.ErrUnavailable, "%s: the registry could not be reached or dropped the connection: %v; run the command again to retry", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
