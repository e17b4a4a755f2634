package vm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/drivers/vm/wire"
)

// probeTimeout bounds the KVM probe boot: a guest that works boots to its
// init in well under a second with KVM; PVM-backed /dev/kvm hangs instead.
const probeTimeout = 10 * time.Second

// accelFormat versions accel.json: an answer of another format is probed
// again.
const accelFormat = 2

// accelAnswer is the cached result of the accelerator probe (with the
// host's TSC rate, measured at the same time).
type accelAnswer struct {
	Format int
	Accel  string // "kvm" or "tcg"
	Reason string // why not kvm, when tcg
	// TSCKHz is the host's TSC rate, for tsc_early_khz under TCG.
	TSCKHz int
	// The answer holds for this QEMU and kernel.
	QEMU     string
	Kernel   string
	ProbedAt time.Time
}

// probeAccel decides between KVM and TCG: $RTD_VM_ACCEL if set, else the
// cached answer, else a real boot with KVM (opening /dev/kvm proves nothing:
// a PVM backend answers ioctls but stock kernels never boot under it).
func probeAccel(l layout, log hclog.Logger, a *assets) accelAnswer {
	switch v := os.Getenv(AccelEnv); v {
	case "kvm", "tcg":
		return accelAnswer{Accel: v, Reason: "set by $" + AccelEnv, TSCKHz: hostTSCKHz()}
	}
	if a.ready() != nil {
		return accelAnswer{Accel: "tcg", Reason: "not probed: the driver is not ready"}
	}
	var ans accelAnswer
	valid := func() bool {
		return readJSON(l.accelFile(), &ans) == nil && ans.Format == accelFormat && ans.QEMU == a.qemu && ans.Kernel == a.kernel.release
	}
	if valid() {
		return ans
	}
	if err := os.MkdirAll(l.root, 0o700); err != nil {
		return accelAnswer{Accel: "tcg", Reason: "state dir: " + err.Error()}
	}
	lock, err := os.OpenFile(filepath.Join(l.root, "accel.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		defer lock.Close()
		_ = unix.Flock(int(lock.Fd()), unix.LOCK_EX)
		if valid() {
			return ans
		}
	}
	ans = accelAnswer{Format: accelFormat, Accel: "tcg", QEMU: a.qemu, Kernel: a.kernel.release, ProbedAt: time.Now().UTC(), TSCKHz: hostTSCKHz()}
	if err := probeKVM(l, a); err != nil {
		ans.Reason = err.Error()
	} else {
		ans.Accel, ans.Reason = "kvm", ""
	}
	log.Info("accelerator probed", "accel", ans.Accel, "reason", ans.Reason)
	_ = writeJSONAtomic(l.accelFile(), ans)
	return ans
}

// probeKVM boots the guest once with KVM and reports why it did not work.
func probeKVM(l layout, a *assets) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("kvm: /dev/kvm: %v", err)
	}
	f.Close()
	initrd, err := initramfs(l.initramfsDir(), a.agent, a.kernel)
	if err != nil {
		return fmt.Errorf("kvm: not probed: %v", err)
	}
	console, err := os.CreateTemp(l.root, "kvm-probe-*.log")
	if err != nil {
		return fmt.Errorf("kvm: not probed: %v", err)
	}
	console.Close()
	defer os.Remove(console.Name())
	cfg := vmConfig{accel: "kvm", memoryMiB: minMemoryMiB, cpus: 1, kernel: a.kernel, initrd: initrd, console: console.Name(), probe: true}
	var stderr bytes.Buffer
	q, err := startQEMU(a.qemu, cfg.qemuArgs(), nil, &stderr)
	if err != nil {
		return fmt.Errorf("kvm: %v", err)
	}
	deadline := time.Now().Add(probeTimeout)
	for time.Now().Before(deadline) {
		if out, _ := os.ReadFile(console.Name()); bytes.Contains(out, []byte(wire.ProbeOK)) {
			q.kill()
			q.wait(5 * time.Second)
			return nil
		}
		if q.wait(20 * time.Millisecond) {
			if out, _ := os.ReadFile(console.Name()); bytes.Contains(out, []byte(wire.ProbeOK)) {
				return nil
			}
			msg := strings.TrimSpace(lastLine(stderr.String()))
			if msg == "" {
				msg = q.exitReason()
			}
			return fmt.Errorf("kvm: a test guest did not boot: %s", msg)
		}
	}
	q.kill()
	q.wait(5 * time.Second)
	return fmt.Errorf("kvm: a test guest did not boot within %s (a PVM or nested /dev/kvm that cannot run stock kernels?)", probeTimeout)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
