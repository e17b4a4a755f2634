package windows

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// TranslateProcess turns the spec's process and the request's stdio into
// the HCS process configuration. Windows takes one command line: args are
// quoted with the rules of CommandLineToArgvW (as Go's syscall.EscapeArg
// does), unless the spec gives process.commandLine. The user is a Windows
// account name: a numeric uid/gid is refused.
func TranslateProcess(id string, p *specs.Process, stdio driver.Stdio) (*ProcessConfig, error) {
	if p == nil {
		return nil, driver.InvalidArgumentf("process of %s: none given", id)
	}
	if p.CommandLine == "" && len(p.Args) == 0 {
		return nil, driver.InvalidArgumentf("process of %s: neither args nor commandLine is set", id)
	}
	if p.CommandLine != "" && len(p.Args) > 0 {
		return nil, driver.InvalidArgumentf("process of %s: args and commandLine are exclusive on Windows", id)
	}
	if p.User.UID != 0 || p.User.GID != 0 || len(p.User.AdditionalGids) > 0 {
		return nil, driver.InvalidArgumentf("process of %s: Windows has no numeric uid/gid (%d/%d): set user.username", id, p.User.UID, p.User.GID)
	}
	if p.Cwd != "" && !IsAbsPath(p.Cwd) {
		return nil, driver.InvalidArgumentf("process of %s: cwd %q is not an absolute Windows path", id, p.Cwd)
	}
	env, err := environment(p.Env)
	if err != nil {
		return nil, driver.InvalidArgumentf("process of %s: %v", id, err)
	}
	terminal := p.Terminal || stdio.Terminal
	pc := &ProcessConfig{
		CommandLine:      p.CommandLine,
		User:             p.User.Username,
		WorkingDirectory: p.Cwd,
		Environment:      env,
		EmulateConsole:   terminal,
		CreateStdInPipe:  stdio.Stdin != "",
		CreateStdOutPipe: stdio.Stdout != "",
		// With a console, stdout carries everything.
		CreateStdErrPipe: !terminal && stdio.Stderr != "",
	}
	if pc.CommandLine == "" {
		pc.CommandLine = CommandLine(p.Args)
	}
	if p.ConsoleSize != nil {
		pc.ConsoleSize = [2]uint{p.ConsoleSize.Height, p.ConsoleSize.Width}
	}
	return pc, nil
}

// environment turns KEY=VALUE entries into the map HCS takes. Windows
// variable names are case-insensitive: a name given twice is refused.
func environment(entries []string) (map[string]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(entries))
	seen := map[string]string{}
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return nil, driver.InvalidArgumentf("env entry %q is not KEY=VALUE", e)
		}
		if prev, dup := seen[strings.ToUpper(k)]; dup {
			return nil, driver.InvalidArgumentf("env variable %q is set twice (as %q and %q; names are case-insensitive on Windows)", k, prev, k)
		}
		seen[strings.ToUpper(k)] = k
		env[k] = v
	}
	return env, nil
}

// CommandLine joins args into a Windows command line that
// CommandLineToArgvW splits back into the same args.
func CommandLine(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(EscapeArg(a))
	}
	return b.String()
}

// EscapeArg quotes one argument by the rules of CommandLineToArgvW: it is
// a portable copy of Go's syscall.EscapeArg (Windows-only).
func EscapeArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, "\"\\ \t") {
		return s
	}
	hasSpace := strings.ContainsAny(s, " \t")
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	if hasSpace {
		b.WriteByte('"')
	}
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			// Backslashes before a quote are doubled, and the quote escaped.
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	if hasSpace {
		// Backslashes before the closing quote are doubled.
		b.WriteString(strings.Repeat(`\`, slashes))
		b.WriteByte('"')
	}
	return b.String()
}
