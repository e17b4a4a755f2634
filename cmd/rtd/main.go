// Command rtd is the rtd CLI: it runs containers through runtime driver
// plugins (docker-like commands: run, ps, exec, logs, kill, rm, wait,
// drivers). Started under the name "hello" (the embedded default image),
// it runs the hello program instead.
package main

import (
	"os"
	"path/filepath"
)

func main() {
	if filepath.Base(os.Args[0]) == "hello" {
		os.Exit(hello(os.Stdout))
	}
	os.Exit(execute(os.Args[1:]))
}
