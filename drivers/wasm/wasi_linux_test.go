package wasm_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// trapModule is (module (func (export "_start") unreachable)): it traps at
// once.
const trapModule = "\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type section: () -> ()
	"\x03\x02\x01\x00" + // function section: one function of type 0
	"\x07\x0a\x01\x06_start\x00\x00" + // export section: _start is function 0
	"\x0a\x05\x01\x03\x00\x00\x0b" // code section: no locals, unreachable, end

// A trap ends the container with the documented code, 134, and one line
// on its stderr naming the module and the trap.
func TestTrap(t *testing.T) {
	e := newEnv(t)
	e.write("trap.wasm", trapModule, 0o644)
	sp := e.spec()
	sp.Process.Args = []string{"/trap.wasm"}
	st, out, errOut := e.run("trap", sp)
	if st.Code != 134 || st.Signal != 0 {
		t.Errorf("trap: %+v, want exit code 134", st)
	}
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "rtd-wasm: /trap.wasm: module trapped: ") || !strings.Contains(lines[0], "unreachable") || out != "" {
		t.Errorf("trap: stdout %q, stderr %q; want one line naming /trap.wasm and the unreachable trap", out, errOut)
	}
}

// clockSource prints the wall clock (Unix nanoseconds) before and after a
// 300 ms sleep, how long the sleep took on the monotonic clock
// (nanoseconds) and 16 random bytes.
const clockSource = `package main

import (
	"crypto/rand"
	"fmt"
	"time"
)

func main() {
	start := time.Now()
	time.Sleep(300 * time.Millisecond)
	slept := time.Since(start)
	after := time.Now().UnixNano()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	fmt.Printf("%d %d %d %x\n", start.UnixNano(), after, slept.Nanoseconds(), b)
}
`

// The module sees the host's wall clock, a monotonic clock and sleeps that
// take real time, and crypto random that differs between runs: wazero's
// defaults (a fixed 2022 wall clock, a clock that ticks 1 ms per read,
// sleeps that return at once, a fixed random seed) are switched off.
func TestClocksAndRandom(t *testing.T) {
	e := newEnv(t)
	e.write("clock.wasm", string(testimage.GoProgram(t, clockSource, "wasip1", "wasm")), 0o644)
	var randoms []string
	for _, id := range []string{"clock1", "clock2"} {
		sp := e.spec()
		sp.Process.Args = []string{"/clock.wasm"}
		before := time.Now()
		st, out, errOut := e.run(id, sp)
		took := time.Since(before)
		f := strings.Fields(out)
		if st.Code != 0 || len(f) != 4 {
			t.Fatalf("%s: %+v, stdout %q, stderr %q", id, st, out, errOut)
		}
		n := func(s string) time.Duration { v, _ := strconv.ParseInt(s, 10, 64); return time.Duration(v) }
		wall, wallAfter, slept := time.Unix(0, int64(n(f[0]))), time.Unix(0, int64(n(f[1]))), n(f[2])
		if wall.Before(before.Add(-time.Second)) || wallAfter.After(before.Add(took)) {
			t.Errorf("%s: the module's wall clock says %v..%v; the host's was %v..%v", id, wall, wallAfter, before, before.Add(took))
		}
		// A sleep takes real time, on both clocks alike.
		if d := wallAfter.Sub(wall); d < 300*time.Millisecond || slept < 300*time.Millisecond || (d-slept).Abs() > 250*time.Millisecond {
			t.Errorf("%s: a 300 ms sleep took %v on the module's wall clock, %v on its monotonic clock", id, d, slept)
		}
		randoms = append(randoms, f[3])
		randoms = append(randoms, f[2])
	}
	if randoms[0] == randoms[1] {
		t.Errorf("two runs read the same random bytes %s: not crypto random", randoms[0])
	}
}
