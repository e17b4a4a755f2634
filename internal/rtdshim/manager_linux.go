//go:build linux

package rtdshim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/shutdown"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// RuntimeName is the runtime_type containerd knows the shim by.
const RuntimeName = "io.containerd.rtd.v2"

// groupLabels group containers into one shim process, first match wins:
// containerd's runc shim uses the same CRI label.
var groupLabels = []string{
	"io.containerd.rtd.v2.group",
	"io.kubernetes.cri.sandbox-id",
}

// Register registers the task service with pkg/shim's plugin registry;
// call it once from main before shim.Run.
func Register() {
	registry.Register(&plugin.Registration{
		Type:     plugins.TTRPCPlugin,
		ID:       "task",
		Requires: []plugin.Type{plugins.EventPlugin, plugins.InternalPlugin},
		InitFn: func(ic *plugin.InitContext) (interface{}, error) {
			pp, err := ic.GetByID(plugins.EventPlugin, "publisher")
			if err != nil {
				return nil, err
			}
			ss, err := ic.GetByID(plugins.InternalPlugin, "shutdown")
			if err != nil {
				return nil, err
			}
			return NewTaskService(ic.Context, pp.(shim.Publisher), ss.(shutdown.Service))
		},
	})
}

// Manager implements shim.Manager: start (spawn or reuse the pod's shim
// process), delete (clean up after a shim that died) and info.
type Manager struct{ name string }

// NewManager returns the shim manager for runtime name.
func NewManager(name string) *Manager { return &Manager{name: name} }

// Name is the runtime name.
func (m *Manager) Name() string { return m.name }

// Start starts the shim server process for a container, or answers the
// address of the one already serving its pod.
func (m *Manager) Start(ctx context.Context, id string, opts shim.StartOpts) (_ shim.BootstrapParams, retErr error) {
	params := shim.BootstrapParams{Version: 3, Protocol: "ttrpc"}
	ns, err := namespaces.NamespaceRequired(ctx)
	if err != nil {
		return params, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return params, err
	}
	// containerd passes the handler's runtime options on stdin; a pod of
	// the Sandbox API has no spec to carry them to CreateSandbox.
	if err := saveRuntimeOptions(os.Stdin, cwd); err != nil {
		return params, err
	}
	grouping := id
	if annotations, err := specAnnotations(cwd); err == nil {
		for _, l := range groupLabels {
			if g, ok := annotations[l]; ok && g != "" {
				grouping = g
				break
			}
		}
	}
	address, err := shim.SocketAddress(ctx, opts.Address, grouping, false)
	if err != nil {
		return params, err
	}
	socket, err := shim.NewSocket(address)
	if err != nil {
		if !shim.SocketEaddrinuse(err) {
			return params, fmt.Errorf("create shim socket: %w", err)
		}
		if shim.CanConnect(address) {
			params.Address = address // the pod's shim serves this container too
			return params, nil
		}
		if err := shim.RemoveSocket(address); err != nil {
			return params, fmt.Errorf("remove stale shim socket: %w", err)
		}
		if socket, err = shim.NewSocket(address); err != nil {
			return params, fmt.Errorf("create shim socket: %w", err)
		}
	}
	defer func() {
		if retErr != nil {
			socket.Close()
			_ = shim.RemoveSocket(address)
		}
	}()
	f, err := socket.File()
	if err != nil {
		return params, err
	}
	defer f.Close()
	self, err := os.Executable()
	if err != nil {
		return params, err
	}
	args := []string{"-namespace", ns, "-id", id, "-address", opts.Address}
	if opts.Debug {
		args = append(args, "-debug")
	}
	cmd := exec.Command(self, args...)
	cmd.Args[0] = os.Args[0] // the name may choose the driver (binaryDriver)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	cmd.ExtraFiles = []*os.File{f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return params, err
	}
	go cmd.Wait() //nolint:errcheck // reaps the server if it ends while we run
	if err := shim.AdjustOOMScore(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		return params, fmt.Errorf("adjust the shim's OOM score: %w", err)
	}
	params.Address = address
	return params, nil
}

// Stop is containerd's cleanup of a container whose shim is gone
// (`containerd-shim-rtd-v2 delete`, run in the bundle): the container is
// deleted on its driver (killed first), the rootfs unmounted, and the
// shim's root removed once it holds no container.
func (m *Manager) Stop(ctx context.Context, id string) (shim.StopStatus, error) {
	status := shim.StopStatus{ExitedAt: time.Now(), ExitStatus: 128 + int(syscall.SIGKILL)}
	cwd, err := os.Getwd()
	if err != nil {
		return status, err
	}
	bundle := filepath.Join(filepath.Dir(cwd), id)
	rec, err := readBundleRecord(bundle)
	if errors.Is(err, os.ErrNotExist) {
		unmountRootfs(ctx, filepath.Join(bundle, "rootfs"))
		return status, nil
	}
	if err != nil {
		return status, err
	}
	c := core.New(core.Options{Root: rec.Root, SearchPath: searchPath(nil), Logger: newLogger()})
	defer c.Close()
	d, err := c.Driver(ctx, rec.DriverPath)
	if err == nil {
		var st *driver.ExitStatus
		st, err = d.Delete(ctx, &driver.DeleteRequest{ID: id, Force: true})
		if err == nil && st != nil {
			status.ExitStatus = int(st.Code)
			if !st.ExitedAt.IsZero() {
				status.ExitedAt = st.ExitedAt
			}
		}
	}
	if err != nil && !errdefs.IsNotFound(err) {
		log.G(ctx).WithError(err).WithField("id", id).Warn("cleanup: delete on the driver")
	}
	if d != nil && rec.Sandbox != "" {
		err := d.Do(ctx, func(cl *driver.Client) error {
			return cl.ShutdownSandbox(ctx, &driver.ShutdownSandboxRequest{ID: rec.Sandbox, Force: true})
		})
		if err != nil && !errdefs.IsNotFound(err) {
			log.G(ctx).WithError(err).WithField("sandbox", rec.Sandbox).Warn("cleanup: shutdown sandbox")
		}
	}
	if rec.Rootfs != "" {
		if err := mount.UnmountRecursive(rec.Rootfs, 0); err != nil {
			log.G(ctx).WithError(err).Warn("cleanup: unmount rootfs")
		}
	}
	removeBundleRecord(bundle)
	if d != nil {
		if left, err := d.List(ctx); err == nil && len(left) == 0 {
			c.Close()
			removeShimRoot(rec.Root)
		}
	}
	return status, nil
}

// Info describes the shim (containerd's introspection API): its name,
// version and driver search path.
func (m *Manager) Info(ctx context.Context, optionsR io.Reader) (*types.RuntimeInfo, error) {
	info := &types.RuntimeInfo{Name: m.name, Version: &types.RuntimeVersion{Version: "rtd"}}
	if _, err := io.Copy(io.Discard, optionsR); err != nil {
		return nil, err
	}
	info.Annotations = map[string]string{"io.rtd.shim.search_path": strings.Join(searchPath(nil), ":")}
	return info, nil
}
