package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/internal/imagestore"
)

// imageJSON is one image of rtd images --format json.
type imageJSON struct {
	Name        string            `json:"name"`
	Repository  string            `json:"repository"`
	Tag         string            `json:"tag"`
	ID          string            `json:"id"`
	Digest      string            `json:"digest"`
	Platform    string            `json:"platform"`
	Created     time.Time         `json:"created"`
	Size        int64             `json:"size"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func newImagesCommand(a *app, use string) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:   use + " [--format table|json] [-q]",
		Short: "List the images of the image store",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usageError(fmt.Errorf("invalid --format %q: want table or json", format))
			}
			_, s, err := a.imageStore()
			if err != nil {
				return err
			}
			ims, err := s.List()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if quiet {
				for _, im := range ims {
					fmt.Fprintln(out, im.ID())
				}
				return nil
			}
			if format == "json" {
				list := []imageJSON{}
				for _, im := range ims {
					repo, tag := splitName(im.Name)
					list = append(list, imageJSON{Name: im.Name, Repository: repo, Tag: tag, ID: im.ID(), Digest: im.Digest.String(),
						Platform: im.Platform, Created: im.Created, Size: im.Size, Labels: im.Config.Config.Labels, Annotations: im.Annotations})
				}
				return writeJSON(out, list)
			}
			tw := newTable(out, "REPOSITORY", "TAG", "IMAGE ID", "PLATFORM", "CREATED", "SIZE")
			for _, im := range ims {
				repo, tag := splitName(im.Name)
				created := "-"
				if !im.Created.IsZero() {
					created = ago(im.Created)
				}
				tableRow(tw, repo, tag, im.ID(), im.Platform, created, imagestore.HumanSize(im.Size))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the image ids")
	return cmd
}

// splitName splits a canonical name into repository and tag (or digest).
func splitName(n string) (string, string) {
	if n == "" {
		return "<none>", "<none>"
	}
	if i := strings.LastIndex(n, "@"); i >= 0 {
		return n[:i], n[i+1:]
	}
	if i := strings.LastIndex(n, ":"); i > strings.LastIndex(n, "/") {
		return n[:i], n[i+1:]
	}
	return n, "<none>"
}

func newRmiCommand(a *app, use string) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   use + " [-f] IMAGE...",
		Short: "Remove images (by name, digest or id) and the content only they used",
		Args:  argsAtLeast(1, "IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, s, err := a.imageStore()
			if err != nil {
				return err
			}
			var firstErr error
			for _, ref := range args {
				removed, err := s.Remove(cmd.Context(), ref, force, c.ImageInUse())
				if err != nil {
					if firstErr == nil {
						firstErr = err
					} else {
						fmt.Fprintln(cmd.ErrOrStderr(), "rtd: "+message(err))
					}
					continue
				}
				for _, r := range removed {
					fmt.Fprintf(cmd.OutOrStdout(), "Untagged: %s\n", r)
				}
			}
			return firstErr
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove the name even if a container uses the image (its root filesystem stays until the container is removed)")
	return cmd
}

func newImageCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images: ls, pull, load, rm, prune",
		Args:  argsExactly(0, "a subcommand"),
	}
	var all bool
	prune := &cobra.Command{
		Use:   "prune [-a]",
		Short: "Remove images without a name (-a: every image) that no container uses, and unused content",
		Args:  argsExactly(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, s, err := a.imageStore()
			if err != nil {
				return err
			}
			removed, freed, err := s.Prune(cmd.Context(), all, c.ImageInUse())
			for _, r := range removed {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted: %s\n", r)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Total reclaimed space: %s\n", imagestore.HumanSize(freed))
			return nil
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "remove every image no container uses, named or not")
	cmd.AddCommand(prune, newImagesCommand(a, "ls"), newRmiCommand(a, "rm"), newPullCommand(a), newLoadCommand(a))
	return cmd
}

// imageStore is the core and its image store, for the image commands.
func (a *app) imageStore() (*core.Core, *imagestore.Store, error) {
	c, err := a.Core()
	if err != nil {
		return nil, nil, err
	}
	s, err := c.Images()
	return c, s, err
}
