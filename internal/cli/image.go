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
	"github.com/vigilsec/vigil/policy"
	"github.com/vigilsec/vigil/remediation"
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

	// policy flags
	severity      string
	ignoreUnfixed bool
	failOn        string
	exitCode      int
	onlyKEV       bool
	minEPSS       float64
	configFile    string
	vex           []string
	template      string
}

func addImageFlags(cmd *cobra.Command, f *imageFlags) {
	addScanFlags(cmd, &f.scanFlags)
	cmd.Flags().StringVar(&f.scanners, "scanners", "vuln,secret,audit", "what to look for: vuln, secret, audit (comma-separated)")
	cmd.Flags().StringVar(&f.dbPath, "db", "", "vulnerability database file (default: <cache-dir>/db/vigil.db)")
	cmd.Flags().StringVar(&f.dockerfile, "dockerfile", "", "the Dockerfile the image was built from: checks it, and points findings at its lines")
	fl := cmd.Flags()
	fl.StringVar(&f.severity, "severity", "", "report only these severities, comma-separated: critical,high,medium,low,negligible,unknown")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that have no fixed version yet")
	fl.StringVar(&f.failOn, "fail-on", "", "exit with the policy-failed code when an unsuppressed finding is at or above this severity")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit code when the policy fails (default 1); set alone, any unsuppressed finding fails")
	fl.BoolVar(&f.onlyKEV, "only-kev", false, "report only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog")
	fl.Float64Var(&f.minEPSS, "min-epss", 0, "report only vulnerabilities with an EPSS score at least this (0 to 1)")
	fl.StringVar(&f.configFile, "config", "", "policy file with ignore rules and defaults (default: .vigil.yaml in the working directory, if present)")
	fl.StringArrayVar(&f.vex, "vex", nil, "OpenVEX or CycloneDX VEX document: not_affected and fixed statements suppress findings (repeatable)")
	fl.StringVar(&f.template, "template", "", "Go text/template file for --format template (FILE or @FILE)")
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
			return g.runScan(cmd, args[0], &f)
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
			return g.runScan(cmd, "dir:"+dir, &f)
		},
	}
	addImageFlags(cmd, &f)
	return cmd
}

// loadPolicy reads the policy file (the --config one, or .vigil.yaml when
// present) and the VEX documents, and merges the gating flags.
func (g *globals) loadPolicy(cmd *cobra.Command, f *imageFlags) (*policy.Config, *policy.VEX, policy.Options, error) {
	var opts policy.Options
	var err error
	if f.severity != "" {
		if opts.Severities, err = policy.ParseSeverities(f.severity); err != nil {
			return nil, nil, opts, usageError("--severity: %v", err)
		}
	}
	if f.failOn != "" {
		if opts.FailOn, err = policy.ParseSeverity(f.failOn); err != nil {
			return nil, nil, opts, usageError("--fail-on: %v", err)
		}
	}
	opts.IgnoreUnfixed, opts.ExitCode, opts.OnlyKEV, opts.MinEPSS = f.ignoreUnfixed, f.exitCode, f.onlyKEV, f.minEPSS
	file := f.configFile
	if file == "" {
		file = policy.DefaultFile
	}
	cfg, err := policy.Load(file)
	if err != nil {
		if f.configFile == "" && errors.Is(err, fs.ErrNotExist) {
			cfg = nil
		} else {
			return nil, nil, opts, &exitError{code: ExitUsage, err: err}
		}
	}
	opts = policy.Merge(cfg, opts, cmd.Flags().Changed)
	if err := opts.Validate(); err != nil {
		return nil, nil, opts, usageError("%v", err)
	}
	vexFiles := append([]string(nil), f.vex...)
	if cfg != nil {
		vexFiles = append(vexFiles, cfg.VEX...)
	}
	var vex *policy.VEX
	if len(vexFiles) > 0 {
		if vex, err = policy.LoadVEX(vexFiles...); err != nil {
			return nil, nil, opts, &exitError{code: ExitUsage, err: err}
		}
	}
	return cfg, vex, opts, nil
}

// secretAllow turns the policy file's secrets.allow entries into the
// scanner's allow-list. An entry naming both a rule and a path is applied
// by path: that file is what the user vouched for.
func secretAllow(cfg *policy.Config) secrets.Allow {
	var a secrets.Allow
	if cfg == nil {
		return a
	}
	for _, e := range cfg.Secrets.Allow {
		switch {
		case e.Path != "":
			a.Paths = append(a.Paths, e.Path)
		case e.Rule != "":
			a.Rules = append(a.Rules, e.Rule)
		}
	}
	return a
}

// runScan is vigil's main job: inventory, match, audit, policy, report.
func (g *globals) runScan(cmd *cobra.Command, ref string, f *imageFlags) error {
	ctx := cmd.Context()
	defer g.progressDone()
	specs, err := g.outputs(defaultFormat(g), format.Names())
	if err != nil {
		return err
	}
	g.template = f.template
	scanners, err := f.set()
	if err != nil {
		return err
	}
	sbomFile, isSBOM := strings.CutPrefix(ref, sbomPrefix)
	if isSBOM {
		scanners = g.sbomScanners(cmd, scanners)
	}
	cfg, vex, popts, err := g.loadPolicy(cmd, f)
	if err != nil {
		return err
	}
	allow := secretAllow(cfg)
	if err := allow.Validate(); err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("%s: secrets.allow: %w", cfg.File, err)}
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
		opts.Extra = append(opts.Extra, secrets.New(secrets.WithAllow(allow)))
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
		// Read the package index into the page cache while the image is
		// read, so that matching does not wait for the disk a lookup at a
		// time. Stopped (and waited for) before the database closes.
		pctx, stop := context.WithCancel(ctx)
		prefetched := make(chan struct{})
		go func() {
			defer close(prefetched)
			if err := db.Prefetch(pctx, vulndb.PrefetchRead); err != nil && pctx.Err() == nil {
				g.logger.Debug("prefetch of the advisory database failed", "err", err)
			}
		}()
		defer func() { stop(); <-prefetched }()
	}
	var r *report.Report
	if isSBOM {
		r, err = g.sbomInventory(svc, sbomFile)
	} else {
		r, err = svc.Inventory(ctx, ref, opts)
	}
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
		r.Target.Dockerfile = f.dockerfile
		r.Target.DockerfileSteps = audit.DockerfileSteps(r.Inventory.Layers, df)
	}
	g.warnAll(r)
	res, err := policy.Apply(r, cfg, vex, popts)
	if err != nil {
		return err
	}
	remediation.Annotate(r)
	if !g.quiet {
		for _, w := range res.Warnings {
			fmt.Fprintf(g.env.Stderr, "vigil: policy: %s\n", w)
		}
	}
	if err := g.writeReport(r, specs); err != nil {
		return err
	}
	if res.Failed {
		return &PolicyFailed{Code: res.ExitCode, Message: res.Message}
	}
	return nil
}
