package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/internal/imagestore"
	"github.com/rtd-project/rtd/internal/oneproc"
)

func newPullCommand(a *app) *cobra.Command {
	var quiet bool
	var platform string
	cmd := &cobra.Command{
		Use:   "pull [-q] [--platform OS/ARCH] NAME[:TAG|@DIGEST]",
		Short: "Pull an image from a registry into the image store",
		Long: `Pull an image from its registry: HTTPS, or plain HTTP for localhost and
127.0.0.1; credentials from the docker config (~/.docker/config.json).
` + imagestore.MirrorsEnv + `=docker.io=127.0.0.1:5000 sends a registry's pulls to a mirror.
Progress goes to stderr: a bar per layer on a terminal, a line per layer otherwise.
The image is unpacked once pulled, so that its first run starts at once.`,
		Args: argsExactly(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			oneproc.Restore() // layers decompress and hash in parallel
			_, s, err := a.imageStore()
			if err != nil {
				return err
			}
			opts := imagestore.PullOptions{}
			if opts.Mirrors, err = imagestore.MirrorsFromEnv(); err != nil {
				return err
			}
			if opts.Platform, err = parsePlatform(platform); err != nil {
				return err
			}
			if !quiet {
				opts.Progress = imagestore.NewProgress(os.Stderr, isTerminal(os.Stderr))
			}
			im, err := s.Pull(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			// Unpacked now, as ctr pull does: the first run starts at once.
			if _, err := s.Unpack(cmd.Context(), im); err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(cmd.OutOrStdout(), im.Digest)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s (%s)\n", im.Name, im.Digest, im.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress; print only the digest")
	cmd.Flags().StringVar(&platform, "platform", "", "platform to pull from a multi-platform image (default: linux/<this machine's arch>)")
	return cmd
}

func parsePlatform(s string) (*imagestore.Platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := imagestore.ParsePlatform(s)
	if err != nil {
		return nil, usageError(err)
	}
	return &p, nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
