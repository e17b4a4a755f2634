package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
)

func newCpCommand(a *app) *cobra.Command {
	var opts core.CopyOptions
	cmd := &cobra.Command{
		Use:   "cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|- | SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files or directories between a container's root filesystem and the host (- is a tar stream on stdin or stdout)",
		Args:  argsExactly(2, "SRC and DEST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcRef, srcPath := splitCopyArg(args[0])
			dstRef, dstPath := splitCopyArg(args[1])
			switch {
			case srcRef != "" && dstRef != "":
				return driver.InvalidArgumentf("cp: copying between containers is not supported")
			case srcRef == "" && dstRef == "":
				return driver.InvalidArgumentf("cp: must specify at least one container source (CONTAINER:PATH)")
			}
			c, err := a.Core()
			if err != nil {
				return err
			}
			end := func(ref, path string) (core.CopyEnd, error) {
				if ref == "" {
					return core.CopyEnd{Path: path}, nil
				}
				rec, err := c.Lookup(ref)
				if err != nil {
					return core.CopyEnd{}, err
				}
				root, err := c.ContainerRoot(cmd.Context(), rec)
				return core.CopyEnd{Root: root, Path: path}, err
			}
			src, err := end(srcRef, srcPath)
			if err != nil {
				return err
			}
			dst, err := end(dstRef, dstPath)
			if err != nil {
				return err
			}
			switch {
			case srcRef == "" && srcPath == "-":
				return core.CopyFromStream(cmd.Context(), cmd.InOrStdin(), dst, opts)
			case dstRef == "" && dstPath == "-":
				return core.CopyToStream(cmd.Context(), src, cmd.OutOrStdout(), opts)
			}
			return core.CopyWith(cmd.Context(), src, dst, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Archive, "archive", "a", false, "keep the owners (uid:gid) of what is copied")
	cmd.Flags().BoolVarP(&opts.FollowLink, "follow-link", "L", false, "copy what SRC_PATH links to, when it is a symlink")
	return cmd
}

// splitCopyArg splits docker's CONTAINER:PATH; a path with a slash (or a
// dot) before any colon is a local path (./a:b is local), and "-" is the
// tar stream on stdin or stdout.
func splitCopyArg(arg string) (ref, path string) {
	if arg == "-" || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	ref, path, ok := strings.Cut(arg, ":")
	if !ok || strings.Contains(ref, "/") {
		return "", arg
	}
	return ref, path
}
