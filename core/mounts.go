package core

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// MountType is the kind of a user mount (-v, --mount, --tmpfs).
type MountType string

// Mount types, as docker names them.
const (
	MountBind   MountType = "bind"   // a host path
	MountVolume MountType = "volume" // a named or anonymous rtd volume
	MountTmpfs  MountType = "tmpfs"  // an empty tmpfs
)

// Mount is one mount asked for on the command line, before rtd resolved it
// to a spec mount.
type Mount struct {
	Type MountType
	// Source is the host path of a bind, the name of a volume ("" for an
	// anonymous volume); unused for tmpfs.
	Source string
	// Target is the absolute path in the container.
	Target   string
	ReadOnly bool
	// CreateSource makes a missing bind source directory (-v does, as
	// docker's; --mount refuses a missing source).
	CreateSource bool
	// Propagation is a bind's propagation (rprivate, shared, ...); "" is
	// the default, rprivate.
	Propagation string
	// TmpfsOptions are extra tmpfs mount options (size=, mode=, exec).
	TmpfsOptions []string
}

var propagations = []string{"private", "rprivate", "shared", "rshared", "slave", "rslave"}

// ParseVolumeFlag parses docker's -v syntax: [SOURCE:]TARGET[:OPTIONS].
// SOURCE is an absolute host path (or one starting with ".", made
// absolute) or a volume name; without SOURCE the mount is an anonymous
// volume. OPTIONS are comma-separated: ro, rw, a propagation, nocopy.
func ParseVolumeFlag(s string) (Mount, error) {
	bad := func(format string, a ...any) (Mount, error) {
		return Mount{}, driver.InvalidArgumentf("invalid -v %q: %s", s, fmt.Sprintf(format, a...))
	}
	parts := strings.Split(s, ":")
	var m Mount
	switch len(parts) {
	case 1:
		m = Mount{Type: MountVolume, Target: parts[0]}
	case 2, 3:
		m = Mount{Source: parts[0], Target: parts[1]}
		if len(parts) == 3 {
			for _, o := range strings.Split(parts[2], ",") {
				switch {
				case o == "ro":
					m.ReadOnly = true
				case o == "rw", o == "nocopy", o == "":
				case slices.Contains(propagations, o):
					m.Propagation = o
				default:
					return bad("unknown option %q (want ro, rw or a propagation: %s)", o, strings.Join(propagations, ", "))
				}
			}
		}
		if m.Source == "" {
			return bad("empty source (want HOST-PATH:TARGET or VOLUME:TARGET)")
		}
		if isHostPath(m.Source) {
			m.Type, m.CreateSource = MountBind, true
		} else {
			m.Type = MountVolume
		}
	default:
		return bad("want [HOST-PATH|VOLUME:]TARGET[:ro]")
	}
	if m.Type == MountVolume && m.Propagation != "" {
		return bad("a propagation applies to a host path only")
	}
	return m, nil
}

// isHostPath tells a -v source that is a host path from a volume name.
func isHostPath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".")
}

// ParseMountFlag parses docker's --mount syntax: comma-separated KEY=VALUE
// fields: type (bind, volume or tmpfs; default volume), source or src,
// target, dst or destination, readonly or ro (an optional true/false),
// bind-propagation, tmpfs-size, tmpfs-mode, volume-nocopy.
func ParseMountFlag(s string) (Mount, error) {
	bad := func(format string, a ...any) (Mount, error) {
		return Mount{}, driver.InvalidArgumentf("invalid --mount %q: %s", s, fmt.Sprintf(format, a...))
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return bad("%v", err)
	}
	m := Mount{Type: MountVolume}
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		switch key {
		case "type":
			switch MountType(val) {
			case MountBind, MountVolume, MountTmpfs:
				m.Type = MountType(val)
			default:
				return bad("unknown type %q (want bind, volume or tmpfs)", val)
			}
		case "source", "src":
			m.Source = val
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if !hasVal {
				m.ReadOnly = true
				break
			}
			ro, err := strconv.ParseBool(val)
			if err != nil {
				return bad("%s=%q: want true or false", key, val)
			}
			m.ReadOnly = ro
		case "bind-propagation":
			if !slices.Contains(propagations, val) {
				return bad("bind-propagation=%q: want one of %s", val, strings.Join(propagations, ", "))
			}
			m.Propagation = val
		case "tmpfs-size":
			n, err := ParseMemory(val)
			if err != nil {
				return bad("tmpfs-size=%q: want a size like 64m", val)
			}
			m.TmpfsOptions = append(m.TmpfsOptions, "size="+strconv.FormatInt(n, 10))
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil || mode > 0o7777 {
				return bad("tmpfs-mode=%q: want an octal mode like 1777", val)
			}
			m.TmpfsOptions = append(m.TmpfsOptions, fmt.Sprintf("mode=%o", mode))
		case "volume-nocopy", "consistency":
			// Accepted and ignored: rtd never copies image content into a
			// volume, and consistency is a macOS-only setting.
		default:
			return bad("unknown field %q", key)
		}
	}
	if why := m.checkMountFlag(); why != "" {
		return bad("%s", why)
	}
	return m, nil
}

// checkMountFlag says what is wrong with a parsed --mount ("" when
// nothing is).
func (m Mount) checkMountFlag() string {
	if m.Target == "" {
		return "no target (target=PATH in the container)"
	}
	switch m.Type {
	case MountBind:
		if m.Source == "" {
			return "type=bind needs a source (an absolute host path)"
		}
		if !filepath.IsAbs(m.Source) {
			return fmt.Sprintf("bind source %q is not an absolute path", m.Source)
		}
	case MountTmpfs:
		if m.Source != "" {
			return "type=tmpfs takes no source"
		}
	}
	if m.Type != MountTmpfs && len(m.TmpfsOptions) > 0 {
		return "tmpfs-size and tmpfs-mode apply to type=tmpfs only"
	}
	if m.Type != MountBind && m.Propagation != "" {
		return "bind-propagation applies to type=bind only"
	}
	return ""
}

// ParseTmpfsFlag parses docker's --tmpfs syntax: TARGET[:OPTIONS], OPTIONS
// being tmpfs mount options (size=64m, mode=1777, exec, ro...).
func ParseTmpfsFlag(s string) (Mount, error) {
	target, opts, _ := strings.Cut(s, ":")
	m := Mount{Type: MountTmpfs, Target: target}
	if opts == "" {
		return m, nil
	}
	for _, o := range strings.Split(opts, ",") {
		switch {
		case o == "":
		case o == "ro":
			m.ReadOnly = true
		case o == "rw":
		case strings.HasPrefix(o, "size="):
			n, err := ParseMemory(strings.TrimPrefix(o, "size="))
			if err != nil {
				return Mount{}, driver.InvalidArgumentf("invalid --tmpfs %q: %s: want a size like 64m", s, o)
			}
			m.TmpfsOptions = append(m.TmpfsOptions, "size="+strconv.FormatInt(n, 10))
		default:
			m.TmpfsOptions = append(m.TmpfsOptions, o)
		}
	}
	return m, nil
}

// checkTarget validates a mount target: absolute, and not the root. ".."
// elements are refused: the driver resolves the target inside the
// container's root (libcontainer and the guests' agents never follow it
// out), but a target that names its way up is a mistake or an attack.
func checkTarget(target string) (string, error) {
	if target == "" {
		return "", driver.InvalidArgumentf("mount target is empty")
	}
	if !path.IsAbs(target) {
		return "", driver.InvalidArgumentf("mount target %q is not an absolute path", target)
	}
	if slices.Contains(strings.Split(target, "/"), "..") {
		return "", driver.InvalidArgumentf("mount target %q has a \"..\" element", target)
	}
	clean := path.Clean(target)
	if clean == "/" {
		return "", driver.InvalidArgumentf("mount target %q is the container's root: use a subdirectory", target)
	}
	return clean, nil
}

// specMount is the spec mount of a resolved user mount (source: the host
// path of a bind or volume).
func specMount(m Mount, source string) specs.Mount {
	if m.Type == MountTmpfs {
		opts := append([]string{"nosuid", "nodev", "noexec"}, m.TmpfsOptions...)
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		return specs.Mount{Destination: m.Target, Type: "tmpfs", Source: "tmpfs", Options: opts}
	}
	prop := m.Propagation
	if prop == "" {
		prop = "rprivate"
	}
	opts := []string{"rbind", prop}
	if m.ReadOnly {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: m.Target, Type: "bind", Source: source, Options: opts}
}

// replaceMounts returns mounts without those whose destination one of
// user's targets takes over (a user's --tmpfs /dev/shm replaces the
// default /dev/shm), followed by user.
func replaceMounts(mounts, user []specs.Mount) []specs.Mount {
	out := make([]specs.Mount, 0, len(mounts)+len(user))
	for _, m := range mounts {
		if !slices.ContainsFunc(user, func(u specs.Mount) bool { return path.Clean(u.Destination) == path.Clean(m.Destination) }) {
			out = append(out, m)
		}
	}
	return append(out, user...)
}

// resolveMounts validates the user's mounts and turns them
// into spec mounts: a -v host path that does not exist is created (as
// docker does), a volume that does not exist is created. It checks
// everything before it creates anything; volumes lists the volumes it
// created, for the caller to remove should the create fail.
func (c *Core) resolveMounts(mounts []Mount) (out []specs.Mount, volumes []string, retErr error) {
	mounts = slices.Clone(mounts)
	seen := map[string]bool{}
	for i := range mounts {
		m := &mounts[i]
		target, err := checkTarget(m.Target)
		if err != nil {
			return nil, nil, err
		}
		if seen[target] {
			return nil, nil, driver.InvalidArgumentf("duplicate mount target %s", target)
		}
		seen[target] = true
		m.Target = target
		switch m.Type {
		case MountBind:
			src, err := filepath.Abs(m.Source)
			if err != nil {
				return nil, nil, driver.InvalidArgumentf("bind source %q: %v", m.Source, err)
			}
			m.Source = src
			if _, err := os.Stat(src); err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					return nil, nil, driver.InvalidArgumentf("bind source %s: %v", src, err)
				}
				if !m.CreateSource {
					return nil, nil, driver.InvalidArgumentf("bind source path does not exist: %s (create it, or use -v, which creates it)", src)
				}
			}
		case MountVolume:
			if m.Source != "" {
				if err := ValidateVolumeName(m.Source); err != nil {
					return nil, nil, driver.InvalidArgumentf("volume %q: %v (a host path must be absolute)", m.Source, err)
				}
			}
		case MountTmpfs:
		default:
			return nil, nil, driver.InvalidArgumentf("mount %s: unknown type %q", m.Target, m.Type)
		}
	}
	defer func() {
		if retErr != nil {
			c.removeCreatedVolumes(volumes)
		}
	}()
	for _, m := range mounts {
		source := ""
		switch m.Type {
		case MountBind:
			source = m.Source
			if m.CreateSource {
				if err := os.MkdirAll(source, 0o755); err != nil {
					return nil, volumes, fmt.Errorf("create bind source %s: %w", source, err)
				}
			}
		case MountVolume:
			v, created, err := c.createVolume(m.Source, nil, m.Source == "")
			if err != nil {
				return nil, volumes, err
			}
			if created {
				volumes = append(volumes, v.Name)
			}
			source = v.Mountpoint
		}
		out = append(out, specMount(m, source))
	}
	return out, volumes, nil
}

// removeCreatedVolumes removes the volumes a failed create made.
func (c *Core) removeCreatedVolumes(names []string) {
	for _, name := range names {
		if err := c.removeVolumeDir(name); err != nil {
			c.logger.Warn("rollback: remove volume", "volume", name, "error", err)
		}
	}
}
