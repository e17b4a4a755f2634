//go:build linux

// Command lcrun runs an OCI bundle with libcontainer in-process and waits
// for it: the "libcontainer called directly" baseline of the benchmarks.
//
//	lcrun STATE-ROOT ID BUNDLE
package main

import (
	"fmt"
	"os"

	_ "github.com/opencontainers/cgroups/devices"
	lc "github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"github.com/opencontainers/runc/libcontainer/specconv"

	"github.com/rtd-project/rtd/kit/ocispec"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		lc.Init()
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: lcrun STATE-ROOT ID BUNDLE")
		os.Exit(2)
	}
	code, err := run(os.Args[1], os.Args[2], os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "lcrun:", err)
		os.Exit(125)
	}
	os.Exit(code)
}

func run(root, id, bundle string) (int, error) {
	spec, err := ocispec.Load(bundle)
	if err != nil {
		return 0, err
	}
	if err := os.Chdir(bundle); err != nil {
		return 0, err
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: spec})
	if err != nil {
		return 0, err
	}
	c, err := lc.Create(root, id, config)
	if err != nil {
		return 0, err
	}
	defer c.Destroy()
	nnp := spec.Process.NoNewPrivileges
	p := &lc.Process{Args: spec.Process.Args, Env: spec.Process.Env, Cwd: spec.Process.Cwd, Init: true, NoNewPrivileges: &nnp}
	if err := c.Run(p); err != nil {
		return 0, err
	}
	st, err := p.Wait()
	if err != nil && st == nil {
		return 0, err
	}
	return st.ExitCode(), nil
}
