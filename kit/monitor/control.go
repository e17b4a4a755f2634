//go:build linux

package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/rtd-project/rtd/kit/monitor/watch"
)

// callControl sends one request to the monitor of a process (package
// watch serves it) and waits for the reply (or ctx). ErrGone means nothing
// answers on the socket.
func callControl(ctx context.Context, path string, req watch.Request) error {
	_, err := callControlReply(ctx, path, req)
	return err
}

// callControlReply is callControl that also returns the reply.
func callControlReply(ctx context.Context, path string, req watch.Request) (*watch.Reply, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, ErrGone
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, ErrGone
	}
	var reply watch.Reply
	if err := json.NewDecoder(conn).Decode(&reply); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrGone
	}
	if reply.Error != "" {
		return nil, errors.New(reply.Error)
	}
	return &reply, nil
}

// ErrGone means no monitor answers for a process: it has ended.
var ErrGone = errors.New("monitor is gone")
