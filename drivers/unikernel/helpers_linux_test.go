package unikernel

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/internal/vmm"
)

func testSpecFor(rootfs string) *specs.Spec {
	return &specs.Spec{Process: &specs.Process{Args: []string{"/k.elf"}}, Root: &specs.Root{Path: rootfs}}
}

func accelTCG() vmm.AccelAnswer { return vmm.AccelAnswer{Accel: "tcg"} }
