package drivertest

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/driver"
)

// Placeholder checks d, a driver's placeholder for an OS it cannot run on
// (built with driver.NewUnsupported): Info answers not ready, naming the
// OS it requires and this one, with the contract version and this OS, and
// describes the isolation the driver gives where it runs (Isolation.Check,
// the conformance case INFO-003, must pass there too); every other method
// of driver.Driver answers NotImplemented, the lifecycle calls naming the
// OS it requires and this one ("requires freebsd, this is linux"). The methods are found by
// reflection, so a method added to the contract is checked as well.
func Placeholder(t testing.TB, d driver.Driver, requires string) {
	t.Helper()
	ctx := context.Background()
	info, err := d.Info(ctx)
	if err != nil {
		t.Fatalf("placeholder info: %v", err)
	}
	if want := "requires " + requires + " (this is " + runtime.GOOS + ")"; info.Health.Ready || info.Health.Reason != want {
		t.Errorf("placeholder health %+v, want not ready with reason %q", info.Health, want)
	}
	if info.Name == "" || info.Version == "" || info.ContractVersion != driver.ContractVersion || info.OS != runtime.GOOS {
		t.Errorf("placeholder info: name %q, version %q, contract %d, os %q", info.Name, info.Version, info.ContractVersion, info.OS)
	}
	if err := info.Isolation.Check(); err != nil {
		t.Errorf("placeholder isolation %+v: %v", info.Isolation, err)
	}
	names := "requires " + requires + ", this is " + runtime.GOOS
	dt := reflect.TypeOf((*driver.Driver)(nil)).Elem()
	dv := reflect.ValueOf(d)
	for i := 0; i < dt.NumMethod(); i++ {
		m := dt.Method(i)
		if m.Name == "Info" {
			continue
		}
		out := dv.MethodByName(m.Name).Call(placeholderArgs(ctx, m.Type))
		err, _ := out[len(out)-1].Interface().(error)
		if !errdefs.IsNotImplemented(err) {
			t.Errorf("placeholder %s: %v, want NotImplemented", m.Name, err)
		} else if lifecycle[m.Name] && !strings.Contains(err.Error(), names) {
			t.Errorf("placeholder %s: %q, want NotImplemented naming the OSes (%q)", m.Name, err, names)
		}
	}
}

// lifecycle are the methods whose placeholder errors name the OSes.
var lifecycle = map[string]bool{
	"Create": true, "Start": true, "State": true, "Wait": true, "Kill": true, "Delete": true, "List": true,
}

// placeholderArgs are arguments for a method of type mt: ctx, the id "x",
// empty requests and callbacks that do nothing.
func placeholderArgs(ctx context.Context, mt reflect.Type) []reflect.Value {
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	args := make([]reflect.Value, mt.NumIn())
	for i := range args {
		in := mt.In(i)
		switch {
		case in == ctxType:
			args[i] = reflect.ValueOf(ctx)
		case in.Kind() == reflect.String:
			args[i] = reflect.ValueOf("x").Convert(in)
		case in.Kind() == reflect.Pointer:
			args[i] = reflect.New(in.Elem())
		case in.Kind() == reflect.Func:
			args[i] = reflect.MakeFunc(in, func([]reflect.Value) []reflect.Value {
				out := make([]reflect.Value, in.NumOut())
				for j := range out {
					out[j] = reflect.Zero(in.Out(j))
				}
				return out
			})
		default:
			args[i] = reflect.Zero(in)
		}
	}
	return args
}
