package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/cache"
)

func newCacheCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the layer cache",
		Long:  "vigil caches what it found in each layer, keyed by the layer's diffID and the extractor versions,\nso rescans and rebuilt images only walk new layers. The cache lives under --cache-dir.",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show the layer cache's size",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := cache.Open(g.cacheDir, 0)
			if err != nil {
				return err
			}
			st, err := c.Stats()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.env.Stdout, "layer cache: %s\nentries: %d\nsize: %s\n", g.cacheDir, st.Entries, humanSize(st.Bytes))
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "clean",
		Short: "Remove every cached layer result",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := cache.Open(g.cacheDir, 0)
			if err != nil {
				return err
			}
			st, _ := c.Stats()
			if err := c.Clean(); err != nil {
				return err
			}
			if !g.quiet {
				fmt.Fprintf(g.env.Stderr, "removed %d cached layer results (%s)\n", st.Entries, humanSize(st.Bytes))
			}
			return nil
		},
	})
	return cmd
}
