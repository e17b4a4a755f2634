package driver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
)

// testDriverPath is the test driver binary, built once by TestMain.
var testDriverPath string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rtd-driver-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdir temp:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	testDriverPath = filepath.Join(dir, "rtd-driver-test")
	build := exec.Command("go", "build", "-o", testDriverPath, "./internal/testdriver")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test driver: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// launch starts the test driver in mode (see internal/testdriver), closes
// it at the end of the test and returns its client.
func launch(t *testing.T, mode string, opts driver.LaunchOptions) *driver.Client {
	t.Helper()
	return launchProcess(t, mode, opts).Client()
}

// launchProcess is launch returning the process.
func launchProcess(t *testing.T, mode string, opts driver.LaunchOptions) *driver.Process {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "test"
	}
	opts.Env = append(opts.Env, "RTD_TESTDRIVER_MODE="+mode)
	p, err := driver.Launch(testContext(t), testDriverPath, opts)
	if err != nil {
		t.Fatalf("launch test driver (mode %q): %v", mode, err)
	}
	t.Cleanup(p.Close)
	return p
}

// echo returns what the test driver recorded under key ("req/exec",
// "resp/state", ...): the JSON of the value as the driver saw it.
func echo(t *testing.T, c *driver.Client, key string) string {
	t.Helper()
	st, err := c.State(testContext(t), "_echo")
	if err != nil {
		t.Fatalf("echo state: %v", err)
	}
	v, ok := st.Annotations[key]
	if !ok {
		t.Fatalf("test driver recorded nothing under %q", key)
	}
	return v
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return string(b)
}

// assertEcho checks that the driver saw exactly v under key.
func assertEcho(t *testing.T, c *driver.Client, key string, v any) {
	t.Helper()
	if got, want := echo(t, c, key), jsonOf(t, v); got != want {
		t.Errorf("%s did not round-trip:\n driver: %s\n client: %s", key, got, want)
	}
}

// assertAllSet fails for every exported field of v (recursively through the
// SDK's own structs) that holds its zero value, so that a round-trip test
// cannot pass by comparing zeros with zeros.
func assertAllSet(t *testing.T, name string, v any) {
	t.Helper()
	for _, path := range zeroFields(reflect.ValueOf(v), name) {
		t.Errorf("%s is not set: fill it in the test so its round trip is checked", path)
	}
}

var sdkPkg = reflect.TypeOf(driver.Info{}).PkgPath()

func zeroFields(v reflect.Value, path string) []string {
	if !v.IsValid() || v.IsZero() {
		return []string{path}
	}
	switch v.Kind() {
	case reflect.Pointer:
		return zeroFields(v.Elem(), path)
	case reflect.Slice:
		var out []string
		for i := 0; i < v.Len(); i++ {
			out = append(out, zeroFields(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case reflect.Struct:
		if v.Type().PkgPath() != sdkPkg {
			return nil // time.Time, OCI spec types: non-zero is enough
		}
		var out []string
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				out = append(out, zeroFields(v.Field(i), path+"."+f.Name)...)
			}
		}
		return out
	}
	return nil
}

// newJSONLogger returns an hclog JSON logger writing into a buffer.
func newJSONLogger(level hclog.Level) (hclog.Logger, *testutil.SyncBuffer) {
	buf := &testutil.SyncBuffer{}
	return hclog.New(&hclog.LoggerOptions{Name: "host", Level: level, Output: buf, JSONFormat: true}), buf
}
