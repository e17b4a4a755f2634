//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
)

// defaultRoot is rtd-runc's state root when --root is not given.
const defaultRoot = "/run/rtd-runc"

// rootEnv names the environment variable that gives the default --root
// (for callers that take a binary path and no flags, such as runtime-tools'
// RUNTIME). The stand-in reads its root from it too.
const rootEnv = "RTD_RUNC_ROOT"

// driverEnv names the environment variable that picks the driver.
const driverEnv = "RTD_DRIVER"

// app holds the global flags every command shares.
type app struct {
	root          string
	logPath       string
	logFormat     string
	debug         bool
	systemdCgroup bool
	driver        string
}

func main() {
	if os.Getenv(standinEnv) != "" {
		os.Exit(standinMain())
	}
	a := &app{}
	cmd := a.rootCommand()
	err := cmd.ExecuteContext(context.Background())
	os.Exit(a.exit(err))
}

// driverName is the driver to use: --driver, $RTD_DRIVER, the binary's
// name (rtd-runc-NAME), else linux.
func (a *app) driverName() string {
	if a.driver != "" {
		return a.driver
	}
	if d := os.Getenv(driverEnv); d != "" {
		return d
	}
	if name, ok := strings.CutPrefix(filepath.Base(os.Args[0]), "rtd-runc-"); ok && name != "" {
		return name
	}
	return "linux"
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           filepath.Base(os.Args[0]),
		Short:         "runc's command line over rtd drivers",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}")
	f := root.PersistentFlags()
	stateRoot := defaultRoot
	if r := os.Getenv(rootEnv); r != "" {
		stateRoot = r
	}
	f.StringVar(&a.root, "root", stateRoot, "root directory for storage of container state (default: $RTD_RUNC_ROOT, else "+defaultRoot+")")
	f.StringVar(&a.logPath, "log", "", "log file (default: stderr)")
	f.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	f.BoolVar(&a.debug, "debug", false, "debug logging")
	f.BoolVar(&a.systemdCgroup, "systemd-cgroup", false, "use systemd cgroups (not supported: refused)")
	f.StringVar(&a.driver, "driver", "", "rtd driver (default: $RTD_DRIVER, the binary name rtd-runc-NAME, else linux)")
	// A flag runc accepts that changes nothing here.
	var criu string
	f.StringVar(&criu, "criu", "", "accepted, ignored")
	_ = f.MarkHidden("criu")
	root.AddCommand(
		a.createCommand(), a.startCommand(), a.runCommand(), a.stateCommand(), a.killCommand(),
		a.deleteCommand(), a.execCommand(), a.psCommand(), a.pauseCommand(), a.resumeCommand(),
		a.updateCommand(), a.eventsCommand(), a.featuresCommand(), a.listCommand(), a.specCommand(),
	)
	return root
}

func version() string {
	return "rtd-runc version dev\nspec: " + specs.Version + "\n"
}
