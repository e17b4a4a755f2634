//go:build !linux

package conformance

import (
	"fmt"
	"runtime"
)

type netNS struct{ path string }

func newNetNS(string) (*netNS, error) {
	return nil, fmt.Errorf("network namespaces are Linux's, not %s's", runtime.GOOS)
}

func (n *netNS) serve(string) (string, error) { return "", fmt.Errorf("no network namespace") }

func (n *netNS) close() {}
