package driver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxLogLine caps one remembered stderr line.
const maxLogLine = 512

// logRing keeps the last lines a driver process wrote, for error messages.
type logRing struct {
	mu   sync.Mutex
	buf  []string
	next int
	full bool
	// file, when set, is the log file of a warm driver: lines reads its
	// last lines instead (warmlaunch_linux.go).
	file string
}

func newLogRing(n int) *logRing { return &logRing{buf: make([]string, n)} }

func (r *logRing) add(line string) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return
	}
	line = formatLogLine(line)
	if len(line) > maxLogLine {
		line = line[:maxLogLine] + "..."
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = line
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

func (r *logRing) lines() []string {
	if r == nil {
		return nil
	}
	if r.file != "" {
		return tailLines(r.file, len(r.buf))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.buf[:r.next]...)
	}
	return append(append([]string(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// lineWriter splits a byte stream into lines, hands each to the ring and,
// when logger is set, logs it. Writes may split or join lines arbitrarily.
type lineWriter struct {
	ring    *logRing
	logger  hclog.Logger
	mu      sync.Mutex
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64*1024 { // a runaway line: flush what we have
		w.emit(string(w.partial))
		w.partial = nil
	}
	return len(p), nil
}

func (w *lineWriter) emit(line string) {
	w.ring.add(line)
	if w.logger != nil && strings.TrimSpace(line) != "" {
		w.logger.Info(strings.TrimRight(line, "\r"))
	}
}

// formatLogLine turns an hclog JSON line into "level: message k=v ...";
// any other line is returned as it is.
func formatLogLine(line string) string {
	if !strings.HasPrefix(line, "{") {
		return line
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		return line
	}
	msg, ok := entry["@message"].(string)
	if !ok {
		return line
	}
	var b strings.Builder
	if lvl, ok := entry["@level"].(string); ok && lvl != "" {
		b.WriteString(lvl)
		b.WriteString(": ")
	}
	b.WriteString(msg)
	keys := make([]string, 0, len(entry))
	for k := range entry {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, entry[k])
	}
	return b.String()
}
