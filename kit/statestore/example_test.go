package statestore_test

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/statestore"
)

// A driver keeps one record per container and finds them again after a
// restart; the first exit status saved wins.
func Example() {
	root, _ := os.MkdirTemp("", "state")
	defer os.RemoveAll(root)
	store := statestore.Store{Root: root}

	type record struct{ Bundle string }
	if err := store.Create("c1", record{Bundle: "/b"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(errdefs.IsAlreadyExists(store.Create("c1", record{})))
	fmt.Println(errdefs.IsInvalidArgument(store.Create("../escape", record{})))

	// A new driver process, same state dir.
	again := statestore.Store{Root: root}
	var r record
	_ = again.Load("state", "c1", &r)
	ids, _ := again.IDs()
	fmt.Println(r.Bundle, ids)

	_ = again.SaveExit("c1", &driver.ExitStatus{Code: 3})
	_ = again.SaveExit("c1", &driver.ExitStatus{Code: 9})
	e, _ := again.Exit("c1")
	fmt.Println(e.Code)

	_ = again.Remove("c1")
	fmt.Println(errdefs.IsNotFound(again.Load("state", "c1", &r)))
	// Output:
	// true
	// true
	// /b [c1]
	// 3
	// true
}
