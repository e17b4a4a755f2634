package ocicli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// classes maps phrases runtimes print to errdefs classes. runc, runsc and
// crun word these differently; the phrases below cover all three.
var classes = []struct {
	phrases []string
	wrap    func(string, ...any) error
}{
	{[]string{"does not exist", "not found", "no such container", "container not exist"}, driver.NotFoundf},
	{[]string{"already exists", "already in use"}, driver.AlreadyExistsf},
	{[]string{"not running", "cannot start", "is stopped", "not paused", "already paused", "is paused",
		"container is running", "cannot delete container", "container is not created", "cannot kill",
		"cannot signal", "process already finished", "state is not"}, driver.FailedPreconditionf},
	{[]string{"invalid argument", "unknown signal", "invalid signal", "parse", "unmarshal", "json:", "invalid container id"}, driver.InvalidArgumentf},
}

// classify gives err an errdefs class from the runtime's words, and adds
// the tail of the container's runtime log.
func (rt *Runtime) classify(op, id string, logOffset int64, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(execExit); ok {
		return err
	}
	var execErr *exec.Error
	if errors.As(err, &execErr) {
		return driver.Unavailablef("%s %s: cannot run %s: %v", rt.Name, op, rt.Binary, err)
	}
	msg := err.Error()
	if id != "" && rt.LogDir != "" {
		if tail := logTail(rt.logPath(id), logOffset); tail != "" && !strings.Contains(msg, tail) {
			msg += ": " + tail
		}
	}
	lower := strings.ToLower(msg)
	what := fmt.Sprintf("%s %s %s", rt.Name, op, id)
	for _, c := range classes {
		for _, p := range c.phrases {
			if strings.Contains(lower, p) {
				return c.wrap("%s: %s", strings.TrimSpace(what), msg)
			}
		}
	}
	return fmt.Errorf("%s: %w", strings.TrimSpace(what), err)
}

// logTail returns the last error messages of a runtime JSON log.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return ""
	}
	var last []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for s.Scan() {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(s.Bytes(), &entry) != nil {
			continue
		}
		if entry.Level == "error" || entry.Level == "fatal" || entry.Level == "warning" {
			last = append(last, entry.Msg)
			if len(last) > 3 {
				last = last[1:]
			}
		}
	}
	return strings.Join(last, "; ")
}
