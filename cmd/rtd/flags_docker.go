package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/containerd/console"
	"github.com/spf13/pflag"

	"github.com/rtd-project/rtd/core"
)

// dockerFlags are run and create flags beyond the basics: security
// (--cap-add, --cap-drop, --privileged, --security-opt), the process
// (--entrypoint, --env-file, --init, --ulimit, --cpus) and how stop ends
// the container (--stop-signal, --stop-timeout).
type dockerFlags struct {
	capAdd, capDrop []string
	privileged      bool
	securityOpts    []string
	entrypoint      string
	envFiles        []string
	init            bool
	ulimits         []string
	cpus            float64
	stopSignal      string
	stopTimeout     int
	logOpts         []string
}

func (f *dockerFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.capAdd, "cap-add", nil, "add a Linux capability (NET_ADMIN, CAP_SYS_TIME, ALL)")
	fs.StringArrayVar(&f.capDrop, "cap-drop", nil, "drop a Linux capability (or ALL)")
	fs.BoolVar(&f.privileged, "privileged", false, "every capability, no seccomp profile, no masked paths, writable /sys, all device cgroup rules")
	fs.StringArrayVar(&f.securityOpts, "security-opt", nil, "seccomp=unconfined, seccomp=FILE (an OCI/docker profile), no-new-privileges[=true|false]")
	fs.StringVar(&f.entrypoint, "entrypoint", "", "run this program; the arguments after IMAGE become its arguments")
	fs.StringArrayVar(&f.envFiles, "env-file", nil, "read environment variables from a file (KEY=VALUE or KEY per line, # comments)")
	fs.BoolVar(&f.init, "init", false, "run an init (rtd's) as pid 1 that forwards signals and reaps zombies")
	fs.StringArrayVar(&f.ulimits, "ulimit", nil, "resource limit NAME=SOFT[:HARD] (nofile, nproc, core, ...)")
	fs.Float64Var(&f.cpus, "cpus", 0, "number of CPUs (e.g. 1.5)")
	fs.StringVar(&f.stopSignal, "stop-signal", "", "signal stop sends first (default SIGTERM)")
	fs.IntVar(&f.stopTimeout, "stop-timeout", -1, "seconds stop waits before SIGKILL (default 10)")
	fs.StringArrayVar(&f.logOpts, "log-opt", nil, "log attributes for logs --details: labels=KEY,..., env=NAME,..., labels-regex=RE, env-regex=RE")
}

// apply adds the flags to opts; env files go before -e, which overrides them.
func (f *dockerFlags) apply(opts *core.CreateOptions) error {
	sec := &opts.Spec.Security
	sec.CapAdd, sec.CapDrop, sec.Privileged = f.capAdd, f.capDrop, f.privileged
	if err := sec.SecurityOpts(f.securityOpts); err != nil {
		return usageError(err)
	}
	var env []string
	for _, path := range f.envFiles {
		e, err := readEnvFile(path)
		if err != nil {
			return err
		}
		env = append(env, e...)
	}
	opts.Spec.Env = append(env, opts.Spec.Env...)
	lo, err := core.ParseLogOpts(f.logOpts)
	if err != nil {
		return err
	}
	opts.Log = lo
	p := &opts.Spec.Process
	p.Entrypoint, p.Init, p.Ulimits, p.CPUs = f.entrypoint, f.init, f.ulimits, f.cpus
	if f.init {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("--init: find the rtd binary: %w", err)
		}
		p.InitBinary = exe
	}
	if f.stopSignal != "" {
		if _, err := parseSignal(f.stopSignal); err != nil {
			return err
		}
		opts.StopSignal = f.stopSignal
	}
	if f.stopTimeout < -1 {
		return usageError(fmt.Errorf("invalid --stop-timeout %d: want seconds, 0 or more", f.stopTimeout))
	}
	if f.stopTimeout >= 0 {
		t := time.Duration(f.stopTimeout) * time.Second
		opts.StopTimeout = &t
	}
	return nil
}

// readEnvFile reads docker's env file format: KEY=VALUE, or KEY to copy
// the variable from rtd's environment; blank lines and # comments skipped.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("--env-file: %w", err))
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _ := strings.Cut(line, "=")
		if key == "" || strings.ContainsAny(key, " \t") {
			return nil, usageError(fmt.Errorf("--env-file %s, line %d: %q is not KEY=VALUE", path, n, line))
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, usageError(fmt.Errorf("--env-file %s: %w", path, err))
	}
	return out, nil
}

// checkInputTTY is docker's check of run -it: with a terminal asked for
// and stdin attached, stdin must be a terminal (exit 1, as docker's).
// create -i and -it are fine without one: nobody is attached yet.
func checkInputTTY(want bool) error {
	if !want {
		return nil
	}
	if _, err := console.ConsoleFromFile(os.Stdin); err != nil {
		return codedError{code: exitFailure, err: fmt.Errorf("the input device is not a TTY")}
	}
	return nil
}
