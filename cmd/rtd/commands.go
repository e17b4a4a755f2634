package main

import "github.com/spf13/cobra"

// addDockerCommands adds the docker commands beyond the basics: stop,
// restart, pause, unpause, rename, version (and --version), top, stats,
// update, events, attach, cp.
func addDockerCommands(root *cobra.Command, a *app) {
	root.Version = versionLine()
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newStopCommand(a),
		newRestartCommand(a),
		newPauseCommand(a),
		newUnpauseCommand(a),
		newRenameCommand(a),
		newVersionCommand(a),
		newTopCommand(a),
		newStatsCommand(a),
		newUpdateCommand(a),
		newEventsCommand(a),
		newAttachCommand(a),
		newCpCommand(a),
		newPodCommand(a),
	)
}
