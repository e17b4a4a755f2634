package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/internal/imagestore"
	"github.com/rtd-project/rtd/internal/oneproc"
)

func newLoadCommand(a *app) *cobra.Command {
	var input, platform string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load -i FILE",
		Short: "Load images from a docker-save tar or an OCI archive",
		Args:  argsExactly(0, "no argument (the file is -i FILE)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			oneproc.Restore() // layers decompress and hash in parallel
			if input == "" {
				return usageError(fmt.Errorf("load: -i FILE required"))
			}
			_, s, err := a.imageStore()
			if err != nil {
				return err
			}
			opts := imagestore.LoadOptions{}
			if opts.Platform, err = parsePlatform(platform); err != nil {
				return err
			}
			if !quiet {
				opts.Progress = imagestore.NewProgress(os.Stderr, isTerminal(os.Stderr))
			}
			ims, err := s.Load(cmd.Context(), input, opts)
			if err != nil {
				return err
			}
			for _, im := range ims {
				name := im.Name
				if name == "" {
					name = im.Digest.String()
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Loaded image: %s\n", name)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "the tar file (docker save, or an OCI archive such as ctr export writes; gzip allowed)")
	cmd.Flags().StringVar(&platform, "platform", "", "platform to load from a multi-platform archive (default: linux/<this machine's arch>)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress")
	return cmd
}
