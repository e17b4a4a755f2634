package core

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// LabelAnnotationPrefix prefixes the annotation that carries each label.
const LabelAnnotationPrefix = "rtd.label."

// HelloPath is where the hello image's program is mounted.
const HelloPath = "/hello"

// SpecOptions are the command-line overrides applied to an image's spec.
// Zero values leave the image's setting alone.
type SpecOptions struct {
	Args []string
	// Env entries are KEY=VALUE (replaces KEY) or KEY (copies the host's
	// value, if set).
	Env      []string
	Cwd      string
	User     string // uid[:gid] or name[:group], names from the rootfs
	ReadOnly bool
	Terminal bool
	// Memory is the memory limit in bytes (see ParseMemory).
	Memory    int64
	PidsLimit int64
	Hostname  string
	Labels    map[string]string
	// Mounts are the user's -v, --mount and --tmpfs mounts; Create
	// resolves them (creating volumes and -v host paths) and adds them to
	// the spec, replacing a mount of the same target.
	Mounts []Mount
	// Process holds --entrypoint, --init, --ulimit and --cpus.
	Process ProcessOptions
	// Security holds the capability, privilege and seccomp settings.
	Security SecurityOptions
}

// BuildSpec returns the spec to run img as container id, with opts applied.
// bundleDir is where the bundle will be written (the hello image's root
// lives there). It reads the image's /etc/passwd and /etc/group for user
// names, and writes nothing.
func BuildSpec(img *Image, id, bundleDir string, opts SpecOptions) (*specs.Spec, error) {
	hostname := id
	if len(hostname) > 12 {
		hostname = hostname[:12]
	}
	// The command line as given: --entrypoint takes it whole, never the
	// image's command.
	cmdArgs := opts.Args
	var spec *specs.Spec
	switch img.Kind {
	case KindHello:
		spec = DefaultSpec(filepath.Join(bundleDir, "rootfs"), hostname)
		spec.Process.Args = []string{HelloPath}
		spec.Mounts = append(spec.Mounts, specs.Mount{
			Destination: HelloPath, Type: "bind", Source: img.Binary,
			Options: []string{"bind", "ro", "nosuid", "nodev"},
		})
	case KindRootfs:
		spec = DefaultSpec(img.Dir, hostname)
	case KindBundle:
		spec = img.Spec
	case KindImage:
		var err error
		if spec, err = imageSpec(img, hostname, &opts); err != nil {
			return nil, err
		}
	default:
		return nil, driver.InvalidArgumentf("image %q: unknown kind %q", img.Ref, img.Kind)
	}
	if err := applyOptions(spec, opts); err != nil {
		return nil, fmt.Errorf("image %q: %w", img.Ref, err)
	}
	if err := applyProcessOptions(spec, cmdArgs, opts.Process); err != nil {
		return nil, err
	}
	// Last: the default seccomp profile depends on the final capabilities.
	// A bundle's own spec keeps its profile (or none), as runc would.
	if err := applySecurity(spec, opts.Security, img.Kind != KindBundle); err != nil {
		return nil, err
	}
	if spec.Process.Terminal && !containsEnv(spec.Process.Env, "TERM") {
		spec.Process.Env = append(spec.Process.Env, "TERM=xterm")
	}
	return spec, nil
}

func applyOptions(spec *specs.Spec, opts SpecOptions) error {
	p := spec.Process
	if len(opts.Args) > 0 {
		p.Args = append([]string(nil), opts.Args...)
	}
	if len(p.Args) == 0 {
		return driver.InvalidArgumentf("no command given and the image has none")
	}
	env, err := mergeEnv(p.Env, opts.Env)
	if err != nil {
		return err
	}
	p.Env = env
	if opts.Cwd != "" {
		if !path.IsAbs(opts.Cwd) {
			return driver.InvalidArgumentf("working directory %q is not absolute", opts.Cwd)
		}
		p.Cwd = opts.Cwd
	}
	if opts.User != "" {
		u, err := ResolveUser(spec.Root.Path, opts.User)
		if err != nil {
			return err
		}
		p.User.UID, p.User.GID = u.UID, u.GID
	}
	if opts.ReadOnly {
		spec.Root.Readonly = true
	}
	if opts.Terminal {
		p.Terminal = true
	}
	if opts.Hostname != "" {
		spec.Hostname = opts.Hostname
	}
	if opts.Memory < 0 || opts.PidsLimit < 0 {
		return driver.InvalidArgumentf("resource limits must not be negative")
	}
	if opts.Memory > 0 || opts.PidsLimit > 0 {
		if spec.Linux == nil {
			spec.Linux = &specs.Linux{}
		}
		if spec.Linux.Resources == nil {
			spec.Linux.Resources = &specs.LinuxResources{}
		}
		r := spec.Linux.Resources
		if opts.Memory > 0 {
			if r.Memory == nil {
				r.Memory = &specs.LinuxMemory{}
			}
			limit := opts.Memory
			r.Memory.Limit = &limit
		}
		if opts.PidsLimit > 0 {
			limit := opts.PidsLimit
			r.Pids = &specs.LinuxPids{Limit: &limit}
		}
	}
	if len(opts.Labels) > 0 {
		if spec.Annotations == nil {
			spec.Annotations = map[string]string{}
		}
		for k, v := range opts.Labels {
			if k == "" {
				return driver.InvalidArgumentf("label with an empty key")
			}
			spec.Annotations[LabelAnnotationPrefix+k] = v
		}
	}
	return nil
}

// mergeEnv applies overrides to env: KEY=VALUE replaces or appends KEY, a
// bare KEY copies the host's value when it is set.
func mergeEnv(env, overrides []string) ([]string, error) {
	out := append([]string(nil), env...)
	for _, o := range overrides {
		key, _, hasValue := strings.Cut(o, "=")
		if key == "" {
			return nil, driver.InvalidArgumentf("environment variable %q has no name", o)
		}
		if !hasValue {
			v, ok := os.LookupEnv(key)
			if !ok {
				continue
			}
			o = key + "=" + v
		}
		replaced := false
		for i, e := range out {
			if k, _, _ := strings.Cut(e, "="); k == key {
				out[i] = o
				replaced = true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out, nil
}

func containsEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// WriteBundle writes spec as dir/config.json (atomically) and, for the hello
// image, creates its empty root with the mount point of /hello.
func WriteBundle(dir string, img *Image, spec *specs.Spec) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if img.Kind == KindHello {
		if err := os.MkdirAll(spec.Root.Path, 0o755); err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(spec.Root.Path, HelloPath), os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
		f.Close()
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "config.json"), spec, 0o600); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}
