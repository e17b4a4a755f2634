package vm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/vm/wire"
	"github.com/rtd-project/rtd/internal/vmm"
)

// VirtiofsdEnv names the variable that points at a virtiofsd binary.
const VirtiofsdEnv = "RTD_VM_VIRTIOFSD"

// virtiofsdPaths are where Debian installs virtiofsd: the Rust daemon's
// own package (newer releases), then the C one QEMU 7.2 ships in
// qemu-system-common.
var virtiofsdPaths = []string{"/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd"}

// findVirtiofsd finds virtiofsd: $RTD_VM_VIRTIOFSD, PATH, then virtiofsdPaths.
func findVirtiofsd() (string, error) {
	if p := os.Getenv(VirtiofsdEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("virtiofsd %s ($%s): %v", p, VirtiofsdEnv, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("virtiofsd"); err == nil {
		return p, nil
	}
	for _, p := range virtiofsdPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("virtiofsd not found (read-write bind mounts and volumes of the vm driver need it): install qemu-system-common, or set $%s", VirtiofsdEnv)
}

// shareSocket is the vhost-user socket of share i of container id (short:
// unix socket paths are limited to 108 bytes).
func (l layout) shareSocket(id string, i int) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(l.Root, "s", fmt.Sprintf("%s-fs%d.sock", hex.EncodeToString(sum[:8]), i))
}

// removeShareSockets removes the vhost-user sockets of container id.
func (l layout) removeShareSockets(id string) {
	sum := sha256.Sum256([]byte(id))
	socks, _ := filepath.Glob(filepath.Join(l.Root, "s", hex.EncodeToString(sum[:8])+"-fs*.sock"))
	for _, s := range socks {
		os.Remove(s)
	}
}

// startShares starts one virtiofsd per shared directory and returns their
// sockets; waitShares waits until they listen, and the caller kills them
// (stopShares) when QEMU is gone. virtiofsd confines itself to its
// directory (mount, pid and net namespaces, pivot_root into it): a symlink
// in the share that points out resolves inside it.
func (m *monitor) startShares(sources []string, logOut io.Writer) ([]string, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	bin, err := findVirtiofsd()
	if err != nil {
		return nil, driver.FailedPreconditionf("%v", err)
	}
	var sockets []string
	for i, src := range sources {
		sock := m.layout.shareSocket(m.key(), i)
		if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
			return nil, err
		}
		_ = os.Remove(sock)
		p, err := vmm.Start(bin, []string{"--socket-path=" + sock, "-o", "source=" + src, "-o", "cache=auto", "-o", "no_xattr"}, nil, logOut)
		if err != nil {
			return nil, err
		}
		m.shares = append(m.shares, p)
		m.shareSources = append(m.shareSources, src)
		sockets = append(sockets, sock)
	}
	return sockets, nil
}

// waitShares waits until every virtiofsd listens.
func (m *monitor) waitShares(ctx context.Context) error {
	for i, p := range m.shares {
		if err := waitSocket(ctx, m.layout.shareSocket(m.key(), i), p); err != nil {
			return fmt.Errorf("virtiofsd for %s: %w", m.shareSources[i], err)
		}
	}
	return nil
}

// waitSocket waits until path exists, failing when p exits first.
func waitSocket(ctx context.Context, path string, p *vmm.Process) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("exited before listening (%s)", strings.TrimPrefix(p.ExitReason(), "qemu "))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stopShares kills the virtiofsd processes and removes their sockets.
func (m *monitor) stopShares() {
	for i, p := range m.shares {
		p.Kill()
		p.Wait(5 * time.Second)
		os.Remove(m.layout.shareSocket(m.key(), i))
	}
	m.shares = nil
}

// shareArgs are QEMU's arguments for virtiofs shares: guest memory in a
// shared memfd (virtiofsd maps it: vhost-user), the virtio-mmio transport
// in modern mode (vhost-user-fs has no legacy mode) and one
// vhost-user-fs device per socket, tagged wire.ShareTag(i).
func shareArgs(memoryMiB int, sockets []string) []string {
	if len(sockets) == 0 {
		return nil
	}
	args := []string{
		"-object", fmt.Sprintf("memory-backend-memfd,id=mem,size=%dM,share=on", memoryMiB),
		"-machine", "memory-backend=mem",
		"-global", "virtio-mmio.force-legacy=false",
	}
	for i, s := range sockets {
		args = append(args,
			"-chardev", fmt.Sprintf("socket,id=fs%d,path=%s", i, s),
			"-device", fmt.Sprintf("vhost-user-fs-device,chardev=fs%d,tag=%s", i, wire.ShareTag(i)))
	}
	return args
}
