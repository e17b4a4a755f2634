// Command wasmhello is the WASI hello the tests and the benchmarks build
// with GOOS=wasip1 GOARCH=wasm (never committed as a .wasm): without
// arguments it greets; "exit N" exits N; "sleep S" says "ready" and sleeps
// S seconds.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Println("Hello from WebAssembly!")
		return
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmhello: bad number %q\n", os.Args[2])
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exit":
		os.Exit(n)
	case "sleep":
		fmt.Println("ready")
		time.Sleep(time.Duration(n) * time.Second)
	default:
		fmt.Fprintf(os.Stderr, "wasmhello: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}
