package guest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// poll is how often a device that is not there yet is looked for again.
const poll = 5 * time.Millisecond

// LoadModules loads the modules listed in dir/modules.order with
// finit_module, in that order, except those named in skip (loaded later,
// when needed, with LoadModule); a module already loaded is fine, and no
// modules.order means there is nothing to load.
func LoadModules(dir string, skip ...string) error {
	f, err := os.Open(filepath.Join(dir, "modules.order"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name := strings.TrimSpace(sc.Text()); name != "" && !slices.Contains(skip, name) {
			if err := LoadModule(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// LoadModule loads the module file at path; one already loaded is fine.
func LoadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = unix.FinitModule(int(f.Fd()), "", 0)
	if errors.Is(err, unix.ENOSYS) {
		// A kernel without module support (rtd's built kernel) booted
		// with an initramfs made for one with modules.
		return fmt.Errorf("load module %s: this kernel has no module support: the initramfs was made for another kernel: %w", filepath.Base(path), err)
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load module %s: %w", filepath.Base(path), err)
	}
	return nil
}

// FindDisk returns the block device (/dev/vdX) whose virtio serial is
// serial, waiting up to timeout for it to appear.
func FindDisk(serial string, timeout time.Duration) (string, error) {
	dev, err := find("/sys/block", "serial", serial, timeout)
	if err != nil {
		return "", fmt.Errorf("no disk with serial %q after %s", serial, timeout)
	}
	return dev, nil
}

// FindPort returns the device of the virtio-serial port named name,
// waiting up to timeout for it to appear.
func FindPort(name string, timeout time.Duration) (string, error) {
	dev, err := find("/sys/class/virtio-ports", "name", name, timeout)
	if err != nil {
		return "", fmt.Errorf("no virtio-serial port named %q after %s", name, timeout)
	}
	return dev, nil
}

// find returns /dev/ENTRY for the entry of sysDir whose file attr holds
// want, once the device node exists.
func find(sysDir, attr, want string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		entries, _ := os.ReadDir(sysDir)
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(sysDir, e.Name(), attr))
			if err == nil && strings.TrimSpace(string(data)) == want {
				dev := "/dev/" + e.Name()
				if _, err := os.Stat(dev); err == nil {
					return dev, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", os.ErrNotExist
		}
		time.Sleep(poll)
	}
}

// OpenPort opens the virtio-serial port named name with flag, retrying
// while the device is not ready (an hvc port can fail with ENODEV briefly
// after boot), for up to timeout in all.
func OpenPort(name string, flag int, timeout time.Duration) (*os.File, error) {
	deadline := time.Now().Add(timeout)
	dev, err := FindPort(name, timeout)
	if err != nil {
		return nil, err
	}
	for {
		f, err := os.OpenFile(dev, flag, 0)
		if err == nil {
			return f, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("virtio-serial port %s: %w", name, err)
		}
		time.Sleep(poll)
	}
}
