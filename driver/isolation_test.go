package driver

import (
	"testing"

	"github.com/containerd/errdefs"
)

func TestIsolationRankOrder(t *testing.T) {
	order := []IsolationClass{IsolationProcess, IsolationWasm, IsolationSandbox, IsolationVM}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Errorf("%s (rank %d) should rank below %s (rank %d)", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	if IsolationVM.Rank() != IsolationUnikernel.Rank() {
		t.Errorf("vm and unikernel should rank the same")
	}
	if IsolationClass("container").Rank() != 0 || IsolationClass("").Rank() != 0 {
		t.Errorf("unknown classes should rank 0")
	}
}

func TestIsolationAtLeast(t *testing.T) {
	cases := []struct {
		c, min IsolationClass
		want   bool
	}{
		{IsolationVM, IsolationSandbox, true},
		{IsolationUnikernel, IsolationVM, true},
		{IsolationVM, IsolationUnikernel, true},
		{IsolationSandbox, IsolationSandbox, true},
		{IsolationProcess, IsolationSandbox, false},
		{IsolationWasm, IsolationProcess, true},
		{IsolationWasm, IsolationSandbox, false},
		{IsolationClass("bogus"), IsolationProcess, false},
		{IsolationClass(""), IsolationClass(""), false},
	}
	for _, tc := range cases {
		if got := tc.c.AtLeast(tc.min); got != tc.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", tc.c, tc.min, got, tc.want)
		}
	}
}

func TestParseIsolationClass(t *testing.T) {
	for in, want := range map[string]IsolationClass{
		"process": IsolationProcess, "wasm": IsolationWasm, "sandbox": IsolationSandbox,
		"vm": IsolationVM, "unikernel": IsolationUnikernel, " VM ": IsolationVM,
	} {
		got, err := ParseIsolationClass(in)
		if err != nil || got != want {
			t.Errorf("ParseIsolationClass(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "container", "vms", "hypervisor"} {
		if _, err := ParseIsolationClass(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParseIsolationClass(%q) error = %v, want InvalidArgument", in, err)
		}
	}
}

func TestIsolationCheck(t *testing.T) {
	good := Isolation{Class: IsolationProcess, SharesHostKernel: true, SyscallFilter: "seccomp", CapabilityModel: "spec sets", ResourceAccounting: "host cgroup"}
	if err := good.Check(); err != nil {
		t.Fatalf("a complete process descriptor: %v", err)
	}
	vm := good
	vm.Class, vm.SharesHostKernel, vm.GuestKernel = IsolationVM, false, "linux 6.1"
	if err := vm.Check(); err != nil {
		t.Fatalf("a complete vm descriptor: %v", err)
	}
	bad := map[string]func(*Isolation){
		"unknown class":              func(i *Isolation) { i.Class = "container" },
		"no syscall filter":          func(i *Isolation) { i.SyscallFilter = "" },
		"no capability model":        func(i *Isolation) { i.CapabilityModel = "" },
		"no resource accounting":     func(i *Isolation) { i.ResourceAccounting = "" },
		"process not sharing":        func(i *Isolation) { i.SharesHostKernel = false; i.GuestKernel = "x" },
		"vm sharing the host":        func(i *Isolation) { i.Class = IsolationVM },
		"own kernel left unnamed":    func(i *Isolation) { i.Class, i.SharesHostKernel = IsolationSandbox, false },
		"unikernel sharing the host": func(i *Isolation) { i.Class = IsolationUnikernel },
	}
	for name, breakIt := range bad {
		i := good
		breakIt(&i)
		if err := i.Check(); err == nil {
			t.Errorf("%s: Check passed %+v", name, i)
		}
	}
}
