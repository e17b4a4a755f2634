package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/core/network"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/atomicfile"
)

// Pods (rtd pod, rtd run --pod): a pod is a sandbox on a driver that
// claims the capability (driver.SandboxDriver), with one network attachment
// its containers share. Its record lives in ROOT/pods/NAME (pod.json, the
// netns file and the /etc files of its network); the sandbox's id on the
// driver is the pod's name.

// PodOptions describe a pod to create.
type PodOptions struct {
	// Name is the pod's name; "" generates one.
	Name string
	// Driver is a driver name or path; "" for the policy's default.
	Driver   string
	Policy   *Policy
	Hostname string
	// Network is "none", "bridge" or a user network; "" is bridge on a
	// driver that can join a network namespace, else none.
	Network string
}

// Pod is a pod's record.
type Pod struct {
	Name       string    `json:"name"`
	Driver     string    `json:"driver"`
	DriverPath string    `json:"driverPath"`
	Hostname   string    `json:"hostname,omitempty"`
	Network    string    `json:"network"`
	IP         string    `json:"ip,omitempty"`
	Created    time.Time `json:"created"`
}

const podFile = "pod.json"

func (c *Core) podsDir() string             { return filepath.Join(c.root, "pods") }
func (c *Core) podDir(name string) string   { return filepath.Join(c.podsDir(), name) }
func podAttachmentPath(dir string) string   { return filepath.Join(dir, attachmentFile) }
func (c *Core) podNetNS(name string) string { return filepath.Join(c.podDir(name), netnsFile) }
func podFileOf(c *Core, name string) string { return filepath.Join(c.podDir(name), podFile) }
func (p *Pod) binary() DriverBinary         { return DriverBinary{Name: p.Driver, Path: p.DriverPath} }
func (c *Core) podDriver(p *Pod) *Plugin    { return c.driverFor(p.binary()) }

// LoadPod reads pod name's record; an unknown name is NotFound.
func (c *Core) LoadPod(name string) (*Pod, error) {
	if err := driver.ValidateID("pod name", name); err != nil {
		return nil, err
	}
	p := &Pod{}
	if err := atomicfile.ReadJSON(podFileOf(c, name), p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, driver.NotFoundf("no such pod: %s", name)
		}
		return nil, fmt.Errorf("pod %s: %w", name, err)
	}
	return p, nil
}

// Pods lists the pods, oldest first.
func (c *Core) Pods() ([]*Pod, error) {
	entries, err := os.ReadDir(c.podsDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []*Pod
	for _, e := range entries {
		if p, err := c.LoadPod(e.Name()); err == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// CreatePod creates and starts a pod: the driver must claim sandboxes
// (else FailedPrecondition naming it); its network is attached once, here.
func (c *Core) CreatePod(ctx context.Context, opts PodOptions) (_ *Pod, retErr error) {
	name := opts.Name
	if name == "" {
		name = NewID()
	}
	if err := driver.ValidateID("pod name", name); err != nil {
		return nil, err
	}
	choice, err := c.SelectDriver(ctx, Selection{Driver: opts.Driver, Policy: opts.Policy})
	if err != nil {
		return nil, err
	}
	d := c.driverFor(choice.Binary)
	info, err := d.Info(ctx)
	if err != nil {
		return nil, err
	}
	if !info.Capabilities.Sandboxes {
		return nil, driver.NoSandboxes(d.Name, "create pod "+name)
	}
	mode := opts.Network
	if mode == "" {
		mode = network.None
		if info.Capabilities.NetworkNamespace {
			mode = network.Bridge
		}
	}
	var n *network.Network
	if mode != network.None {
		if mode == network.Host {
			return nil, driver.InvalidArgumentf("create pod %s: --network host is not supported for pods: a pod has a network namespace of its own", name)
		}
		if !info.Capabilities.NetworkNamespace {
			return nil, driver.InvalidArgumentf("create pod %s: driver %s cannot join a network namespace: use --network none", name, d.Name)
		}
		if n, err = c.Networks().Get(mode); err != nil {
			return nil, err
		}
		if err := network.CheckPlugins(); err != nil {
			return nil, err
		}
	}
	dir := c.podDir(name)
	if err := os.MkdirAll(c.podsDir(), 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, driver.AlreadyExistsf("create pod %s: a pod with this name exists", name)
		}
		return nil, err
	}
	hostname := opts.Hostname
	if hostname == "" {
		hostname = name
	}
	p := &Pod{Name: name, Driver: choice.Binary.Name, DriverPath: choice.Binary.Path, Hostname: hostname, Network: mode, Created: time.Now().UTC()}
	sandboxMade := false
	defer func() {
		if retErr != nil {
			c.cleanupPod(context.WithoutCancel(ctx), p, d, sandboxMade)
		}
	}()
	spec := &driver.SandboxSpec{ID: name, Hostname: hostname, Annotations: map[string]string{"rtd.pod": name}}
	if n != nil {
		if p.IP, err = c.attachPod(ctx, p, n); err != nil {
			return nil, err
		}
		spec.NetNSPath = c.podNetNS(name)
	}
	if err := atomicfile.WriteJSON(podFileOf(c, name), p, 0o600); err != nil {
		return nil, err
	}
	sandboxMade = true
	err = d.Do(ctx, func(cl *driver.Client) error {
		if _, err := cl.CreateSandbox(ctx, spec); err != nil {
			return err
		}
		_, err := cl.StartSandbox(ctx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create pod %s: %w", name, err)
	}
	return p, nil
}

// attachPod attaches the pod's network namespace to n and writes the /etc
// files its containers mount; it returns the pod's address.
func (c *Core) attachPod(ctx context.Context, p *Pod, n *network.Network) (string, error) {
	dir := c.podDir(p.Name)
	a := network.NewAttachment(c.Networks(), n, c.root+"\x00pod\x00"+p.Name, c.podNetNS(p.Name), nil)
	if err := atomicfile.WriteJSON(podAttachmentPath(dir), a, 0o600); err != nil {
		return "", err
	}
	if err := network.Attach(ctx, a, nil); err != nil {
		return "", fmt.Errorf("create pod %s: %w", p.Name, err)
	}
	if err := atomicfile.WriteJSON(podAttachmentPath(dir), a, 0o600); err != nil {
		return "", err
	}
	files := map[string][]byte{
		hostsFile:    network.HostsFile(p.Hostname, a.IP, nil),
		resolvFile:   network.ResolvConf(network.HostResolvConf()),
		hostnameFile: []byte(p.Hostname + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", err
		}
	}
	return a.IP, nil
}

// cleanupPod removes what a pod holds: its sandbox (forced), its network
// attachment and namespace, its directory.
func (c *Core) cleanupPod(ctx context.Context, p *Pod, d *Plugin, sandbox bool) error {
	cctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	var errs []error
	if sandbox {
		err := d.Do(cctx, func(cl *driver.Client) error {
			return cl.ShutdownSandbox(cctx, &driver.ShutdownSandboxRequest{ID: p.Name, Force: true})
		})
		if err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	dir := c.podDir(p.Name)
	a := &network.Attachment{}
	if err := atomicfile.ReadJSON(podAttachmentPath(dir), a); err == nil {
		if err := network.Detach(cctx, a, nil); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PodContainers returns the records of the pod's containers.
func (c *Core) PodContainers(name string) ([]*Record, error) {
	recs, err := c.Records()
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, r := range recs {
		if r.Pod == name {
			out = append(out, r)
		}
	}
	return out, nil
}

// RemovePod removes a pod: with a running container in it only with force
// (its containers are removed first, as rm -f would), then the sandbox, the
// network and the record.
func (c *Core) RemovePod(ctx context.Context, name string, force bool) error {
	p, err := c.LoadPod(name)
	if err != nil {
		return err
	}
	recs, err := c.PodContainers(name)
	if err != nil {
		return err
	}
	if !force {
		for _, r := range recs {
			if st, err := c.State(ctx, r); err == nil && st.Status != driver.StatusStopped && st.Status != driver.StatusCreated {
				return driver.FailedPreconditionf("remove pod %s: container %s is %s; stop it first or use pod rm -f", name, r.ID, st.Status)
			}
		}
	}
	for _, r := range recs {
		if err := c.Remove(ctx, r, true); err != nil {
			return fmt.Errorf("remove pod %s: %w", name, err)
		}
	}
	return c.cleanupPod(ctx, p, c.podDriver(p), true)
}

// PodSandbox returns the driver's view of the pod's sandbox.
func (c *Core) PodSandbox(ctx context.Context, p *Pod) (*driver.Sandbox, error) {
	var sb *driver.Sandbox
	err := c.podDriver(p).Retry(ctx, func(cl *driver.Client) (err error) {
		sb, err = cl.SandboxStatus(ctx, p.Name)
		return err
	})
	return sb, err
}

// joinPod prepares a container of pod name: it must not ask for a network
// of its own; it runs on the pod's driver and mounts the pod's /etc files.
// It returns the pod.
func (c *Core) joinPod(id, name string, opts *CreateOptions) (*Pod, error) {
	p, err := c.LoadPod(name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", id, err)
	}
	if opts.Network.Mode != "" || len(opts.Network.Publish) > 0 {
		return nil, driver.InvalidArgumentf("create %s: a container of pod %s shares the pod's network: drop --network and -p", id, name)
	}
	if opts.Driver != "" && opts.Driver != p.Driver && opts.Driver != p.DriverPath {
		return nil, driver.InvalidArgumentf("create %s: pod %s runs on driver %s, not %s", id, name, p.Driver, opts.Driver)
	}
	opts.Driver = p.DriverPath
	opts.Network.Mode = network.None
	return p, nil
}

// applyPod mounts the pod's /etc files into a container of it.
func (c *Core) applyPod(spec *specs.Spec, p *Pod) {
	if p == nil || p.Network == network.None {
		return
	}
	dir := c.podDir(p.Name)
	for _, f := range []struct{ name, dst string }{{hostsFile, "/etc/hosts"}, {resolvFile, "/etc/resolv.conf"}, {hostnameFile, "/etc/hostname"}} {
		spec.Mounts = append(spec.Mounts, specs.Mount{
			Destination: f.dst, Type: "bind", Source: filepath.Join(dir, f.name),
			Options: []string{"rbind", "rprivate", "ro"},
		})
	}
}
