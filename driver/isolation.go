package driver

import (
	"fmt"
	"strings"
)

// IsolationClass is how strongly a driver separates a workload from the host,
// from weakest to strongest: process < wasm < sandbox < vm, unikernel.
type IsolationClass string

// Isolation classes.
const (
	IsolationProcess   IsolationClass = "process"
	IsolationWasm      IsolationClass = "wasm"
	IsolationSandbox   IsolationClass = "sandbox"
	IsolationVM        IsolationClass = "vm"
	IsolationUnikernel IsolationClass = "unikernel"
)

// Rank orders classes; 0 means unknown.
func (c IsolationClass) Rank() int {
	switch c {
	case IsolationProcess:
		return 1
	case IsolationWasm:
		return 2
	case IsolationSandbox:
		return 3
	case IsolationVM, IsolationUnikernel:
		return 4
	}
	return 0
}

// AtLeast reports whether c isolates at least as strongly as min.
func (c IsolationClass) AtLeast(min IsolationClass) bool {
	return c.Rank() > 0 && c.Rank() >= min.Rank()
}

// ParseIsolationClass parses a class name; unknown names are InvalidArgument.
func ParseIsolationClass(s string) (IsolationClass, error) {
	c := IsolationClass(strings.ToLower(strings.TrimSpace(s)))
	if c.Rank() == 0 {
		return "", InvalidArgumentf("unknown isolation class %q: want process, wasm, sandbox, vm or unikernel", s)
	}
	return c, nil
}

// Isolation is the honest, machine-readable description of what a driver
// isolates, for security reviewers to compare drivers.
type Isolation struct {
	Class IsolationClass
	// SharesHostKernel is true when the workload's syscalls reach the host kernel.
	SharesHostKernel bool
	// GuestKernel names the kernel the workload runs on when it is not the host's.
	GuestKernel string
	// SyscallFilter says how syscalls are filtered ("seccomp: spec profile", "none").
	SyscallFilter  string
	UserNamespaces bool
	// CapabilityModel says how Linux capabilities (or the OS equivalent) apply.
	CapabilityModel string
	Rootless        bool
	// ResourceAccounting says where limits are enforced ("host cgroup v2", "in guest").
	ResourceAccounting string
	// Platform names the backend's platform or accelerator ("ptrace", "kvm", "tcg").
	Platform  string
	KnownGaps []string
}

// Check reports whether i is a description a reviewer can compare (the
// rules of the conformance case INFO-003): a known class; the syscall
// filter, resource accounting and capability model described; class
// process shares the host kernel, sandbox, vm and unikernel do not; and a
// driver that does not share the host kernel names its guest kernel. A
// placeholder for another OS describes the isolation the driver gives where
// it runs, so it passes too.
func (i Isolation) Check() error {
	if i.Class.Rank() == 0 {
		return fmt.Errorf("unknown isolation class %q", i.Class)
	}
	if i.SyscallFilter == "" || i.ResourceAccounting == "" || i.CapabilityModel == "" {
		return fmt.Errorf("syscall filter %q, resource accounting %q, capability model %q: all must be described", i.SyscallFilter, i.ResourceAccounting, i.CapabilityModel)
	}
	switch i.Class {
	case IsolationProcess:
		if !i.SharesHostKernel {
			return fmt.Errorf("class process must share the host kernel")
		}
	case IsolationSandbox, IsolationVM, IsolationUnikernel:
		if i.SharesHostKernel {
			return fmt.Errorf("class %s cannot share the host kernel", i.Class)
		}
	}
	if !i.SharesHostKernel && i.GuestKernel == "" {
		return fmt.Errorf("does not share the host kernel but names no guest kernel")
	}
	return nil
}
