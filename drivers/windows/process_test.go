package windows

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

func TestTranslateProcess(t *testing.T) {
	p := &specs.Process{
		Args:        []string{`C:\Program Files\app.exe`, "--name", `say "hi"`},
		Env:         []string{"PATH=C:\\Windows", "EMPTY=", "EQ=a=b"},
		Cwd:         `C:\work`,
		User:        specs.User{Username: "ContainerUser"},
		ConsoleSize: &specs.Box{Height: 40, Width: 120},
	}
	got, err := TranslateProcess("c1", p, driver.Stdio{Stdin: "in", Stdout: "out", Stderr: "err"})
	if err != nil {
		t.Fatal(err)
	}
	want := &ProcessConfig{
		CommandLine:      `"C:\Program Files\app.exe" --name "say \"hi\""`,
		User:             "ContainerUser",
		WorkingDirectory: `C:\work`,
		Environment:      map[string]string{"PATH": `C:\Windows`, "EMPTY": "", "EQ": "a=b"},
		CreateStdInPipe:  true, CreateStdOutPipe: true, CreateStdErrPipe: true,
		ConsoleSize: [2]uint{40, 120},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestTranslateProcessTerminalAndStdio(t *testing.T) {
	p := &specs.Process{CommandLine: `cmd /c "dir C:\"`, Terminal: true}
	got, err := TranslateProcess("c1", p, driver.Stdio{Stdout: "out", Stderr: "err"})
	if err != nil {
		t.Fatal(err)
	}
	if got.CommandLine != p.CommandLine || !got.EmulateConsole || got.CreateStdErrPipe || got.CreateStdInPipe || !got.CreateStdOutPipe {
		t.Fatalf("terminal: %+v", got)
	}
	got, err = TranslateProcess("c1", &specs.Process{Args: []string{"ping"}}, driver.Stdio{})
	if err != nil {
		t.Fatal(err)
	}
	if got.CreateStdInPipe || got.CreateStdOutPipe || got.CreateStdErrPipe {
		t.Fatalf("no stdio paths should create no pipes: %+v", got)
	}
}

func TestTranslateProcessInvalid(t *testing.T) {
	for name, p := range map[string]*specs.Process{
		"nil":                   nil,
		"no command":            {Cwd: `C:\`},
		"args and commandLine":  {Args: []string{"a"}, CommandLine: "a"},
		"numeric uid":           {Args: []string{"a"}, User: specs.User{UID: 1000}},
		"numeric gid":           {Args: []string{"a"}, User: specs.User{GID: 1000, Username: "u"}},
		"additional gids":       {Args: []string{"a"}, User: specs.User{AdditionalGids: []uint32{5}}},
		"relative cwd":          {Args: []string{"a"}, Cwd: "work"},
		"linux cwd":             {Args: []string{"a"}, Cwd: "/"},
		"env without =":         {Args: []string{"a"}, Env: []string{"PATH"}},
		"env without a name":    {Args: []string{"a"}, Env: []string{"=x"}},
		"env twice, other case": {Args: []string{"a"}, Env: []string{"Path=a", "PATH=b"}},
	} {
		t.Run(name, func(t *testing.T) {
			if pc, err := TranslateProcess("c1", p, driver.Stdio{}); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "c1") {
				t.Fatalf("got %+v, %v; want InvalidArgument naming c1", pc, err)
			}
		})
	}
}

// Vectors from Go's syscall TestEscapeArg (Windows-only there).
func TestEscapeArg(t *testing.T) {
	for in, want := range map[string]string{
		``: `""`, `a`: `a`, ` `: `" "`, `\`: `\`, `"`: `\"`, `\"`: `\\\"`, `\\"`: `\\\\\"`,
		`\\ `: `"\\ "`, ` \\`: `" \\\\"`, `a `: `"a "`, `C:\`: `C:\`,
		`C:\Program Files (x32)/Common\`: `"C:\Program Files (x32)/Common\\"`,
		`C:\Users\Игорь\`:                `C:\Users\Игорь\`,
		`\\?\C:\Windows`:                 `\\?\C:\Windows`,
		`\\server\share\file`:            `\\server\share\file`,
		"tab\there":                      "\"tab\there\"",
	} {
		if got := EscapeArg(in); got != want {
			t.Errorf("EscapeArg(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCommandLineRoundTrip splits CommandLine's output by the rules of
// CommandLineToArgvW and expects the args back.
func TestCommandLineRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alphabet := []byte{'a', 'b', ' ', '\t', '"', '\\', 'x'}
	for i := 0; i < 5000; i++ {
		args := make([]string, 1+r.Intn(4))
		for j := range args {
			b := make([]byte, r.Intn(8))
			for k := range b {
				b[k] = alphabet[r.Intn(len(alphabet))]
			}
			args[j] = string(b)
		}
		line := CommandLine(args)
		if got := splitCommandLine(line); !reflect.DeepEqual(got, args) {
			t.Fatalf("args %q -> %q -> %q", args, line, got)
		}
	}
}

// splitCommandLine parses arguments as CommandLineToArgvW does (after the
// program name): 2n backslashes and a quote give n backslashes and toggle
// quoting; 2n+1 give n and a literal quote; other backslashes are literal.
func splitCommandLine(s string) []string {
	var args []string
	var cur strings.Builder
	inArg, quoted := false, false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case (c == ' ' || c == '\t') && !quoted:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
			i++
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			inArg = true
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
		case c == '"':
			inArg = true
			if quoted && i+1 < len(s) && s[i+1] == '"' {
				// "" inside quotes is a literal quote (post-2008 rule).
				cur.WriteByte('"')
				i += 2
				continue
			}
			quoted = !quoted
			i++
		default:
			inArg = true
			cur.WriteByte(c)
			i++
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
