//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The workload of the log tests: two lines on each stream, a second apart
// (so that a time between them splits them).
const logScript = "echo out1; echo err1 >&2; sleep 1.2; echo out2; echo err2 >&2"

// TestLogsStreamsTimestampsSinceUntil: logs writes the container's stderr
// to its stderr (docker's), -t prefixes each line with docker's
// RFC3339Nano time, and --since/--until take absolute times (RFC 3339,
// Unix seconds) and durations.
func TestLogsStreamsTimestampsSinceUntil(t *testing.T) {
	t.Parallel()
	testLogs(t, newEnv(t), "linux")
}

// TestLogsGvisor: gVisor's output goes through the same monitor.
func TestLogsGvisor(t *testing.T) {
	t.Parallel()
	needRunsc(t)
	testLogs(t, newEnv(t), "gvisor")
}

// TestLogsVM: the vm driver's host side writes the same records.
func TestLogsVM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needVMDriver(t)
	id := uniqueID("vmlogs")
	e.ok("run", "-d", "--driver", "vm", "--name", id, rootfs(t), "sh", "-c", logScript)
	e.ok("wait", id)
	if r := e.ok("logs", id); r.stdout != "out1\nout2\n" || r.stderr != "err1\nerr2\n" {
		t.Errorf("vm: logs did not keep stdout and stderr apart: %s", r)
	}
	e.ok("rm", id)
}

var stampedLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$`)

// stamps parses -t output: the time of each line by its text.
func stamps(t *testing.T, out string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		g := stampedLine.FindStringSubmatch(line)
		if g == nil {
			t.Fatalf("logs -t line %q is not docker's \"RFC3339Nano(9 digits)Z text\"", line)
		}
		ts, err := time.Parse(time.RFC3339Nano, g[1])
		if err != nil {
			t.Fatal(err)
		}
		m[g[2]] = ts
	}
	return m
}

func testLogs(t *testing.T, e *env, driverName string) {
	id := uniqueID("logs")
	before := time.Now()
	e.ok("run", "-d", "--driver", driverName, "--name", id, rootfs(t), "sh", "-c", logScript)
	e.ok("wait", id)
	after := time.Now()
	if r := e.ok("logs", id); r.stdout != "out1\nout2\n" || r.stderr != "err1\nerr2\n" {
		t.Fatalf("%s: logs did not keep stdout and stderr apart: %s", driverName, r)
	}
	r := e.ok("logs", "-t", id)
	out, errs := stamps(t, r.stdout), stamps(t, r.stderr)
	if len(out) != 2 || len(errs) != 2 || out["out1"].IsZero() || errs["err2"].IsZero() {
		t.Fatalf("%s: logs -t: %s", driverName, r)
	}
	for text, ts := range map[string]time.Time{"out1": out["out1"], "out2": out["out2"], "err1": errs["err1"], "err2": errs["err2"]} {
		if ts.Before(before.Add(-time.Second)) || ts.After(after.Add(time.Second)) {
			t.Errorf("%s: %q stamped %v, outside the run (%v to %v)", driverName, text, ts, before, after)
		}
	}
	if d := out["out2"].Sub(out["out1"]); d < time.Second {
		t.Errorf("%s: out2 stamped %v after out1, the workload slept 1.2 s between them", driverName, d)
	}
	// A time between the two halves: since keeps the second, until the first.
	mid := out["out1"].Add(out["out2"].Sub(out["out1"]) / 2)
	for _, c := range []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"--since", mid.Format(time.RFC3339Nano)}, "out2\n", "err2\n"},
		{[]string{"--until", mid.Format(time.RFC3339Nano)}, "out1\n", "err1\n"},
		{[]string{"--since", strconv.FormatInt(mid.Unix(), 10) + "." + strconv.Itoa(mid.Nanosecond()/1000)}, "out2\n", "err2\n"},
		{[]string{"--since", "1h"}, "out1\nout2\n", "err1\nerr2\n"},
		{[]string{"--until", "1h"}, "", ""}, // an hour ago: before everything
		{[]string{"--until", "-1h"}, "out1\nout2\n", "err1\nerr2\n"},
		{[]string{"--since", "1h", "--tail", "2"}, "out2\n", "err2\n"}, // the last two lines of the log
		{[]string{"--since", mid.Format(time.RFC3339Nano), "-f"}, "out2\n", "err2\n"},
	} {
		args := append(append([]string{"logs"}, c.args...), id)
		if r := e.ok(args...); r.stdout != c.stdout || r.stderr != c.stderr {
			t.Errorf("%s: want stdout %q stderr %q: %s", driverName, c.stdout, c.stderr, r)
		}
	}
	if r := e.rtd("logs", "--since", "yesterday", id); r.code != 125 || !strings.Contains(r.stderr, `invalid time "yesterday"`) {
		t.Errorf("%s: logs --since yesterday: %s", driverName, r)
	}
	e.ok("rm", id)
}

// TestLogsFollowStreams: logs -f of a running container prints each stream
// to its own descriptor as it comes and returns when the container exits;
// attach does too.
func TestLogsFollowStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := uniqueID("logsf")
	e.ok("run", "-d", "--name", id, rootfs(t), "sh", "-c", "echo a; echo b >&2; sleep 1; echo c; echo d >&2")
	if r := e.ok("logs", "-f", id); r.stdout != "a\nc\n" || r.stderr != "b\nd\n" {
		t.Errorf("logs -f: %s", r)
	}
	e.ok("rm", id)
	id = uniqueID("starta")
	e.ok("create", "--name", id, rootfs(t), "sh", "-c", "echo o; echo e >&2; exit 4")
	if r := e.rtd("start", "-a", id); r.code != 4 || r.stdout != "o\n" || r.stderr != "e\n" {
		t.Errorf("start -a: %s", r)
	}
	e.ok("rm", id)
}

// TestLogsOfAnOlderRtd: a log written before the record format (raw bytes,
// both streams mixed) still prints, as stdout.
func TestLogsOfAnOlderRtd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := uniqueID("oldlog")
	full := e.ok("run", "-d", "--name", id, rootfs(t), "true").stdout
	e.ok("wait", id)
	path := filepath.Join(e.root, "containers", strings.TrimSpace(full), "container.log")
	if err := os.WriteFile(path, []byte("old out\nold err\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.ok("logs", id); r.stdout != "old out\nold err\n" || r.stderr != "" {
		t.Errorf("logs of a raw log: %s", r)
	}
	if r := e.ok("logs", "--tail", "1", id); r.stdout != "old err\n" {
		t.Errorf("logs --tail 1 of a raw log: %s", r)
	}
	e.ok("rm", id)
}

// TestLogsDetails: --log-opt labels=, env=, labels-regex= and env-regex=
// choose the container's labels and environment variables that logs
// --details prints before each line, as docker's json-file driver: sorted
// by key, query-escaped, joined by commas, after the time with -t; a space
// alone when none was chosen. Log opts rtd's log does not have are refused
// at create with exit 125 and nothing left.
func TestLogsDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fs := rootfs(t)
	id := uniqueID("details")
	e.ok("run", "-d", "--name", id, "-l", "app=web", "-l", "tier=front end", "-l", "other=x", "-e", "REGION=eu", "-e", "ZONE=b",
		"--log-opt", "labels=app,missing", "--log-opt", "labels-regex=^ti", "--log-opt", "env=ZONE", "--log-opt", "env-regex=^REG",
		fs, "sh", "-c", "echo out; echo err >&2")
	e.ok("wait", id)
	const attrs = "REGION=eu,ZONE=b,app=web,tier=front+end "
	if r := e.ok("logs", "--details", id); r.stdout != attrs+"out\n" || r.stderr != attrs+"err\n" {
		t.Errorf("logs --details: %s", r)
	}
	if r := e.ok("logs", id); r.stdout != "out\n" {
		t.Errorf("logs without --details: %s", r)
	}
	// The last line is out's or err's: two pipes, read as they come (under
	// load err may be read first).
	r := e.ok("logs", "-t", "--details", "-n", "1", id)
	both := r.stdout + r.stderr
	if g := stampedLine.FindStringSubmatch(strings.TrimSuffix(both, "\n")); strings.Count(both, "\n") != 1 || g == nil || (g[2] != attrs+"err" && g[2] != attrs+"out") {
		t.Errorf("logs -t --details -n 1: %s, want one line: the time, then the attributes, then out or err", r)
	}
	e.ok("rm", id)
	plain := uniqueID("nodetails")
	e.ok("run", "-d", "--name", plain, "-l", "app=web", fs, "echo", "hi")
	e.ok("wait", plain)
	if r := e.ok("logs", "--details", plain); r.stdout != " hi\n" {
		t.Errorf("logs --details without log opts: %q, want docker's lone space before the line", r.stdout)
	}
	e.ok("rm", plain)
	for _, opt := range []string{"max-size=1m", "nope=1", "labels-regex=(", "labels"} {
		r := e.wantCode(125, "run", "-d", "--log-opt", opt, fs, "true")
		if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(r.stderr, "log") {
			t.Errorf("--log-opt %s: want one line about the log opt, got %s", opt, r)
		}
	}
	if recs := e.records(); len(recs) > 0 {
		t.Errorf("refused log opts left records: %v", recs)
	}
}
