package conformance

import (
	"context"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/driver"
)

// A case whose NotFor names the driver's class is skipped with its reason
// and never runs, also a MUST case; other classes still get it.
func TestNotForSkips(t *testing.T) {
	ran := false
	c := Case{
		ID: "T-001", Level: Must, Clause: "a Linux process thing",
		NotFor:    []driver.IsolationClass{driver.IsolationWasm},
		NotForWhy: map[driver.IsolationClass]string{driver.IsolationWasm: "WASI has no such thing"},
		Run:       func(context.Context, *Session) error { ran = true; return nil },
	}
	session := func(class driver.IsolationClass) *Session {
		// Not ready: a case that is not skipped for its class is skipped
		// for that other reason before it would need a driver client.
		return &Session{info: &driver.Info{Isolation: driver.Isolation{Class: class}, Health: driver.Health{Reason: "test"}}}
	}
	res := session(driver.IsolationWasm).runCase(context.Background(), c)
	if res.Result != Skip || ran || !strings.Contains(res.Message, "does not apply to the wasm isolation class: WASI has no such thing") {
		t.Errorf("wasm: %s %q (ran %v), want a skip naming the class and the reason", res.Result, res.Message, ran)
	}
	res = session(driver.IsolationProcess).runCase(context.Background(), c)
	if strings.Contains(res.Message, "does not apply") {
		t.Errorf("process: %s %q: NotFor wasm must not skip other classes", res.Result, res.Message)
	}
}

// The wasm table names real cases, and Cases() applies it.
func TestWasmNotApplicableNamesCases(t *testing.T) {
	byID := map[string]Case{}
	for _, c := range Cases() {
		byID[c.ID] = c
	}
	for id, why := range wasmNotApplicable {
		c, ok := byID[id]
		if !ok {
			t.Errorf("wasmNotApplicable names %s, which is no case", id)
			continue
		}
		if c.NotForWhy[driver.IsolationWasm] != why || len(c.NotFor) == 0 {
			t.Errorf("%s: NotFor %v, why %q", id, c.NotFor, c.NotForWhy)
		}
	}
}
