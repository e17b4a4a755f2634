package conformance

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

// killDriver SIGKILLs the driver process and waits until it is gone.
func (s *Session) killDriver(ctx context.Context) error {
	pid := s.proc.Pid()
	if pid <= 0 {
		return fmt.Errorf("driver pid unknown")
	}
	if err := killPid(pid); err != nil {
		return err
	}
	return eventually(ctx, 5*time.Second, func() error {
		if !s.proc.Exited() {
			return fmt.Errorf("driver pid %d still alive after SIGKILL", pid)
		}
		return nil
	})
}

// restartDriver kills the driver process (SIGKILL) and launches it again,
// as rtd does after a driver crash.
func (s *Session) restartDriver(ctx context.Context) error {
	if err := s.killDriver(ctx); err != nil {
		return err
	}
	return s.relaunch(ctx)
}

// leftovers looks for anything on the host that still names a container
// whose id contains marker: processes, mounts, cgroups, state files.
func (s *Session) leftovers(marker string) []string {
	var found []string
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		data, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err == nil && strings.Contains(string(data), marker) {
			found = append(found, fmt.Sprintf("process %s: %q", p.Name(), strings.ReplaceAll(string(data), "\x00", " ")))
		}
	}
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, marker) {
				found = append(found, "mount: "+line)
			}
		}
	}
	walk := func(root string, depth int) {
		base := strings.Count(root, "/")
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && strings.Count(path, "/")-base > depth {
				return filepath.SkipDir
			}
			if strings.Contains(d.Name(), marker) {
				found = append(found, "file: "+path)
				if d.IsDir() {
					return filepath.SkipDir
				}
			}
			return nil
		})
	}
	walk("/sys/fs/cgroup", 4)
	walk(filepath.Join(s.work, "state"), 6)
	return found
}

func robustnessCases() []Case {
	return []Case{
		{ID: "ROBUST-001", Level: Must, Clause: "A container outlives its driver process: after the driver is killed it still runs and its exit status is kept", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "rb1", opts{probe: []string{"ready-sleep", "60"}})
			if err != nil {
				return err
			}
			if err := s.restartDriver(ctx); err != nil {
				return err
			}
			if err := wantStatus(ctx, c, "running"); err != nil {
				return fmt.Errorf("after the driver was killed: %w", err)
			}
			if _, err := c.sigkill(ctx); err != nil {
				return err
			}
			return c.delete(ctx)
		}},
		{ID: "ROBUST-002", Level: Must, Clause: "A Wait cut off by the driver's death fails with Unavailable; after relaunch Wait returns the real status", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "rb2", opts{probe: []string{"ready-sleep", "2"}})
			if err != nil {
				return err
			}
			werr := make(chan error, 1)
			go func() { _, err := c.wait(ctx); werr <- err }()
			time.Sleep(200 * time.Millisecond)
			if err := s.killDriver(ctx); err != nil {
				return err
			}
			if err := <-werr; !errdefs.IsUnavailable(err) {
				return fmt.Errorf("wait during the driver's death: %v, want Unavailable", err)
			}
			if err := s.relaunch(ctx); err != nil {
				return err
			}
			st, err := c.wait(ctx)
			if err != nil {
				return err
			}
			if st.Code != 0 {
				return fmt.Errorf("exit %+v, want 0", st)
			}
			return c.delete(ctx)
		}},
		{ID: "ROBUST-003", Level: Must, Clause: "Many create/start/delete cycles leave no process, mount, cgroup, state file or container behind", Lives: func(cfg Config) int { return cfg.ChurnCycles }, Run: func(ctx context.Context, s *Session) error {
			for i := 0; i < s.cfg.ChurnCycles; i++ {
				id := fmt.Sprintf("%schurn-%d-x", s.prefix, i)
				c, err := s.create(ctx, "", opts{id: id, probe: []string{"exit", "0"}})
				if err != nil {
					return fmt.Errorf("cycle %d: %w", i, err)
				}
				if i%2 == 0 {
					if err := s.client.Start(ctx, id); err != nil {
						return fmt.Errorf("cycle %d: %w", i, err)
					}
					if _, err := c.wait(ctx); err != nil {
						return fmt.Errorf("cycle %d: %w", i, err)
					}
					if err := c.delete(ctx); err != nil {
						return fmt.Errorf("cycle %d: %w", i, err)
					}
				} else {
					if _, err := s.client.Delete(ctx, &driver.DeleteRequest{ID: id, Force: true}); err != nil {
						return fmt.Errorf("cycle %d: forced delete of a created container: %w", i, err)
					}
					s.track(id, false)
					c.release()
				}
			}
			list, err := s.client.List(ctx)
			if err != nil {
				return err
			}
			for _, st := range list {
				if strings.HasPrefix(st.ID, s.prefix+"churn-") {
					return fmt.Errorf("List still shows %s", st.ID)
				}
			}
			var left []string
			_ = eventually(ctx, 3*time.Second, func() error {
				if left = s.leftovers(s.prefix + "churn-"); len(left) > 0 {
					return fmt.Errorf("left")
				}
				return nil
			})
			if len(left) > 0 {
				if len(left) > 5 {
					left = append(left[:5], fmt.Sprintf("... and %d more", len(left)-5))
				}
				return fmt.Errorf("after %d cycles: %s", s.cfg.ChurnCycles, strings.Join(left, "; "))
			}
			return nil
		}},
		{ID: "ROBUST-004", Level: Must, Clause: "Ten containers created and started concurrently all run and exit with their own codes", Lives: func(Config) int { return 10 }, Run: func(ctx context.Context, s *Session) error {
			var wg sync.WaitGroup
			errs := make([]error, 10)
			for i := range errs {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					c, err := s.run(ctx, fmt.Sprintf("rb4-%d", i), opts{probe: []string{"exit", fmt.Sprint(i)}})
					if err != nil {
						errs[i] = err
						return
					}
					st, err := c.wait(ctx)
					if err == nil && st.Code != uint32(i) {
						err = fmt.Errorf("container %d exited %d", i, st.Code)
					}
					if err == nil {
						err = c.delete(ctx)
					}
					errs[i] = err
				}(i)
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{ID: "ROBUST-005", Level: Must, Clause: "Once every case has deleted its containers, no process, mount, cgroup or state file of any of them remains", Run: func(ctx context.Context, s *Session) error {
			var left []string
			_ = eventually(ctx, 5*time.Second, func() error {
				if left = s.leftovers(s.prefix); len(left) > 0 {
					return fmt.Errorf("left")
				}
				return nil
			})
			if len(left) > 0 {
				if len(left) > 5 {
					left = append(left[:5], fmt.Sprintf("... and %d more", len(left)-5))
				}
				return fmt.Errorf("left behind: %s", strings.Join(left, "; "))
			}
			return nil
		}},
	}
}
