package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/image/progress"
	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/update"
)

// progressFor returns a progress reporter drawing on stderr when it is a
// terminal and --quiet is not set.
func (g *globals) progressFor(ctx context.Context) progress.Reporter {
	f, _ := g.env.Stderr.(*os.File)
	return progress.New(ctx, f, g.quiet)
}

func newDBCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Build, update, inspect and move the vulnerability database",
		Long: "The vulnerability database is one file (<cache-dir>/db/vigil.db) built from OSV and the distro\n" +
			"trackers (Debian Security Tracker, Alpine secdb), with CISA KEV and EPSS. Scans open it read-only;\n" +
			"updates build a new file and swap it in atomically.",
	}
	cmd.AddCommand(newDBUpdateCommand(g), newDBImportCommand(g), newDBStatusCommand(g), newDBExportCommand(g))
	cmd.AddCommand(newDBArtifactCommands(g)...)
	return cmd
}

func (g *globals) dbPath() string { return vulndb.DefaultPath(g.cacheDir) }

func newDBUpdateCommand(g *globals) *cobra.Command {
	var o update.Options
	var ecos, feeds string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download advisories and update the database (deltas after the first run)",
		Long: "The first update downloads each ecosystem's all.zip from the OSV export; later ones read\n" +
			"modified_id.csv and fetch only records changed since. A failure in one source does not stop\n" +
			"the others, and a failed update leaves the previous database untouched.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.CacheDir = g.cacheDir
			if ecos != "" {
				o.Ecosystems = splitList(ecos)
			}
			if cmd.Flags().Changed("feeds") {
				o.Feeds = splitList(feeds)
				if o.Feeds == nil {
					o.Feeds = []string{}
				}
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			p := g.progressFor(ctx)
			o.Progress = p
			defer update.TuneGC()()
			rep, err := update.Run(ctx, o)
			p.Wait()
			if rep != nil {
				g.printUpdateReport(rep)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.BaseURL, "db-source", update.DefaultBaseURL, "base URL of the OSV export (any HTTP mirror with the same layout)")
	f.StringVar(&o.DebianTrackerURL, "debian-tracker-url", "", "Debian Security Tracker JSON URL (default: the tracker's)")
	f.StringVar(&o.AlpineSecdbURL, "alpine-secdb-url", "", "Alpine secdb base URL (default: secdb.alpinelinux.org)")
	f.StringVar(&o.KEVURL, "kev-url", "", "CISA KEV catalog URL (default: CISA's)")
	f.StringVar(&o.EPSSURL, "epss-url", "", "EPSS scores CSV URL (default: FIRST's current file)")
	f.StringVar(&ecos, "ecosystem", "", "OSV ecosystems to fetch, comma-separated (default: every one vigil matches)")
	f.StringVar(&feeds, "feeds", "", "other feeds, comma-separated: debian-tracker, alpine-secdb, kev, epss (default: all)")
	f.DurationVar(&timeout, "timeout", 0, "give up after this long (e.g. 10m); 0 means no limit")
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printUpdateReport summarises an update or import on stderr.
func (g *globals) printUpdateReport(rep *update.Report) {
	if g.quiet {
		return
	}
	t := rep.Total()
	var extra string
	if t.Unchanged > 0 {
		extra += fmt.Sprintf(", %d unchanged", t.Unchanged)
	}
	if t.UnknownEcosystem > 0 {
		extra += fmt.Sprintf(", %d for ecosystems vigil does not match", t.UnknownEcosystem)
	}
	if t.Skipped > 0 {
		extra += fmt.Sprintf(", %d skipped", t.Skipped)
	}
	fmt.Fprintf(g.env.Stderr, "database %s: %d added, %d updated, %d removed, %d malformed, %d failed%s in %s\n",
		rep.Path, t.Added, t.Updated, t.Removed, t.Malformed, t.Failed, extra, rep.Duration.Round(time.Millisecond))
	// Failures first, then what was malformed or skipped, so that a bad
	// record is named and not only counted.
	lines := rep.Failures()
	seen := map[string]bool{}
	for _, f := range lines {
		seen[f] = true
	}
	for _, p := range rep.Problems() {
		if !seen[p] {
			lines = append(lines, p)
		}
	}
	for i, l := range lines {
		if i == maxReportLines {
			fmt.Fprintf(g.env.Stderr, "  ... and %d more\n", len(lines)-i)
			break
		}
		fmt.Fprintf(g.env.Stderr, "  %s\n", strings.ReplaceAll(l, "\n", "\n    "))
	}
}

// maxReportLines caps the problems an update or import lists on stderr.
const maxReportLines = 20

func newDBImportCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import PATH...",
		Short: "Add local advisory files to the database (offline)",
		Long: "Import OSV all.zip archives, directories of OSV JSON or YAML records, single records, and\n" +
			"feed files (Debian tracker JSON, Alpine secdb, CISA KEV JSON, EPSS CSV), each recognised by\n" +
			"its content. A bad file is counted and reported; it does not stop the others.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer update.TuneGC()()
			rep, err := update.Import(cmd.Context(), g.dbPath(), args...)
			if rep != nil {
				g.printUpdateReport(rep)
			}
			return err
		},
	}
}

func newDBStatusCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the database's sources, record counts per ecosystem, and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specs, err := g.outputs("table", []string{"table", "json"})
			if err != nil {
				return err
			}
			db, err := g.openDB("")
			if err != nil {
				return err
			}
			defer db.Close()
			m := db.Meta()
			for _, s := range specs {
				err := g.write(s, func(w io.Writer) error {
					if s.format == "json" {
						enc := json.NewEncoder(w)
						enc.SetIndent("", "  ")
						return enc.Encode(struct {
							Path string `json:"path"`
							vulndb.Meta
						}{db.Path(), m})
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintf(tw, "Database:\t%s\n", db.Path())
					fmt.Fprintf(tw, "Schema:\t%d\n", m.Schema)
					fmt.Fprintf(tw, "Built:\t%s (%s ago)\n", m.Built.UTC().Format(time.RFC3339), time.Since(m.Built).Round(time.Minute))
					fmt.Fprintf(tw, "Advisories:\t%d\n", m.Docs)
					fmt.Fprintf(tw, "KEV entries:\t%d\n", m.KEV)
					fmt.Fprintf(tw, "EPSS scores:\t%d\n", m.EPSS)
					tw.Flush()
					names := make([]string, 0, len(m.Feeds))
					for n := range m.Feeds {
						names = append(names, n)
					}
					sort.Strings(names)
					if len(names) > 0 {
						fmt.Fprintln(w, "\nSources:")
						tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
						for _, n := range names {
							b, _ := json.Marshal(m.Feeds[n])
							fmt.Fprintf(tw, "  %s\t%s\n", n, b)
						}
						tw.Flush()
					}
					ecos := make([]string, 0, len(m.Ecosystems))
					for e := range m.Ecosystems {
						ecos = append(ecos, e)
					}
					sort.Strings(ecos)
					if len(ecos) > 0 {
						fmt.Fprintln(w, "\nRecords per ecosystem:")
						tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
						for _, e := range ecos {
							fmt.Fprintf(tw, "  %s\t%d\n", e, m.Ecosystems[e])
						}
						tw.Flush()
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	return cmd
}

func newDBExportCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "export FILE",
		Short: "Write a consistent copy of the database to FILE (for mirroring or CI caches)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := os.Create(args[0])
			if err != nil {
				return fmt.Errorf("db export: %w", err)
			}
			if err := vulndb.Export(g.dbPath(), out); err != nil {
				out.Close()
				os.Remove(args[0])
				return err
			}
			return out.Close()
		},
	}
}
