package rtdshim

import (
	"testing"

	"github.com/containerd/errdefs"
)

// TestPodResources: the pod's resources that containerd's CRI puts on the
// pause container become the sandbox's; 0 is unset, none gives nil, a bad
// value is InvalidArgument naming the annotation.
func TestPodResources(t *testing.T) {
	res, err := podResources(map[string]string{
		criSandboxCPUPeriod: "100000", criSandboxCPUQuota: "50000", criSandboxCPUShares: "512", criSandboxMemory: "268435456",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || res.CPU == nil || res.Memory == nil || *res.CPU.Period != 100000 || *res.CPU.Quota != 50000 ||
		*res.CPU.Shares != 512 || *res.Memory.Limit != 268435456 {
		t.Fatalf("podResources = %+v, want period 100000 quota 50000 shares 512 memory 256 MiB", res)
	}
	// What CRI writes for a pod without limits: shares only.
	res, err = podResources(map[string]string{criSandboxCPUPeriod: "0", criSandboxCPUQuota: "0", criSandboxCPUShares: "2", criSandboxMemory: "0"})
	if err != nil || res == nil || res.Memory != nil || res.CPU.Quota != nil || *res.CPU.Shares != 2 {
		t.Fatalf("podResources of shares only = %+v, %v", res, err)
	}
	if res, err := podResources(map[string]string{"other": "1"}); res != nil || err != nil {
		t.Fatalf("podResources without CRI's annotations = %+v, %v; want nil", res, err)
	}
	_, err = podResources(map[string]string{criSandboxMemory: "lots"})
	if !errdefs.IsInvalidArgument(err) || err == nil {
		t.Fatalf("podResources of a bad value: %v, want InvalidArgument", err)
	}
}
