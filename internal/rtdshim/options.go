package rtdshim

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

// Options choose the driver of a containerd runtime handler. containerd
// hands them over as runtimeoptions.v1.Options: either ConfigPath naming a
// TOML file, or ConfigBody holding the handler's options table, which CRI
// fills in from
//
//	[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.rtd-gvisor.options]
//	  driver = "gvisor"
//
// With no options the policy's default driver (linux) runs the container.
type Options struct {
	// Driver is a driver name on the search path ("linux", "gvisor", "vm")
	// or a path to a driver executable.
	Driver string `toml:"driver"`
	// Isolation is the minimum isolation class ("process", "sandbox", "vm",
	// ...): without Driver, the weakest healthy driver meeting it runs.
	Isolation string `toml:"isolation"`
	// Policy names an rtd policy file (allowed drivers, defaults, minimum
	// isolation per label; labels are the container's annotations).
	Policy string `toml:"policy"`
	// DriverPath lists extra directories searched for drivers, before the
	// default search path.
	DriverPath []string `toml:"driver_path"`
	// Pods is how a CRI pod maps onto the driver: "" runs each container
	// as its spec says (CRI's podsandbox mode: the containers join the
	// pause container's namespaces by path); "sandbox" makes each pod a
	// driver sandbox (the driver must claim sandboxes): the pause
	// container creates it and the pod's containers are created in it.
	Pods string `toml:"pods"`
}

// PodsSandbox is the Options.Pods value that maps CRI pods to driver
// sandboxes.
const PodsSandbox = "sandbox"

// ParseOptions decodes a TOML options body. Unknown keys are an error: a
// typo must not silently run a container on another driver.
func ParseOptions(data []byte, where string) (*Options, error) {
	var o Options
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&o)
	if err != nil {
		return nil, driver.InvalidArgumentf("rtd runtime options %s: malformed TOML: %v", where, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, driver.InvalidArgumentf("rtd runtime options %s: unknown keys %s (known: driver, isolation, policy, driver_path, pods)", where, strings.Join(keys, ", "))
	}
	if o.Pods != "" && o.Pods != PodsSandbox {
		return nil, driver.InvalidArgumentf("rtd runtime options %s: pods %q: use %q (a driver sandbox per pod) or leave it out", where, o.Pods, PodsSandbox)
	}
	if o.Isolation != "" {
		if _, err := driver.ParseIsolationClass(o.Isolation); err != nil {
			return nil, driver.InvalidArgumentf("rtd runtime options %s: isolation: %v", where, err)
		}
	}
	return &o, nil
}

// OptionsFromAny decodes the runtime options containerd passes with a task.
// Options of another runtime's type (ctr passes runc's by default) are
// ignored: they cannot name an rtd driver.
func OptionsFromAny(a *anypb.Any) (*Options, error) {
	if a == nil || len(a.GetValue()) == 0 && a.GetTypeUrl() == "" {
		return &Options{}, nil
	}
	v, err := typeurl.UnmarshalAny(a)
	if err != nil {
		return &Options{}, nil //nolint:nilerr // not a type we know: not ours
	}
	ro, ok := v.(*runtimeoptions.Options)
	if !ok {
		return &Options{}, nil
	}
	if ro.ConfigPath != "" {
		data, err := os.ReadFile(ro.ConfigPath)
		if err != nil {
			return nil, driver.InvalidArgumentf("rtd runtime options: read config_path: %v", err)
		}
		return ParseOptions(data, ro.ConfigPath)
	}
	return ParseOptions(ro.ConfigBody, "(handler options)")
}

// selection turns the options into the core's driver selection.
func (o *Options) selection(annotations map[string]string) (core.Selection, error) {
	sel := core.Selection{Driver: o.Driver, Labels: annotations}
	if o.Isolation != "" {
		c, err := driver.ParseIsolationClass(o.Isolation)
		if err != nil {
			return sel, err
		}
		sel.Isolation = c
	}
	if o.Policy != "" {
		p, err := core.LoadPolicy(o.Policy, true, nil)
		if err != nil {
			return sel, fmt.Errorf("rtd runtime options: %w", err)
		}
		sel.Policy = p
	}
	return sel, nil
}
