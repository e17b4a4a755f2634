package probe

// Report is what the probe sees from inside its container.
type Report struct {
	Pid        int
	Ppid       int
	UID        int
	GID        int
	EUID       int
	Groups     []int
	Env        []string
	Cwd        string
	Hostname   string
	Kernel     string // uname release
	KernelVer  string // uname version
	CapEff     string // hex masks from /proc/self/status
	CapPrm     string
	CapBnd     string
	NoNewPrivs string
	Seccomp    string // 0 none, 1 strict, 2 filter
	Namespaces map[string]string
	Mounts     []Mount
	Rlimits    map[string][2]uint64 // soft, hard
	Procs      int                  // processes visible in /proc
	StdinTTY   bool
	StdoutTTY  bool
	RootRO     bool // creating /.probe fails with EROFS
}

// Mount is one line of /proc/self/mounts.
type Mount struct {
	Target  string
	Type    string
	Options string
}

// HasMount reports whether target is mounted with the given type ("" = any).
func (r Report) HasMount(target, typ string) (Mount, bool) {
	for i := len(r.Mounts) - 1; i >= 0; i-- {
		m := r.Mounts[i]
		if m.Target == target && (typ == "" || m.Type == typ) {
			return m, true
		}
	}
	return Mount{}, false
}
