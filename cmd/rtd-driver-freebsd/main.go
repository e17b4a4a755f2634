// Command rtd-driver-freebsd is the rtd driver plugin for FreeBSD jails
// (runj), started by rtd through go-plugin. $RTD_FREEBSD_RUNJ names the
// runj binary (default: runj in PATH). On any other OS it answers Info
// with "not ready".
package main

import (
	"os"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/freebsd"
)

func main() {
	logger := driver.NewLogger("freebsd")
	driver.Serve(freebsd.New(freebsd.Options{
		StateDir: driver.StateDir(),
		Runj:     os.Getenv("RTD_FREEBSD_RUNJ"),
		Logger:   logger,
	}), logger)
}
