package core

import (
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// InitPath is where --init mounts rtd's init (the rtd binary itself, which
// runs as init under this name): on /dev, a tmpfs of the container, so the
// image is never written to.
const InitPath = "/dev/rtd-init"

// InitName is the program name under which the rtd binary runs as init.
const InitName = "rtd-init"

// ProcessOptions are docker's run flags that change the process beyond the
// command line: --entrypoint, --init, --ulimit and --cpus.
type ProcessOptions struct {
	// Entrypoint, when set, replaces the command's first word: the command
	// becomes Entrypoint followed by SpecOptions.Args (docker resets the
	// image's CMD too).
	Entrypoint string
	// Init runs the process under rtd's init (InitBinary, mounted at
	// InitPath): it reaps zombies and forwards signals, as docker-init.
	Init       bool
	InitBinary string
	// Ulimits are docker's --ulimit values: NAME=SOFT[:HARD].
	Ulimits []string
	// CPUs is the number of CPUs the container may use (CFS quota).
	CPUs float64
}

// rlimitNames maps docker's --ulimit names to the OCI spec's types.
var rlimitNames = map[string]string{
	"core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA", "fsize": "RLIMIT_FSIZE",
	"locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK", "msgqueue": "RLIMIT_MSGQUEUE",
	"nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE", "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS",
	"rtprio": "RLIMIT_RTPRIO", "rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING",
	"stack": "RLIMIT_STACK", "as": "RLIMIT_AS",
}

// ParseUlimit parses docker's --ulimit NAME=SOFT[:HARD] (-1: unlimited).
func ParseUlimit(s string) (specs.POSIXRlimit, error) {
	name, val, ok := strings.Cut(s, "=")
	typ, known := rlimitNames[name]
	if !ok || !known {
		return specs.POSIXRlimit{}, driver.InvalidArgumentf("invalid --ulimit %q: want NAME=SOFT[:HARD] with NAME one of nofile, nproc, core, memlock, stack, ...", s)
	}
	softS, hardS, hasHard := strings.Cut(val, ":")
	if !hasHard {
		hardS = softS
	}
	parse := func(v string) (uint64, error) {
		if v == "-1" {
			return math.MaxUint64, nil
		}
		return strconv.ParseUint(v, 10, 64)
	}
	soft, err1 := parse(softS)
	hard, err2 := parse(hardS)
	if err1 != nil || err2 != nil {
		return specs.POSIXRlimit{}, driver.InvalidArgumentf("invalid --ulimit %q: limits are numbers (or -1 for unlimited)", s)
	}
	if soft > hard {
		return specs.POSIXRlimit{}, driver.InvalidArgumentf("invalid --ulimit %q: the soft limit %s is above the hard limit %s", s, softS, hardS)
	}
	return specs.POSIXRlimit{Type: typ, Soft: soft, Hard: hard}, nil
}

// applyProcessOptions applies o to spec, after the command line was set.
func applyProcessOptions(spec *specs.Spec, args []string, o ProcessOptions) error {
	p := spec.Process
	if o.Entrypoint != "" {
		p.Args = append([]string{o.Entrypoint}, args...)
	}
	for _, u := range o.Ulimits {
		rl, err := ParseUlimit(u)
		if err != nil {
			return err
		}
		p.Rlimits = append(slicesDeleteRlimit(p.Rlimits, rl.Type), rl)
	}
	if o.CPUs < 0 {
		return driver.InvalidArgumentf("invalid --cpus %v: must not be negative", o.CPUs)
	}
	if o.CPUs > 0 {
		if spec.Linux == nil {
			spec.Linux = &specs.Linux{}
		}
		if spec.Linux.Resources == nil {
			spec.Linux.Resources = &specs.LinuxResources{}
		}
		period := uint64(100000)
		quota := int64(o.CPUs * float64(period))
		if quota < 1000 {
			return driver.InvalidArgumentf("invalid --cpus %v: the minimum is 0.01", o.CPUs)
		}
		spec.Linux.Resources.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if o.Init {
		if o.InitBinary == "" {
			return driver.InvalidArgumentf("--init: this rtd has no init program")
		}
		p.Args = append([]string{InitPath, "--"}, p.Args...)
		spec.Mounts = append(spec.Mounts, specs.Mount{
			Destination: InitPath, Type: "bind", Source: o.InitBinary,
			Options: []string{"bind", "ro", "nosuid", "nodev"},
		})
	}
	return nil
}

func slicesDeleteRlimit(rl []specs.POSIXRlimit, typ string) []specs.POSIXRlimit {
	out := rl[:0:0]
	for _, r := range rl {
		if r.Type != typ {
			out = append(out, r)
		}
	}
	return out
}
