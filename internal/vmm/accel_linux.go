package vmm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/kit/atomicfile"
)

// ProbeTimeout bounds a KVM probe boot: a guest that works boots to its
// init in well under a second with KVM; PVM-backed /dev/kvm hangs instead.
const ProbeTimeout = 10 * time.Second

// accelFormat versions the cached answer: an answer of another format is
// probed again.
const accelFormat = 2

// AccelAnswer is the result of the accelerator probe (with the host's TSC
// rate, measured at the same time).
type AccelAnswer struct {
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

// AccelProbe decides between KVM and TCG for one driver.
type AccelProbe struct {
	// CacheFile holds the answer (JSON); a lock file goes next to it.
	CacheFile string
	// QEMU and Kernel identify what the answer holds for.
	QEMU, Kernel string
	// Env names the variable that forces "kvm" or "tcg".
	Env string
	// Boot boots a test guest with KVM and says why it did not work.
	Boot func() error
}

// Run returns $Env if set, else the cached answer, else the answer of a
// real boot with KVM (opening /dev/kvm proves nothing: a PVM backend
// answers ioctls but stock kernels never boot under it), which it caches.
func (p AccelProbe) Run(log hclog.Logger) AccelAnswer {
	switch v := os.Getenv(p.Env); v {
	case "kvm", "tcg":
		return AccelAnswer{Accel: v, Reason: "set by $" + p.Env, TSCKHz: HostTSCKHz()}
	}
	var ans AccelAnswer
	valid := func() bool {
		return atomicfile.ReadJSON(p.CacheFile, &ans) == nil && ans.Format == accelFormat && ans.QEMU == p.QEMU && ans.Kernel == p.Kernel
	}
	if valid() {
		return ans
	}
	dir := filepath.Dir(p.CacheFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return AccelAnswer{Accel: "tcg", Reason: "state dir: " + err.Error()}
	}
	lock, err := os.OpenFile(filepath.Join(dir, "accel.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		defer lock.Close()
		_ = unix.Flock(int(lock.Fd()), unix.LOCK_EX)
		if valid() {
			return ans
		}
	}
	ans = AccelAnswer{Format: accelFormat, Accel: "tcg", QEMU: p.QEMU, Kernel: p.Kernel, ProbedAt: time.Now().UTC(), TSCKHz: HostTSCKHz()}
	if err := p.Boot(); err != nil {
		ans.Reason = err.Error()
	} else {
		ans.Accel, ans.Reason = "kvm", ""
	}
	log.Info("accelerator probed", "accel", ans.Accel, "reason", ans.Reason)
	_ = atomicfile.WriteJSON(p.CacheFile, ans, 0o600)
	return ans
}

// ProbeBoot starts qemu with args (a KVM guest whose serial console goes to
// the file console) and waits until marker shows on the console: nil if it
// does within ProbeTimeout, else why not.
func ProbeBoot(qemu string, args []string, console, marker string) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("kvm: /dev/kvm: %v", err)
	}
	f.Close()
	var stderr bytes.Buffer
	q, err := Start(qemu, args, nil, &stderr)
	if err != nil {
		return fmt.Errorf("kvm: %v", err)
	}
	deadline := time.Now().Add(ProbeTimeout)
	for time.Now().Before(deadline) {
		if out, _ := os.ReadFile(console); bytes.Contains(out, []byte(marker)) {
			q.Kill()
			q.Wait(5 * time.Second)
			return nil
		}
		if q.Wait(20 * time.Millisecond) {
			if out, _ := os.ReadFile(console); bytes.Contains(out, []byte(marker)) {
				return nil
			}
			msg := strings.TrimSpace(lastLine(stderr.String()))
			if msg == "" {
				msg = q.ExitReason()
			}
			return fmt.Errorf("kvm: a test guest did not boot: %s", msg)
		}
	}
	q.Kill()
	q.Wait(5 * time.Second)
	return fmt.Errorf("kvm: a test guest did not boot within %s (a PVM or nested /dev/kvm that cannot run stock kernels?)", ProbeTimeout)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
