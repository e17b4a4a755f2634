package unikernel

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/rtd-project/rtd/driver"
)

// urunc's annotations (github.com/urunc-dev/urunc, pkg/unikontainers):
// values are base64-encoded, as urunc decodes them.
const (
	AnnotType        = "com.urunc.unikernel.unikernelType"
	AnnotVersion     = "com.urunc.unikernel.unikernelVersion"
	AnnotBinary      = "com.urunc.unikernel.binary"
	AnnotCmdline     = "com.urunc.unikernel.cmdline"
	AnnotHypervisor  = "com.urunc.unikernel.hypervisor"
	AnnotInitrd      = "com.urunc.unikernel.initrd"
	AnnotBlock       = "com.urunc.unikernel.block"
	AnnotBlkMntPoint = "com.urunc.unikernel.blkMntPoint"
	AnnotUseDMBlock  = "com.urunc.unikernel.useDMBlock"
	AnnotMountRootfs = "com.urunc.unikernel.mountRootfs"
)

// uruncJSON is the file in the root filesystem urunc reads when the bundle
// has none of the annotations; its keys are the annotations' names.
const uruncJSON = "urunc.json"

// Config is a unikernel's description, decoded.
type Config struct {
	Type        string `json:"com.urunc.unikernel.unikernelType"`
	Version     string `json:"com.urunc.unikernel.unikernelVersion"`
	Binary      string `json:"com.urunc.unikernel.binary"`
	Cmdline     string `json:"com.urunc.unikernel.cmdline,omitempty"`
	Hypervisor  string `json:"com.urunc.unikernel.hypervisor"`
	Initrd      string `json:"com.urunc.unikernel.initrd,omitempty"`
	Block       string `json:"com.urunc.unikernel.block,omitempty"`
	BlkMntPoint string `json:"com.urunc.unikernel.blkMntPoint,omitempty"`
	UseDMBlock  string `json:"com.urunc.unikernel.useDMBlock,omitempty"`
	MountRootfs string `json:"com.urunc.unikernel.mountRootfs,omitempty"`
	// Source says where it came from: "annotations" or "/urunc.json".
	Source string `json:"-"`
}

// fields pairs each annotation with its field, for decoding and errors.
func (c *Config) fields() []struct {
	name string
	v    *string
} {
	return []struct {
		name string
		v    *string
	}{
		{AnnotType, &c.Type}, {AnnotVersion, &c.Version}, {AnnotBinary, &c.Binary},
		{AnnotCmdline, &c.Cmdline}, {AnnotHypervisor, &c.Hypervisor}, {AnnotInitrd, &c.Initrd},
		{AnnotBlock, &c.Block}, {AnnotBlkMntPoint, &c.BlkMntPoint}, {AnnotUseDMBlock, &c.UseDMBlock},
		{AnnotMountRootfs, &c.MountRootfs},
	}
}

// errNoUnikernel means the bundle declares no unikernel.
var errNoUnikernel = errors.New("no unikernel declared")

// LoadConfig reads a bundle's unikernel: from the annotations when any of
// urunc's is set, else from ROOTFS/urunc.json (read without following a
// symlink out of the rootfs). A bundle with neither is InvalidArgument: this
// driver runs only workloads that declare a unikernel.
func LoadConfig(annotations map[string]string, rootfs string) (*Config, error) {
	c := &Config{Source: "annotations"}
	any := false
	for _, f := range c.fields() {
		if v, ok := annotations[f.name]; ok {
			*f.v, any = v, true
		}
	}
	if !any {
		p, err := securejoin.SecureJoin(rootfs, uruncJSON)
		if err != nil {
			return nil, driver.InvalidArgumentf("/%s: %v", uruncJSON, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, driver.InvalidArgumentf("%v: the unikernel driver runs only bundles that declare a unikernel (urunc's com.urunc.unikernel.* annotations, or /%s in the root filesystem)", errNoUnikernel, uruncJSON)
		}
		c = &Config{}
		if err := json.Unmarshal(data, c); err != nil {
			return nil, driver.InvalidArgumentf("/%s: malformed: %v", uruncJSON, err)
		}
		c.Source = "/" + uruncJSON
	}
	for _, f := range c.fields() {
		d, err := base64.StdEncoding.DecodeString(*f.v)
		if err != nil {
			return nil, driver.InvalidArgumentf("%s (%s): not base64, as urunc's values must be: %v", f.name, c.Source, err)
		}
		*f.v = string(d)
	}
	return c, nil
}

// Guests and monitors: the pairs this driver accepts (urunc's matrix).
// Only QEMU's pairs run here; a pair on another monitor passes Validate and
// is refused at create by MonitorReady (monitors.go).
const (
	GuestLinux    = "linux"
	GuestPVH      = "pvh"
	GuestUnikraft = "unikraft"
	MonitorQEMU   = "qemu"
)

var allowed = map[string][]string{
	GuestLinux:    {MonitorQEMU, MonitorFirecracker, MonitorCloudHypervisor},
	GuestPVH:      {MonitorQEMU},
	GuestUnikraft: {MonitorQEMU, MonitorFirecracker},
	GuestMewz:     {MonitorQEMU},
	GuestHermit:   {MonitorQEMU},
	GuestRumprun:  {MonitorHVT, MonitorSPT},
	GuestMirage:   {MonitorHVT, MonitorSPT},
}

// guestOrder lists the guests for messages, in a stable order.
var guestOrder = []string{GuestLinux, GuestPVH, GuestUnikraft, GuestMewz, GuestHermit, GuestRumprun, GuestMirage}

// Monitor is the config's monitor: the hypervisor annotation, else the
// guest's first (qemu, or hvt for the Solo5 guests).
func (c *Config) Monitor() string {
	if c.Hypervisor != "" {
		return c.Hypervisor
	}
	if mons := allowed[c.Type]; len(mons) > 0 {
		return mons[0]
	}
	return MonitorQEMU
}

// Validate checks a decoded config against what this driver runs and
// against the two attacks urunc was advised of: argument injection into the
// monitor's command line (GHSA-crxr-jm9v-349c) and path traversal out of the
// root filesystem (GHSA-3385-hmpj-4678). Every error is InvalidArgument and
// names the annotation.
func (c *Config) Validate() error {
	if c.Type == "" {
		return driver.InvalidArgumentf("%s: empty: name the guest (%s)", AnnotType, guestList())
	}
	mons, ok := allowed[c.Type]
	if !ok {
		return driver.InvalidArgumentf("%s %q: not supported by rtd's unikernel driver (supported: %s)", AnnotType, c.Type, guestList())
	}
	hv := c.Monitor()
	okMon := false
	for _, m := range mons {
		okMon = okMon || m == hv
	}
	if !okMon {
		return driver.InvalidArgumentf("%s %q: guest %s runs only on %s", AnnotHypervisor, c.Hypervisor, c.Type, strings.Join(mons, ", "))
	}
	for _, f := range []struct{ name, v string }{{AnnotBinary, c.Binary}, {AnnotInitrd, c.Initrd}, {AnnotBlock, c.Block}} {
		if err := checkPath(f.name, f.v); err != nil {
			return err
		}
	}
	if c.Type != GuestLinux && c.Binary == "" {
		return driver.InvalidArgumentf("%s: empty: a %s guest needs its kernel image's path in the root filesystem", AnnotBinary, c.Type)
	}
	if c.BlkMntPoint != "" && (!strings.HasPrefix(c.BlkMntPoint, "/") || strings.ContainsAny(c.BlkMntPoint, " \t\n\x00")) {
		return driver.InvalidArgumentf("%s %q: not an absolute path without blanks", AnnotBlkMntPoint, c.BlkMntPoint)
	}
	if strings.ContainsAny(c.Cmdline, "\x00\n\r") {
		return driver.InvalidArgumentf("%s: holds a NUL or a line break", AnnotCmdline)
	}
	for _, f := range []struct{ name, v string }{{AnnotUseDMBlock, c.UseDMBlock}, {AnnotMountRootfs, c.MountRootfs}} {
		switch f.v {
		case "", "true", "false":
		default:
			return driver.InvalidArgumentf("%s %q: want true or false", f.name, f.v)
		}
	}
	if c.UseDMBlock == "true" {
		return driver.InvalidArgumentf("%s: device-mapper snapshots are not supported; the root filesystem is handed over as an EROFS image", AnnotUseDMBlock)
	}
	return nil
}

func guestList() string {
	var l []string
	for _, g := range guestOrder {
		l = append(l, g+" on "+strings.Join(allowed[g], "/"))
	}
	return strings.Join(l, ", ")
}

// checkPath refuses a path annotation that could be read as a QEMU option
// or option list, or that is not a plain path.
func checkPath(name, p string) error {
	if p == "" {
		return nil
	}
	switch {
	case strings.HasPrefix(p, "-"):
		return driver.InvalidArgumentf("%s %q: starts with '-' (would be read as a QEMU option)", name, p)
	case strings.ContainsAny(p, ",=\x00\n\r\t "):
		return driver.InvalidArgumentf("%s %q: holds a comma, '=', a blank or a control character (QEMU option syntax); rename the file", name, p)
	}
	return nil
}

// Resolve returns the host path of a path annotation inside the root
// filesystem: every component, symlinks included, stays inside rootfs
// (securejoin), and the result must be a regular file.
func Resolve(rootfs, name, p string) (string, error) {
	if err := checkPath(name, p); err != nil {
		return "", err
	}
	if strings.Contains("/"+p+"/", "/../") {
		return "", driver.InvalidArgumentf("%s %q: '..' is not allowed: the path must stay inside the root filesystem", name, p)
	}
	host, err := securejoin.SecureJoin(rootfs, p)
	if err != nil {
		return "", driver.InvalidArgumentf("%s %q: %v", name, p, err)
	}
	// SecureJoin resolved every symlink inside rootfs: the result is a
	// path below rootfs that must be a regular file itself (Lstat).
	fi, err := os.Lstat(host)
	if err != nil {
		return "", driver.InvalidArgumentf("%s %q: not found in the root filesystem", name, p)
	}
	if !fi.Mode().IsRegular() {
		return "", driver.InvalidArgumentf("%s %q: not a regular file", name, p)
	}
	return host, nil
}
