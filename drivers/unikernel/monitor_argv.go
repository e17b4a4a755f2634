package unikernel

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// QEMU's argv is internal/vmm's Machine.Args, shared with drivers/vm; the
// builders here are the other monitors'. Each one's inputs but the guest
// command line are the driver's own (paths in the container's dir, tap
// names, MACs); optionValue still refuses what their option syntax would
// split, so a bug upstream cannot become an extra option.

// optionValue refuses a value that a monitor's option parser would read
// as more than one value or as an option.
func optionValue(what, v string) error {
	if strings.HasPrefix(v, "-") || strings.ContainsAny(v, ", =\t\n\r\x00") {
		return fmt.Errorf("%s %q: holds a comma, '=', a blank or a control character, or starts with '-'", what, v)
	}
	return nil
}

func (l Launch) check() error {
	vals := []struct{ what, v string }{{"kernel", l.Kernel}}
	if l.Initrd != "" {
		vals = append(vals, struct{ what, v string }{"initrd", l.Initrd})
	}
	for _, d := range l.Disks {
		vals = append(vals, struct{ what, v string }{"disk", d})
	}
	for _, t := range l.Taps {
		vals = append(vals, struct{ what, v string }{"tap", t.Name}, struct{ what, v string }{"mac", t.MAC})
	}
	for _, v := range vals {
		if err := optionValue(v.what, v.v); err != nil {
			return err
		}
	}
	if strings.ContainsAny(l.Cmdline, "\x00\n\r") {
		return fmt.Errorf("guest command line holds a NUL or a line break")
	}
	if l.MemoryMiB <= 0 {
		return fmt.Errorf("memory %d MiB: must be positive", l.MemoryMiB)
	}
	return nil
}

func (l Launch) cpus() int { return max(l.CPUs, 1) }

// firecrackerConfig is Firecracker's --config-file (its API's PUT bodies
// under their resource names).
type firecrackerConfig struct {
	BootSource struct {
		KernelImagePath string `json:"kernel_image_path"`
		BootArgs        string `json:"boot_args,omitempty"`
		InitrdPath      string `json:"initrd_path,omitempty"`
	} `json:"boot-source"`
	Drives        []firecrackerDrive `json:"drives"`
	MachineConfig struct {
		VCPUCount  int `json:"vcpu_count"`
		MemSizeMiB int `json:"mem_size_mib"`
	} `json:"machine-config"`
	NetworkInterfaces []firecrackerNIC `json:"network-interfaces,omitempty"`
}

type firecrackerDrive struct {
	DriveID      string `json:"drive_id"`
	PathOnHost   string `json:"path_on_host"`
	IsRootDevice bool   `json:"is_root_device"`
	IsReadOnly   bool   `json:"is_read_only"`
}

type firecrackerNIC struct {
	IfaceID     string `json:"iface_id"`
	HostDevName string `json:"host_dev_name"`
	GuestMAC    string `json:"guest_mac,omitempty"`
}

// FirecrackerConfig is the JSON config file of a Firecracker VM: the guest
// command line is one JSON string (boot_args), escaped by encoding/json.
func FirecrackerConfig(l Launch) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("firecracker: %w", err)
	}
	var c firecrackerConfig
	c.BootSource.KernelImagePath, c.BootSource.BootArgs, c.BootSource.InitrdPath = l.Kernel, l.Cmdline, l.Initrd
	c.MachineConfig.VCPUCount, c.MachineConfig.MemSizeMiB = l.cpus(), l.MemoryMiB
	c.Drives = []firecrackerDrive{}
	for i, d := range l.Disks {
		c.Drives = append(c.Drives, firecrackerDrive{DriveID: "disk" + strconv.Itoa(i), PathOnHost: d, IsReadOnly: true})
	}
	for i, t := range l.Taps {
		c.NetworkInterfaces = append(c.NetworkInterfaces, firecrackerNIC{IfaceID: "eth" + strconv.Itoa(i), HostDevName: t.Name, GuestMAC: t.MAC})
	}
	return json.MarshalIndent(c, "", "  ")
}

// FirecrackerArgs is Firecracker's argv (without the binary) for a config
// file the driver wrote: no API socket, the VM boots from the file.
func FirecrackerArgs(configPath string) ([]string, error) {
	if err := optionValue("config file", configPath); err != nil {
		return nil, fmt.Errorf("firecracker: %w", err)
	}
	return []string{"--no-api", "--config-file", configPath}, nil
}

// CloudHypervisorArgs is cloud-hypervisor's argv (without the binary). The
// command line is joined to its option (--cmdline=...), so a value starting
// with '-' stays the option's value.
func CloudHypervisorArgs(l Launch) ([]string, error) {
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("cloud-hypervisor: %w", err)
	}
	args := []string{
		"--kernel", l.Kernel,
		"--memory", fmt.Sprintf("size=%dM", l.MemoryMiB),
		"--cpus", "boot=" + strconv.Itoa(l.cpus()),
		"--console", "off", "--serial", "tty",
	}
	if l.Initrd != "" {
		args = append(args, "--initramfs", l.Initrd)
	}
	for _, d := range l.Disks {
		args = append(args, "--disk", "path="+d+",readonly=on")
	}
	for _, t := range l.Taps {
		args = append(args, "--net", "tap="+t.Name+",mac="+t.MAC)
	}
	return append(args, "--cmdline="+l.Cmdline), nil
}

// solo5Names are the device names a Solo5 guest declares in its manifest,
// as urunc sets them: rumprun's "tap" and "rootfs", mirage's "service" and
// "storage".
var solo5Names = map[string][2]string{
	GuestRumprun: {"tap", "rootfs"},
	GuestMirage:  {"service", "storage"},
}

// Solo5Args is solo5-hvt's or solo5-spt's argv (without the binary): the
// tender's options, "--", the kernel, then the guest's command line as one
// argument: after the kernel nothing is read as a tender option.
func Solo5Args(guest string, l Launch) ([]string, error) {
	names, ok := solo5Names[guest]
	if !ok {
		return nil, fmt.Errorf("solo5: guest %q does not run on solo5", guest)
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("solo5: %w", err)
	}
	if l.Initrd != "" || len(l.Taps) > 1 || len(l.Disks) > 1 {
		return nil, fmt.Errorf("solo5: a %s guest takes no initrd, one network device and one block device", guest)
	}
	args := []string{"--mem=" + strconv.Itoa(l.MemoryMiB)}
	for _, t := range l.Taps {
		args = append(args, "--net:"+names[0]+"="+t.Name, "--net-mac:"+names[0]+"="+t.MAC)
	}
	for _, d := range l.Disks {
		args = append(args, "--block:"+names[1]+"="+d)
	}
	args = append(args, "--", l.Kernel)
	if l.Cmdline != "" {
		args = append(args, l.Cmdline)
	}
	return args, nil
}
