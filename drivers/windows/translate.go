package windows

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// WindowsLayerMount is the rootfs mount type containerd's Windows
// snapshotter hands out: Source is the scratch layer folder and the option
// "parentLayerPaths=<JSON array>" lists the read-only layers, top-most first.
const WindowsLayerMount = "windows-layer"

const parentLayerPathsOption = "parentLayerPaths="

var (
	guidRE = regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`)
	// volumeRE is a volume GUID path, the form HCS wants for VolumePath.
	volumeRE = regexp.MustCompile(`^\\\\\?\\Volume\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}\\$`)
	driveRE  = regexp.MustCompile(`^[A-Za-z]:[\\/]`)
)

// TranslateOptions is what Translate needs to know about the host. On
// Windows the driver fills it from the OS; tests fill it with fakes.
type TranslateOptions struct {
	// Mode is the driver's isolation mode; "" is ModeProcess.
	Mode Mode
	// HostCPUs caps windows.resources.cpu.count (as docker does); 0: no cap.
	HostCPUs int
	// Build is the host's Windows build number (osversion.Build()); 0
	// skips the checks that depend on it.
	Build uint16
	// VolumePath is used for a process-isolated container whose spec has
	// no root.path: the volume of the scratch layer the driver mounted.
	VolumePath string
	// LayerID returns the GUID of a layer folder (hcsshim.NameToGuid of its
	// base name on Windows). Required.
	LayerID func(folder string) (string, error)
	// FindUtilityVM returns the UtilityVM folder of the top-most layer that
	// has one. Required for Hyper-V without windows.hyperv.utilityVMPath.
	FindUtilityVM func(layerFolders []string) (string, error)
}

// Windows builds that gate features (osversion.RS3, osversion.RS5).
const (
	buildRS3 = 16299
	buildRS5 = 17763
)

// IsAbsPath reports whether p is an absolute Windows path: a drive path
// (C:\ or C:/) or a UNC or device path (\\server\share, \\?\..., \\.\...).
func IsAbsPath(p string) bool {
	return driveRE.MatchString(p) || strings.HasPrefix(p, `\\`)
}

// UsesHyperV reports whether a container from spec runs in a Hyper-V
// utility VM under mode m.
func UsesHyperV(spec *specs.Spec, m Mode) bool {
	return m == ModeHyperV || (spec != nil && spec.Windows != nil && spec.Windows.HyperV != nil)
}

// Translate turns an OCI spec (and the rootfs mounts of a CreateRequest)
// into the HCS container configuration for container id. Anything it cannot
// express or that is malformed is an InvalidArgument error naming the field.
func Translate(id string, spec *specs.Spec, rootfs []driver.Mount, opts TranslateOptions) (*ContainerConfig, error) {
	fail := func(format string, args ...any) error {
		return driver.InvalidArgumentf("create %s: "+format, append([]any{id}, args...)...)
	}
	wrap := func(err error) error { return fmt.Errorf("create %s: %w", id, err) }
	if spec == nil {
		return nil, fail("no spec")
	}
	if spec.Windows == nil {
		return nil, fail("config.json has no windows section (windows.layerFolders is required)")
	}
	if spec.Process == nil {
		return nil, fail("config.json has no process")
	}
	if opts.LayerID == nil {
		return nil, fail("no layer id resolver (driver bug)")
	}
	w := spec.Windows
	c := &ContainerConfig{
		SystemType:              "Container",
		Name:                    id,
		Owner:                   Owner,
		HostName:                spec.Hostname,
		IgnoreFlushesDuringBoot: w.IgnoreFlushesDuringBoot,
		Servicing:               w.Servicing,
		HvPartition:             UsesHyperV(spec, opts.Mode),
	}
	folders, err := LayerFolders(spec, rootfs)
	if err != nil {
		return nil, wrap(err)
	}
	// The last folder is the container's scratch layer, passed on its own;
	// the others are the read-only image layers, top-most first.
	c.LayerFolderPath = folders[len(folders)-1]
	for _, f := range folders[:len(folders)-1] {
		gid, err := opts.LayerID(f)
		if err != nil {
			return nil, fail("layer folder %s: %v", f, err)
		}
		c.Layers = append(c.Layers, Layer{ID: gid, Path: f})
	}
	if spec.Root != nil && spec.Root.Readonly {
		return nil, fail("root.readonly is not supported on Windows")
	}
	if c.HvPartition {
		if err := hyperV(c, spec, folders[:len(folders)-1], opts); err != nil {
			return nil, wrap(err)
		}
	} else {
		vol := opts.VolumePath
		if spec.Root != nil && spec.Root.Path != "" {
			vol = spec.Root.Path
		}
		if !volumeRE.MatchString(vol) {
			return nil, fail(`root.path %q: process isolation needs the scratch layer's volume as \\?\Volume{GUID}\`, vol)
		}
		// HCS wants the volume path without its trailing backslash.
		c.VolumePath = strings.TrimSuffix(vol, `\`)
	}
	if w.CredentialSpec != nil {
		cs, ok := w.CredentialSpec.(string)
		if !ok {
			return nil, fail("windows.credentialSpec must be a string (the gMSA credential spec JSON), got %T", w.CredentialSpec)
		}
		c.Credentials = cs
	}
	if err := resources(c, w.Resources, opts.HostCPUs); err != nil {
		return nil, wrap(err)
	}
	if err := network(c, w.Network); err != nil {
		return nil, wrap(err)
	}
	if err := devices(c, w.Devices, opts.Build); err != nil {
		return nil, wrap(err)
	}
	if err := mounts(c, spec.Mounts, opts.Build); err != nil {
		return nil, wrap(err)
	}
	return c, nil
}

// LayerFolders returns the layer folders of a container, top-most read-only
// layer first and the scratch layer last, from the spec's
// windows.layerFolders or from a "windows-layer" rootfs mount. At least two
// are needed: a base layer and the scratch layer.
func LayerFolders(spec *specs.Spec, rootfs []driver.Mount) ([]string, error) {
	var folders []string
	if spec.Windows != nil {
		folders = spec.Windows.LayerFolders
	}
	if len(rootfs) > 0 {
		fromMount, err := mountLayerFolders(rootfs)
		if err != nil {
			return nil, err
		}
		if len(folders) > 0 && !slices.Equal(folders, fromMount) {
			return nil, driver.InvalidArgumentf("windows.layerFolders %q and the rootfs mount's layers %q disagree", folders, fromMount)
		}
		folders = fromMount
	}
	if len(folders) < 2 {
		return nil, driver.InvalidArgumentf("windows.layerFolders has %d entries: at least a base layer and the scratch layer are needed", len(folders))
	}
	seen := map[string]bool{}
	for _, f := range folders {
		if !IsAbsPath(f) {
			return nil, driver.InvalidArgumentf("layer folder %q is not an absolute Windows path", f)
		}
		if seen[strings.ToLower(f)] {
			return nil, driver.InvalidArgumentf("layer folder %q is listed twice", f)
		}
		seen[strings.ToLower(f)] = true
	}
	return folders, nil
}

// mountLayerFolders reads the layer folders of a single windows-layer mount.
func mountLayerFolders(rootfs []driver.Mount) ([]string, error) {
	if len(rootfs) != 1 || rootfs[0].Type != WindowsLayerMount {
		return nil, driver.InvalidArgumentf("rootfs: want one mount of type %q, got %d mounts (first of type %q)", WindowsLayerMount, len(rootfs), rootfs[0].Type)
	}
	m := rootfs[0]
	var parents []string
	for _, o := range m.Options {
		if v, ok := strings.CutPrefix(o, parentLayerPathsOption); ok {
			if err := json.Unmarshal([]byte(v), &parents); err != nil {
				return nil, driver.InvalidArgumentf("rootfs mount option %s: %v", parentLayerPathsOption, err)
			}
		}
	}
	return append(parents, m.Source), nil
}

// hyperV fills the Hyper-V settings: the utility VM image, explicit or the
// top-most layer's UtilityVM folder.
func hyperV(c *ContainerConfig, spec *specs.Spec, layers []string, opts TranslateOptions) error {
	if spec.Root != nil && spec.Root.Path != "" {
		return driver.InvalidArgumentf("root.path %q must be empty for a Hyper-V container (its root is the layers)", spec.Root.Path)
	}
	uvm := ""
	if hv := spec.Windows.HyperV; hv != nil && hv.UtilityVMPath != "" {
		if !IsAbsPath(hv.UtilityVMPath) {
			return driver.InvalidArgumentf("windows.hyperv.utilityVMPath %q is not an absolute Windows path", hv.UtilityVMPath)
		}
		uvm = hv.UtilityVMPath
	} else {
		if opts.FindUtilityVM == nil {
			return driver.InvalidArgumentf("no utility VM image: set windows.hyperv.utilityVMPath")
		}
		var err error
		if uvm, err = opts.FindUtilityVM(layers); err != nil {
			return driver.InvalidArgumentf("no utility VM image in the layers (set windows.hyperv.utilityVMPath): %v", err)
		}
	}
	c.HvRuntime = &HvRuntime{ImagePath: uvm}
	return nil
}
