package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rtd-project/rtd/conformance/probe"
	"github.com/rtd-project/rtd/driver"
)

// largeOutput is the size of STDIO-002's output.
const largeOutput = 50 << 20

func stdioCases() []Case {
	return []Case{
		{ID: "STDIO-001", Level: Must, Clause: "stdout and stderr arrive on their own paths", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "io1", opts{probe: []string{"echo", "to-out"}})
			if err != nil {
				return err
			}
			_, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			errOut, err := c.Stderr.wait(ctx)
			if err != nil {
				return err
			}
			if string(out) != "to-out\n" || len(errOut) != 0 {
				return fmt.Errorf("stdout %q stderr %q", out, errOut)
			}
			c2, err := s.run(ctx, "io1b", opts{probe: []string{"echo-err", "to-err"}})
			if err != nil {
				return err
			}
			_, out, err = c2.output(ctx)
			if err != nil {
				return err
			}
			errOut, err = c2.Stderr.wait(ctx)
			if err != nil {
				return err
			}
			if len(out) != 0 || string(errOut) != "to-err\n" {
				return fmt.Errorf("stdout %q stderr %q", out, errOut)
			}
			return nil
		}},
		{ID: "STDIO-002", Level: Must, Clause: "50 MB written to stdout arrives byte for byte, without deadlock", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "io2", opts{probe: []string{"write", fmt.Sprint(largeOutput), "stdout"}})
			if err != nil {
				return err
			}
			st, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if st.Code != 0 {
				return fmt.Errorf("exit %d", st.Code)
			}
			h := sha256.New()
			io.Copy(h, probe.Pattern(largeOutput))
			got := sha256.Sum256(out)
			if len(out) != largeOutput || !bytes.Equal(got[:], h.Sum(nil)) {
				return fmt.Errorf("received %d bytes (sha256 %x), want %d bytes (sha256 %x)", len(out), got[:8], largeOutput, h.Sum(nil)[:8])
			}
			return nil
		}},
		{ID: "STDIO-003", Level: Must, Clause: "stdin reaches the process and its end of file ends the input", NotFor: unikernelOnly, Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "io3", opts{probe: []string{"cat"}, stdin: true})
			if err != nil {
				return err
			}
			w, err := os.OpenFile(c.Stdin, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			io.WriteString(w, "ping\npong\n")
			w.Close()
			st, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if st.Code != 0 || string(out) != "ping\npong\n" {
				return fmt.Errorf("exit %d output %q, want ping pong", st.Code, out)
			}
			return nil
		}},
		{ID: "STDIO-004", Level: Must, Capability: CapTerminal, Clause: "With a terminal, the process's stdin and stdout are a tty", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "io4", opts{probe: []string{"report"}, terminal: true})
			if err != nil {
				return err
			}
			_, out, err := c.output(ctx)
			if err != nil {
				return err
			}
			if !bytes.Contains(out, []byte(`"StdinTTY":true,"StdoutTTY":true`)) {
				return fmt.Errorf("report through the terminal does not show a tty: %q", truncate(string(out), 300))
			}
			return nil
		}},
		{ID: "STDIO-005", Level: Must, Capability: CapCloseIO, Clause: "CloseIO closes the process's stdin", Run: func(ctx context.Context, s *Session) error {
			c, err := s.run(ctx, "io5", opts{probe: []string{"cat"}, stdin: true})
			if err != nil {
				return err
			}
			w, err := os.OpenFile(c.Stdin, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer w.Close()
			io.WriteString(w, "before-close\n")
			if err := c.Stdout.waitFor(ctx, "before-close"); err != nil {
				return err
			}
			if err := s.client.CloseIO(ctx, &driver.CloseIORequest{ID: c.ID}); err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			st, err := c.wait(wctx)
			if err != nil {
				return fmt.Errorf("cat did not see end of input after CloseIO: %w", err)
			}
			if st.Code != 0 {
				return fmt.Errorf("exit %d", st.Code)
			}
			return nil
		}},
		{ID: "STDIO-006", Level: Must, Capability: CapResizePty, Clause: "ResizePty changes the terminal size and the process gets SIGWINCH", Run: func(ctx context.Context, s *Session) error {
			c, err := s.runReady(ctx, "io6", opts{probe: []string{"winsize"}, terminal: true})
			if err != nil {
				return err
			}
			if err := s.client.ResizePty(ctx, &driver.ResizePtyRequest{ID: c.ID, Width: 91, Height: 37}); err != nil {
				return err
			}
			return c.Stdout.waitFor(ctx, "size 37 91")
		}},
	}
}
