//go:build !linux

package network

import (
	"context"
	"net"
	"runtime"

	"github.com/containernetworking/cni/pkg/invoke"

	"github.com/rtd-project/rtd/driver"
)

func unsupported() error {
	return driver.NotImplementedf("container networking is not supported on %s yet: use --network none or host", runtime.GOOS)
}

// CheckPlugins fails: networking needs Linux.
func CheckPlugins() error { return unsupported() }

// Attach fails: networking needs Linux.
func Attach(context.Context, *Attachment, invoke.Exec) error { return unsupported() }

// Detach has nothing to undo where nothing could be attached.
func Detach(context.Context, *Attachment, invoke.Exec) error { return nil }

// CreateNS fails: network namespaces are Linux's.
func CreateNS(string) error { return unsupported() }

// RemoveNS has nothing to remove.
func RemoveNS(string) error { return nil }

func hostRoutes() []*net.IPNet { return nil }

func deleteLink(string) error { return nil }

func removeMasquerade(string, string) error { return nil }

func linkExists(string) bool { return false }
