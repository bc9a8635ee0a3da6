package cli

import "github.com/spf13/cobra"

// newDBArtifactCommands returns db push and db pull.
func newDBArtifactCommands(g *globals) []*cobra.Command { return nil }
