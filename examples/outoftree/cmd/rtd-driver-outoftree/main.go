// Command rtd-driver-outoftree is the out-of-tree example driver.
package main

import (
	"example.com/outoftree"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/examples/skeleton"
)

func main() {
	skeleton.Reexec() // the monitors are the skeleton's
	logger := driver.NewLogger("outoftree")
	driver.Serve(outoftree.New(driver.StateDir(), logger), logger)
}
