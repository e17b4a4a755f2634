// Command testdriver is a driver plugin with fake, in-memory containers, for
// the tests of the driver SDK. It runs through real go-plugin gRPC.
//
// RTD_TESTDRIVER_MODE selects a behaviour:
//
//	(empty)  serve the full fake driver
//	minimal  serve a lifecycle-only driver embedding driver.Unimplemented
//	exit     log two lines on stderr and exit 3 before the handshake
//	print    print a line on stdout and exit 0 (not a driver)
//	hang     never answer the handshake
//
// Test hooks of the full driver: State("_echo") returns, as annotations, the
// JSON of the last request ("req/<method>") and response ("resp/<method>")
// of each method as the driver saw them. Annotations on Create trigger
// faults on Start: testdriver/crash (exit the process), testdriver/panic,
// testdriver/unavailable (return an Unavailable error).
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/rtd-project/rtd/driver"
)

func main() {
	logger := driver.NewLogger("test")
	switch mode := os.Getenv("RTD_TESTDRIVER_MODE"); mode {
	case "":
		logger.Info("test driver serving", "pid", os.Getpid())
		driver.Serve(newFake(logger), logger)
	case "minimal":
		driver.Serve(minimal{}, logger)
	case "exit":
		logger.Error("cannot start: configured to exit at once", "code", 3)
		fmt.Fprintln(os.Stderr, "plain stderr line before exit")
		os.Exit(3)
	case "print":
		fmt.Println("hello, i am not a driver")
	case "hang":
		time.Sleep(time.Hour)
	default:
		logger.Error("unknown RTD_TESTDRIVER_MODE", "mode", mode)
		os.Exit(2)
	}
}
