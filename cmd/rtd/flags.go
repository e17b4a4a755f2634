package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// containerFlags are the flags run and create share.
type containerFlags struct {
	name        string
	driver      string
	isolation   string
	env         []string
	workdir     string
	user        string
	readOnly    bool
	tty         bool
	interactive bool
	memory      string
	pidsLimit   int64
	hostname    string
	labels      []string
	rm          bool
	network     string
	publish     []string
	volumes     []string
	mounts      []string
	tmpfs       []string
	docker      dockerFlags
	pod         string
}

func (f *containerFlags) register(fs *pflag.FlagSet) {
	fs.SetInterspersed(false) // flags after IMAGE belong to the command
	fs.StringVar(&f.name, "name", "", "container id (default: 12 random hex characters)")
	fs.StringVar(&f.driver, "driver", "", "driver name, or path to a driver executable (default: the policy's default for this OS, else linux)")
	fs.StringVar(&f.isolation, "isolation", "", "minimum isolation: process, wasm, sandbox, vm or unikernel (picks the weakest healthy driver that meets it)")
	fs.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy it from here)")
	fs.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&f.user, "user", "u", "", "user as uid[:gid] (names are looked up in the image's /etc/passwd)")
	fs.BoolVar(&f.readOnly, "read-only", false, "mount the root filesystem read-only")
	fs.BoolVarP(&f.tty, "tty", "t", false, "allocate a terminal")
	fs.BoolVarP(&f.interactive, "interactive", "i", false, "keep stdin connected")
	fs.StringVar(&f.memory, "memory", "", "memory limit (e.g. 64m, 1g)")
	fs.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of processes (0: no limit)")
	fs.StringVar(&f.hostname, "hostname", "", "hostname (default: the first 12 characters of the id)")
	fs.StringArrayVarP(&f.labels, "label", "l", nil, "set a label (KEY=VALUE)")
	fs.BoolVar(&f.rm, "rm", false, "remove the container when it exits")
	fs.StringVar(&f.pod, "pod", "", "create the container in this pod (rtd pod create): on the pod's driver, sharing its network, IPC and hostname")
	fs.StringVar(&f.network, "network", "", "network: bridge (the default where the driver can join one), none, host, or a network of `rtd network create`")
	fs.StringArrayVarP(&f.publish, "publish", "p", nil, "publish a port: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/udp]")
	f.registerMounts(fs)
	f.docker.register(fs)
}

// createOptions turns the flags and IMAGE [COMMAND...] into core options.
func (f *containerFlags) createOptions(args []string) (_ core.CreateOptions, err error) {
	opts := core.CreateOptions{
		ID:         f.name,
		Driver:     f.driver,
		Image:      args[0],
		AutoRemove: f.rm,
		Network:    core.NetworkOptions{Mode: f.network, Publish: f.publish},
		Pod:        f.pod,
		Spec: core.SpecOptions{
			Args:     args[1:],
			Env:      f.env,
			Cwd:      f.workdir,
			User:     f.user,
			ReadOnly: f.readOnly,
			Terminal: f.tty,
			Hostname: f.hostname,
		},
	}
	if err := f.docker.apply(&opts); err != nil {
		return opts, err
	}
	if f.isolation != "" {
		class, err := driver.ParseIsolationClass(f.isolation)
		if err != nil {
			return opts, usageError(err)
		}
		opts.Isolation = class
	}
	if f.memory != "" {
		m, err := core.ParseMemory(f.memory)
		if err != nil {
			return opts, err
		}
		opts.Spec.Memory = m
	}
	if f.pidsLimit < 0 {
		return opts, usageError(fmt.Errorf("invalid --pids-limit %d: must not be negative", f.pidsLimit))
	}
	opts.Spec.PidsLimit = f.pidsLimit
	if opts.Spec.Mounts, err = f.parseMounts(); err != nil {
		return opts, usageError(err)
	}
	if len(f.labels) > 0 {
		opts.Spec.Labels = map[string]string{}
		for _, l := range f.labels {
			k, v, _ := strings.Cut(l, "=")
			if k == "" {
				return opts, usageError(fmt.Errorf("invalid --label %q: want KEY=VALUE", l))
			}
			opts.Spec.Labels[k] = v
		}
	}
	return opts, nil
}
