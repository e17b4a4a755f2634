// Command rtd-driver-windows is the rtd driver plugin for Windows containers
// (HCS through hcsshim), started by rtd through go-plugin. Its isolation
// mode comes from $RTD_WINDOWS_ISOLATION ("process", the default, or
// "hyperv"). On any other OS it answers Info with "not ready".
package main

import (
	"os"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/windows"
)

func main() {
	logger := driver.NewLogger("windows")
	driver.Serve(windows.New(windows.Options{
		StateDir:  driver.StateDir(),
		Isolation: os.Getenv(windows.IsolationEnv),
		Logger:    logger,
	}), logger)
}
