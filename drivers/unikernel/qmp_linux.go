package unikernel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// qmpTimeout bounds Start: QEMU answering on its QMP socket.
const qmpTimeout = 10 * time.Second

// qmpCont connects to QEMU's QMP socket and continues the paused VM: the
// greeting, qmp_capabilities, then cont, each answered by a "return" (or an
// "error"), events in between skipped.
func qmpCont(ctx context.Context, path string, alive func() bool) error {
	deadline := time.Now().Add(qmpTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	// QEMU listens once it has set the machine up (tens of ms after its
	// start): retry until then.
	var d net.Dialer
	var conn net.Conn
	var err error
	for {
		if conn, err = d.DialContext(ctx, "unix", path); err == nil {
			break
		}
		if alive != nil && !alive() || time.Now().After(deadline) {
			return fmt.Errorf("qmp: %w", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	r := bufio.NewReader(conn)
	if _, err := r.ReadBytes('\n'); err != nil {
		return fmt.Errorf("qmp greeting: %w", err)
	}
	for _, cmd := range []string{"qmp_capabilities", "cont"} {
		if _, err := fmt.Fprintf(conn, "{\"execute\":%q}\n", cmd); err != nil {
			return fmt.Errorf("qmp %s: %w", cmd, err)
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil && cmd == "cont" && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
				// QEMU closed the socket after cont: it exits, so the
				// guest ran and ended before the reply was written (a
				// unikernel that exits at once); the monitor records how.
				return nil
			}
			if err != nil {
				return fmt.Errorf("qmp %s: %w", cmd, err)
			}
			var msg struct {
				Return json.RawMessage
				Error  *struct{ Class, Desc string }
			}
			if json.Unmarshal(line, &msg) != nil {
				continue
			}
			if msg.Error != nil {
				return fmt.Errorf("qmp %s: %s: %s", cmd, msg.Error.Class, msg.Error.Desc)
			}
			if msg.Return != nil {
				break
			}
		}
	}
	return nil
}
