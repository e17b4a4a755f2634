// Command rtd-driver-skeleton is the skeleton driver's plugin binary; it
// is also its per-container monitor (skeleton.Reexec).
package main

import (
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/examples/skeleton"
)

func main() {
	skeleton.Reexec()
	logger := driver.NewLogger("skeleton")
	driver.Serve(skeleton.New(driver.StateDir(), logger), logger)
}
