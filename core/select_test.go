package core

import (
	"testing"

	"github.com/rtd-project/rtd/driver"
)

// A unikernel driver runs only declared unikernels: --isolation vm or a
// policy minimum never sends an ordinary container to it, only an explicit
// unikernel requirement does.
func TestUnikernelOnlyByExplicitRequest(t *testing.T) {
	for _, c := range []struct {
		class, min driver.IsolationClass
		want       bool
	}{
		{driver.IsolationUnikernel, driver.IsolationVM, false},
		{driver.IsolationUnikernel, driver.IsolationSandbox, false},
		{driver.IsolationUnikernel, driver.IsolationProcess, false},
		{driver.IsolationUnikernel, driver.IsolationUnikernel, true},
		{driver.IsolationVM, driver.IsolationVM, true},
		{driver.IsolationVM, driver.IsolationUnikernel, true},
		{driver.IsolationSandbox, driver.IsolationProcess, true},
	} {
		if got := routable(c.class, c.min); got != c.want {
			t.Errorf("routable(%s, min %s) = %v, want %v", c.class, c.min, got, c.want)
		}
	}
}
