package main

import (
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// dockerView is a container under docker's inspect field names, for
// inspect --format ({{.State.Status}}, {{.Config.Cmd}}, ...). Fields docker
// has and rtd cannot know are left out rather than made up; .Record,
// .RtdState and .Security are rtd's own.
type dockerView struct {
	ID         string `json:"Id"`
	Name       string
	Created    string
	Path       string
	Args       []string
	State      dockerState
	Image      string
	Driver     string // rtd's runtime driver (docker: the storage driver)
	LogPath    string
	Config     dockerConfig
	HostConfig dockerHostConfig
	Record     *core.Record
	RtdState   *stateView `json:",omitempty"`
	Security   securityView
}

type dockerState struct {
	Status     string // created, running, paused, exited, unknown
	Running    bool
	Paused     bool
	OOMKilled  bool
	Dead       bool
	Pid        uint32
	ExitCode   int
	Error      string
	FinishedAt string
}

type dockerConfig struct {
	Hostname    string
	User        string
	Tty         bool
	Env         []string
	Cmd         []string
	Image       string
	WorkingDir  string
	Labels      map[string]string
	StopSignal  string `json:",omitempty"`
	StopTimeout *int   `json:",omitempty"`
}

type dockerHostConfig struct {
	Privileged     bool
	ReadonlyRootfs bool
	AutoRemove     bool
	CapAdd         []string
	CapDrop        []string
	SecurityOpt    []string
	Memory         int64
	NanoCpus       int64
	PidsLimit      *int64
	Ulimits        []dockerUlimit
}

type dockerUlimit struct {
	Name       string
	Soft, Hard int64
}

// securityView says what the spec given to the driver applies, and how the
// driver says it enforces syscall filters.
type securityView struct {
	// Seccomp: "default" (docker's profile), "unconfined" or "custom".
	Seccomp         string
	Capabilities    []string
	NoNewPrivileges bool
	ReadonlyRootfs  bool
	MaskedPaths     int
}

// viewDocker builds the docker view of rec from its state and the bundle's
// spec (what the driver was given).
func viewDocker(rec *core.Record, st *driver.State, stateErr string) *dockerView {
	v := &dockerView{
		ID: rec.ID, Name: "/" + rec.ID, Created: rec.Created.Format(time.RFC3339Nano),
		Image: rec.Image, Driver: rec.Driver, LogPath: rec.LogPath, Record: rec, RtdState: viewState(st),
	}
	if rec.Name != "" {
		v.Name = "/" + rec.Name
	}
	if len(rec.Command) > 0 {
		v.Path, v.Args = rec.Command[0], rec.Command[1:]
	}
	v.State.Status = "unknown"
	v.State.Error = stateErr
	if st != nil {
		v.State.Pid = st.Pid
		switch st.Status {
		case driver.StatusStopped:
			v.State.Status, v.State.Pid = "exited", 0
		default:
			v.State.Status = string(st.Status)
		}
		v.State.Running = st.Status == driver.StatusRunning || st.Status == driver.StatusPaused
		v.State.Paused = st.Status == driver.StatusPaused
		if e := st.Exit; e != nil {
			v.State.ExitCode = int(e.Code)
			v.State.OOMKilled = e.OOMKilled
			v.State.FinishedAt = e.ExitedAt.Format(time.RFC3339Nano)
			if v.State.Error == "" {
				v.State.Error = e.Reason
			}
		}
	}
	v.Config.Image, v.Config.Labels = rec.Image, rec.Labels
	v.Config.StopSignal = rec.StopSignal
	if rec.StopTimeout != nil {
		s := int(rec.StopTimeout.Seconds())
		v.Config.StopTimeout = &s
	}
	v.HostConfig.AutoRemove = rec.AutoRemove
	spec, err := ocispec.Load(rec.Bundle)
	if err != nil {
		return v
	}
	fillFromSpec(v, spec)
	return v
}

func fillFromSpec(v *dockerView, spec *specs.Spec) {
	p := spec.Process
	v.Config.Hostname, v.Config.Tty, v.Config.Env = spec.Hostname, p.Terminal, p.Env
	v.Config.Cmd, v.Config.WorkingDir = p.Args, p.Cwd
	v.Config.User = itoa(p.User.UID) + ":" + itoa(p.User.GID)
	if spec.Root != nil {
		v.HostConfig.ReadonlyRootfs = spec.Root.Readonly
		v.Security.ReadonlyRootfs = spec.Root.Readonly
	}
	for _, rl := range p.Rlimits {
		v.HostConfig.Ulimits = append(v.HostConfig.Ulimits, dockerUlimit{
			Name: strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_")), Soft: int64(rl.Soft), Hard: int64(rl.Hard),
		})
	}
	var bounding []string
	if p.Capabilities != nil {
		bounding = p.Capabilities.Bounding
	}
	v.Security.Capabilities = bounding
	v.Security.NoNewPrivileges = p.NoNewPrivileges
	v.HostConfig.CapAdd, v.HostConfig.CapDrop = capDiff(bounding)
	v.Security.Seccomp = "unconfined"
	if l := spec.Linux; l != nil {
		v.Security.MaskedPaths = len(l.MaskedPaths)
		if l.Seccomp != nil {
			v.Security.Seccomp = "custom"
			if isDefaultProfile(spec) {
				v.Security.Seccomp = "default"
			}
		}
		if r := l.Resources; r != nil {
			if r.Memory != nil && r.Memory.Limit != nil {
				v.HostConfig.Memory = *r.Memory.Limit
			}
			if r.CPU != nil && r.CPU.Quota != nil && r.CPU.Period != nil && *r.CPU.Period > 0 {
				v.HostConfig.NanoCpus = *r.CPU.Quota * 1e9 / int64(*r.CPU.Period)
			}
			if r.Pids != nil && r.Pids.Limit != nil {
				v.HostConfig.PidsLimit = r.Pids.Limit
			}
			for _, d := range r.Devices {
				if d.Allow && d.Type == "" && d.Major == nil && d.Access == "rwm" {
					v.HostConfig.Privileged = true
				}
			}
		}
	}
	if v.Security.Seccomp == "unconfined" {
		v.HostConfig.SecurityOpt = append(v.HostConfig.SecurityOpt, "seccomp=unconfined")
	}
	if p.NoNewPrivileges {
		v.HostConfig.SecurityOpt = append(v.HostConfig.SecurityOpt, "no-new-privileges")
	}
}

// isDefaultProfile reports whether spec's profile is docker's default for
// its capabilities.
func isDefaultProfile(spec *specs.Spec) bool {
	return core.IsDefaultSeccomp(spec)
}

// capDiff is the bounding set against docker's default capabilities.
func capDiff(caps []string) (add, drop []string) {
	for _, c := range caps {
		if !contains(ocispec.DefaultCapabilities, c) {
			add = append(add, strings.TrimPrefix(c, "CAP_"))
		}
	}
	for _, c := range ocispec.DefaultCapabilities {
		if !contains(caps, c) {
			drop = append(drop, strings.TrimPrefix(c, "CAP_"))
		}
	}
	return add, drop
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
