package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/audit"
	"github.com/vigilsec/vigil/audit/content"
	"github.com/vigilsec/vigil/audit/dockerfile"
	"github.com/vigilsec/vigil/audit/secrets"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/format"
	"github.com/vigilsec/vigil/vulndb"
)

// imageFlags are the flags of the commands that scan for vulnerabilities.
type imageFlags struct {
	scanFlags
	scanners   string
	dbPath     string
	dockerfile string
}

func addImageFlags(cmd *cobra.Command, f *imageFlags) {
	addScanFlags(cmd, &f.scanFlags)
	cmd.Flags().StringVar(&f.scanners, "scanners", "vuln,secret,audit", "what to look for: vuln, secret, audit (comma-separated)")
	cmd.Flags().StringVar(&f.dbPath, "db", "", "vulnerability database file (default: <cache-dir>/db/vigil.db)")
	cmd.Flags().StringVar(&f.dockerfile, "dockerfile", "", "the Dockerfile the image was built from: checks it, and points findings at its lines")
}

// scanners parses --scanners.
func (f *imageFlags) set() (map[string]bool, error) {
	m := map[string]bool{}
	for _, s := range strings.Split(f.scanners, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "vuln", "secret", "audit":
			m[s] = true
		case "":
		default:
			return nil, usageError("--scanners: unknown scanner %q (want vuln, secret, audit)", s)
		}
	}
	if len(m) == 0 {
		return nil, usageError("--scanners: name at least one of vuln, secret, audit")
	}
	return m, nil
}

// openDB opens the vulnerability database read-only, saying what to do
// when there is none and warning (never failing) when it is stale.
func (g *globals) openDB(path string) (*vulndb.DB, error) {
	if path == "" {
		path = vulndb.DefaultPath(g.cacheDir)
	}
	db, err := vulndb.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no vulnerability database at %s: run `vigil db update` (online) or `vigil db import FILES` / `vigil db pull REF` (offline), or pass --db, or --scanners secret,audit to skip matching", path)
	}
	if err != nil {
		return nil, err
	}
	meta := db.Meta()
	if err := meta.CheckFresh(time.Now(), vulndb.DefaultMaxAge); err != nil && !g.quiet {
		g.logger.Warn(err.Error())
	}
	return db, nil
}

func newImageCommand(g *globals) *cobra.Command {
	var f imageFlags
	cmd := &cobra.Command{
		Use:   "image REF",
		Short: "Scan an image for vulnerabilities, secrets and hardening problems",
		Long: "Scan an image: list its packages, match them against the local vulnerability database,\n" +
			"look for secrets in every layer and check how the image is built.\n\n" + refHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runScan(cmd.Context(), args[0], &f)
		},
	}
	addSourceFlags(cmd, g)
	addImageFlags(cmd, &f)
	return cmd
}

func newRootFSCommand(g *globals) *cobra.Command {
	var f imageFlags
	cmd := &cobra.Command{
		Use:   "rootfs DIR",
		Short: "Scan an unpacked root file system or a source tree",
		Long: "Scan a directory as a root file system: installed OS and language packages, plus lock files\n" +
			"(package-lock.json, yarn.lock, pnpm-lock.yaml, Gemfile.lock, composer.lock, packages.lock.json).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return usageError("rootfs: %s is not a directory", dir)
			}
			return g.runScan(cmd.Context(), "dir:"+dir, &f)
		},
	}
	addImageFlags(cmd, &f)
	return cmd
}

// runScan is vigil's main job: inventory, match, audit, report.
func (g *globals) runScan(ctx context.Context, ref string, f *imageFlags) error {
	defer g.progressDone()
	specs, err := g.outputs(defaultFormat(g), format.Names())
	if err != nil {
		return err
	}
	scanners, err := f.set()
	if err != nil {
		return err
	}
	svc, err := g.service()
	if err != nil {
		return err
	}
	opts, err := g.scanOptions(&f.scanFlags)
	if err != nil {
		return err
	}
	if scanners["secret"] {
		opts.Extra = append(opts.Extra, secrets.New())
	}
	if scanners["audit"] {
		opts.Extra = append(opts.Extra, content.New())
	}
	var db *vulndb.DB
	if scanners["vuln"] {
		// Open the database first: a missing one fails before any work.
		if db, err = g.openDB(f.dbPath); err != nil {
			return err
		}
		defer db.Close()
	}
	r, err := svc.Inventory(ctx, ref, opts)
	if err != nil {
		return err
	}
	if db != nil {
		if err := svc.Match(ctx, r, db); err != nil {
			return err
		}
	}
	if scanners["audit"] || scanners["secret"] {
		for _, is := range audit.Image(r, time.Now()) {
			if is.Category == report.CategorySecret && scanners["secret"] || is.Category != report.CategorySecret && scanners["audit"] {
				r.Audit = append(r.Audit, is)
			}
		}
	}
	if f.dockerfile != "" {
		df, err := dockerfile.Load(f.dockerfile)
		if err != nil {
			return err
		}
		df.Dockerignore = dockerfile.HasDockerignore(f.dockerfile, filepath.Dir(f.dockerfile))
		if scanners["audit"] {
			r.Audit = append(r.Audit, dockerfile.Check(df)...)
		}
		audit.MapToDockerfile(r.Audit, r.Inventory.Layers, df)
		r.Target.DockerfileSteps = audit.DockerfileSteps(r.Inventory.Layers, df)
	}
	g.warnAll(r)
	return g.finish(r, specs)
}

// finish writes the report. Policy evaluation hooks in here.
func (g *globals) finish(r *report.Report, specs []outputSpec) error {
	return g.writeReport(r, specs)
}
