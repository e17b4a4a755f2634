package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
)

// Session is what a case works with: a live driver client, its Info, and
// helpers that create probe containers and clean them up.
type Session struct {
	cfg     Config
	name    string
	work    string
	ownWork bool
	rootfs  string
	proc    *driver.Process
	client  *driver.Client // proc's
	info    *driver.Info

	// prefix starts every container id of this run ("rtdconf-" and a
	// random tag), so leak checks see only this run's containers.
	prefix string

	mu      sync.Mutex
	created map[string]bool // containers of the current case
	seq     int
}

func newSession(ctx context.Context, cfg Config) (_ *Session, retErr error) {
	if cfg.Driver == "" {
		return nil, driver.InvalidArgumentf("conformance: no driver binary given")
	}
	path, err := filepath.Abs(cfg.Driver)
	if err != nil {
		return nil, err
	}
	cfg.Driver = path
	if cfg.Name == "" {
		cfg.Name = strings.TrimPrefix(filepath.Base(path), "rtd-driver-")
	}
	if cfg.ChurnCycles == 0 {
		cfg.ChurnCycles = 200
	}
	if cfg.CaseTimeout == 0 {
		cfg.CaseTimeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	s := &Session{cfg: cfg, name: cfg.Name, work: cfg.WorkDir, created: map[string]bool{},
		prefix: fmt.Sprintf("rtdconf-%04x-", rand.Uint32()&0xffff)}
	if s.work == "" {
		if s.work, err = os.MkdirTemp("", "rtd-conformance-"); err != nil {
			return nil, err
		}
		s.ownWork = true
	}
	defer func() {
		if retErr != nil {
			s.close()
		}
	}()
	for _, d := range []string{"state", "sock", "bundles", "io"} {
		if err := os.MkdirAll(filepath.Join(s.work, d), 0o700); err != nil {
			return nil, err
		}
	}
	// The driver's class decides which probe to build (wasip1 for wasm).
	if err := s.relaunch(ctx); err != nil {
		return nil, err
	}
	if err := s.prepareRootfs(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// relaunch starts a fresh driver process (the old one, if any, is killed).
func (s *Session) relaunch(ctx context.Context) error {
	if s.proc != nil {
		s.proc.Close()
	}
	p, err := driver.Launch(ctx, s.cfg.Driver, driver.LaunchOptions{
		Name: s.name, Logger: s.cfg.Logger.Named(s.name), StateDir: filepath.Join(s.work, "state"),
		Env: s.cfg.Env, SocketDir: filepath.Join(s.work, "sock"),
	})
	if err != nil {
		return fmt.Errorf("conformance: launch driver %s: %w", s.cfg.Driver, err)
	}
	s.proc, s.client = p, p.Client()
	if s.info == nil {
		info, err := s.client.Info(ctx)
		if err != nil {
			return fmt.Errorf("conformance: info of %s: %w", s.name, err)
		}
		s.info = info
	}
	return nil
}

// noExecFile is a file in the rootfs without execute permission.
const noExecFile = "noexec"

// prepareRootfs makes the shared root filesystem: the static probe at
// /probe, empty mount points and a file without execute permission. For a
// driver of the wasm class the probe is a WebAssembly module built for wasip1
// (GOOS=wasip1 GOARCH=wasm).
func (s *Session) prepareRootfs(ctx context.Context) error {
	s.rootfs = filepath.Join(s.work, "rootfs")
	for _, d := range []string{"proc", "dev", "sys", "tmp", "etc", "mnt"} {
		if err := os.MkdirAll(filepath.Join(s.rootfs, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(s.rootfs, noExecFile), []byte("#!/probe\n"), 0o644); err != nil {
		return err
	}
	dst := filepath.Join(s.rootfs, "probe")
	if s.cfg.Probe != "" {
		data, err := os.ReadFile(s.cfg.Probe)
		if err != nil {
			return fmt.Errorf("conformance: probe %s: %w", s.cfg.Probe, err)
		}
		return os.WriteFile(dst, data, 0o755)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dst, "github.com/rtd-project/rtd/conformance/probe/cmd/rtd-probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	what := "a prebuilt static rtd-probe"
	if s.info.Isolation.Class == driver.IsolationWasm {
		cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm")
		what = "rtd-probe built with GOOS=wasip1 GOARCH=wasm"
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("conformance: build the probe (set Config.Probe to %s to avoid this): %v: %s", what, err, out)
	}
	return nil
}

// unclaimed reports whether the driver does not claim capability c.
func (s *Session) unclaimed(c Capability) (string, bool) {
	caps := s.info.Capabilities
	claimed := map[Capability]bool{
		CapNone: true, CapExec: caps.Exec, CapTerminal: caps.Terminal, CapResizePty: caps.ResizePty,
		CapCloseIO: caps.CloseIO, CapPause: caps.Pause, CapStats: caps.Stats, CapUpdate: caps.Update,
		CapPids: caps.Pids, CapEvents: caps.Events, CapNetworkNamespace: caps.NetworkNamespace,
		CapSandboxes: caps.Sandboxes,
	}
	if claimed[c] {
		return "", false
	}
	return fmt.Sprintf("capability %s not claimed by the driver", c), true
}

// newID returns a fresh container id for the current case.
func (s *Session) newID(tag string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s%s-%d", s.prefix, strings.ToLower(tag), s.seq)
}

func (s *Session) track(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.created[id] = true
	} else {
		delete(s.created, id)
	}
}

// cleanupCase force-deletes every container the case left behind.
func (s *Session) cleanupCase() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.created))
	for id := range s.created {
		ids = append(ids, id)
	}
	s.created = map[string]bool{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range ids {
		s.forceDelete(ctx, id)
	}
}

// forceDelete removes a container whatever its state (kill first: some
// backends cannot force-delete a created container).
func (s *Session) forceDelete(ctx context.Context, id string) {
	d := s.client
	_ = d.Kill(ctx, &driver.KillRequest{ID: id, Signal: 9, All: true})
	if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: id, Force: true}); err != nil && s.proc.Exited() {
		if s.relaunch(ctx) == nil {
			_, _ = s.client.Delete(ctx, &driver.DeleteRequest{ID: id, Force: true})
		}
	}
}

// close deletes anything left and removes the work directory.
func (s *Session) close() {
	s.cleanupCase()
	if s.client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if list, err := s.client.List(ctx); err == nil {
			for _, st := range list {
				if strings.HasPrefix(st.ID, "rtdconf-") {
					s.forceDelete(ctx, st.ID)
				}
			}
		}
		cancel()
		s.proc.Close()
	}
	if s.ownWork {
		os.RemoveAll(s.work)
	} else {
		for _, d := range []string{"bundles", "io", "sock"} {
			os.RemoveAll(filepath.Join(s.work, d))
		}
	}
}
