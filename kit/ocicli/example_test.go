package ocicli_test

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"

	"github.com/rtd-project/rtd/kit/ocicli"
)

// The life of a container through runc: create from a bundle, start, ask
// its state, signal it and delete it. Errors carry errdefs classes, so a
// driver returns them as they are.
func Example() {
	ctx := context.Background()
	rt, err := ocicli.New("runc", "runc", "/run/my-driver/runc")
	if err != nil {
		fmt.Println(err) // Unavailable: "runc: runc not found in PATH: ..."
		return
	}
	rt.LogDir = "/run/my-driver/logs" // runc's log lines end up in errors

	// The workload's stdio: go-runc's IO, here files the container inherits.
	io, err := runc.NewNullIO()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer io.Close()
	opts := ocicli.CreateOpts{IO: io, PidFile: "/run/my-driver/c1.pid"}
	if err := rt.Create(ctx, "c1", "/path/to/bundle", opts); err != nil {
		fmt.Println(err)
		return
	}
	if err := rt.Start(ctx, "c1"); err != nil {
		fmt.Println(err)
	}
	st, err := rt.State(ctx, "c1")
	if errdefs.IsNotFound(err) {
		fmt.Println("no such container")
		return
	}
	fmt.Println(st.Status, st.Pid)
	_ = rt.Kill(ctx, "c1", 15, false)
	_ = rt.Delete(ctx, "c1", true)
}
