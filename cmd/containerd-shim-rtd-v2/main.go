//go:build linux

// Command containerd-shim-rtd-v2 is containerd's runtime v2 shim for rtd
// (runtime_type "io.containerd.rtd.v2"): it runs containers on any rtd
// driver, chosen per containerd runtime handler by its options. Install it
// on containerd's PATH next to the rtd-driver-* executables.
package main

import (
	"context"

	"github.com/containerd/containerd/v2/pkg/shim"

	"github.com/rtd-project/rtd/internal/rtdshim"
)

func main() {
	rtdshim.Register()
	shim.Run(context.Background(), rtdshim.NewManager(rtdshim.RuntimeName))
}
