package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/driver"
)

// versionInfo is what rtd version prints.
type versionInfo struct {
	Version         string
	GitCommit       string
	GoVersion       string
	OS, Arch        string
	ContractVersion int
}

// buildVersion reads rtd's version from the build information: the
// module's version for a released build, else "dev", and the VCS
// revision (with "-dirty" for a modified tree) when go build recorded it.
func buildVersion() versionInfo {
	v := versionInfo{Version: "dev", GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, ContractVersion: driver.ContractVersion}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v.Version = mv
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.GitCommit = s.Value
			if len(v.GitCommit) > 12 {
				v.GitCommit = v.GitCommit[:12]
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && v.GitCommit != "" {
		v.GitCommit += "-dirty"
	}
	return v
}

// versionLine is --version's one line, as docker's "Docker version X, build Y".
func versionLine() string {
	v := buildVersion()
	s := "rtd version " + v.Version
	if v.GitCommit != "" {
		s += ", build " + v.GitCommit
	}
	return s
}

func newVersionCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version [--format TEMPLATE]",
		Short: "Print rtd's version, build, Go version, platform and driver contract version",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			if format != "" {
				return printFormatted(cmd.OutOrStdout(), format, v)
			}
			return writeVersion(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Go template over .Version, .GitCommit, .GoVersion, .OS, .Arch, .ContractVersion, or json")
	return cmd
}

func writeVersion(w io.Writer, v versionInfo) error {
	commit := v.GitCommit
	if commit == "" {
		commit = "unknown"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "rtd:")
	fmt.Fprintf(tw, " Version:\t%s\n", v.Version)
	fmt.Fprintf(tw, " Git commit:\t%s\n", commit)
	fmt.Fprintf(tw, " Go version:\t%s\n", v.GoVersion)
	fmt.Fprintf(tw, " OS/Arch:\t%s/%s\n", v.OS, v.Arch)
	fmt.Fprintf(tw, " Driver contract:\t%d\n", v.ContractVersion)
	return tw.Flush()
}
