package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/image/artifact"
	"github.com/vigilsec/vigil/vulndb/update"
)

// newDBArtifactCommands returns db push and db pull: the database as an OCI
// artifact in any registry, for air-gapped sites and CI caches.
// Credentials come from the Docker config and credential helpers.
func newDBArtifactCommands(g *globals) []*cobra.Command {
	var insecure bool
	push := &cobra.Command{
		Use:   "push REF",
		Short: "Push the database to a registry as an OCI artifact",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := []artifact.Option{artifact.WithProgress(g.progressFor(cmd.Context()))}
			if insecure {
				opts = append(opts, artifact.WithInsecure())
			}
			d, err := artifact.Push(cmd.Context(), args[0], g.dbPath(), opts...)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "%s@%s\n", args[0], d)
			return nil
		},
	}
	pull := &cobra.Command{
		Use:   "pull REF",
		Short: "Pull a database pushed with db push and install it",
		Long: "Pull a database artifact, check its digests and schema, and install it in place of the\n" +
			"current one (atomically, under the update lock: running scans keep the old file).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dst := g.dbPath()
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("db pull: %w", err)
			}
			tmp := dst + ".pulled"
			defer os.Remove(tmp)
			opts := []artifact.Option{artifact.WithProgress(g.progressFor(ctx))}
			if insecure {
				opts = append(opts, artifact.WithInsecure())
			}
			d, err := artifact.Pull(ctx, args[0], tmp, opts...)
			if err != nil {
				return err
			}
			if err := update.Install(ctx, dst, tmp); err != nil {
				return err
			}
			if !g.quiet {
				fmt.Fprintf(g.env.Stderr, "installed %s@%s as %s\n", args[0], d, dst)
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{push, pull} {
		c.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry")
	}
	return []*cobra.Command{push, pull}
}
