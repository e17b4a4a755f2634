package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/kit/ocispec"
)

// runwasiTasksPerSecond is what runwasi publishes for its wasmtime shim
// (1000 sequential tasks through containerd, on its own hardware): quoted
// as a reference, never as a same-run ratio.
const runwasiTasksPerSecond = 330

// nativeHello builds the WASI hello's source (internal/testutil/wasmhello)
// for linux, static, into its own root filesystem and returns a bundle of
// rtd's default spec running it.
func (e *env) nativeHello() (string, error) {
	root := filepath.Join(e.work, "nativeroot")
	for _, d := range []string{"proc", "dev", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	build := exec.Command("go", "build", "-o", filepath.Join(root, "hello"), "github.com/rtd-project/rtd/internal/testutil/wasmhello")
	build.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the native hello: %v: %s", err, out)
	}
	bundle := filepath.Join(e.work, "nativehello")
	return bundle, writeBundle(bundle, ocispec.Default(root, []string{"/hello"}))
}

// wasmTasks runs e.o.tasks sequential tasks on each side, `rtd run --rm
// --driver wasm` of the wasip1 hello (warm compilation cache) and `rtd run
// --rm --driver linux` of the same hello built natively, in alternating
// blocks so that the machine's drift hits both alike, and reports tasks
// per second of each.
func (e *env) wasmTasks(res *bench.Results, wasmRoot, nativeBundle string) error {
	total := e.o.tasks
	if total <= 0 {
		return nil
	}
	block := min(total, 50)
	sides := []struct {
		name string
		run  bench.Sample
		took time.Duration
		done int
	}{
		{name: "wasm", run: e.rtd("run", "--rm", "--driver", "wasm", wasmRoot, "/hello.wasm")},
		{name: "linux", run: e.rtd("run", "--rm", "--driver", "linux", nativeBundle)},
	}
	load := loadavg()
	for sides[0].done < total {
		for i := range sides {
			s := &sides[i]
			for j := 0; j < block && s.done < total; j++ {
				d, err := s.run()
				if err != nil {
					return fmt.Errorf("%s task %d: %w", s.name, s.done+1, err)
				}
				s.took += d
				s.done++
			}
		}
	}
	rate := func(i int) float64 { return float64(sides[i].done) / sides[i].took.Seconds() }
	note := fmt.Sprintf("%d sequential tasks per side in alternating blocks of %d; load average %s before, %s after", total, block, load, loadavg())
	res.Values = append(res.Values,
		bench.Value{
			Name:  fmt.Sprintf("wasm: tasks per second, %d sequential `rtd run --rm --driver wasm` of the wasip1 hello", total),
			Value: fmt.Sprintf("%.1f/s (%s per task)", rate(0), round(sides[0].took/time.Duration(total))),
			Note:  fmt.Sprintf("runwasi publishes %d tasks/s for its wasmtime shim on its own hardware (a reference, not a same-run ratio); %s", runwasiTasksPerSecond, note),
		},
		bench.Value{
			Name:  fmt.Sprintf("wasm: tasks per second, %d sequential `rtd run --rm --driver linux` of the same hello built natively (static)", total),
			Value: fmt.Sprintf("%.1f/s (%s per task)", rate(1), round(sides[1].took/time.Duration(total))),
			Note:  fmt.Sprintf("wasm/linux throughput %.2fx; %s", rate(0)/rate(1), note),
		})
	return nil
}

// loadavg is the host's 1, 5 and 15 minute load averages.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
