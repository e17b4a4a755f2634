//go:build linux

package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/rtd-project/rtd/internal/monitor/watch"
)

// callControl sends one request to the monitor of a process (package
// watch serves it) and waits for the reply (or ctx). ErrGone means nothing
// answers on the socket.
func callControl(ctx context.Context, path string, req watch.Request) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return ErrGone
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return ErrGone
	}
	var reply watch.Reply
	if err := json.NewDecoder(conn).Decode(&reply); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrGone
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	return nil
}

// ErrGone means no monitor answers for a process: it has ended.
var ErrGone = errors.New("monitor is gone")
