//go:build linux

package driver_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/driver"
)

// A driver outlives the thread that launched it: the kernel sends
// Pdeathsig when the launching thread exits, and Go ends every thread
// whose goroutine locked it and returned (namespace code does: the
// conformance suite's netns setup, containerd's mount helpers in the
// shim). Without the launcher thread, one of these exits kills the driver.
func TestDriverOutlivesEndedThreads(t *testing.T) {
	p := launchProcess(t, "", driver.LaunchOptions{})
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			time.Sleep(time.Millisecond)
		}()
		if i%8 == 7 {
			wg.Wait()
		}
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the kernel's SIGKILL, if any, lands
	if p.Exited() {
		t.Fatal("the driver died when threads of its launcher ended (Pdeathsig follows the launching thread)")
	}
	if _, err := p.Client().Info(testContext(t)); err != nil {
		t.Fatalf("info after threads ended: %v", err)
	}
}
