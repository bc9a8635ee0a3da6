package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/cache"
	"github.com/vigilsec/vigil/ecosystem/builtin"
	"github.com/vigilsec/vigil/image/resolve"
	"github.com/vigilsec/vigil/layerfs"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/format"
	"github.com/vigilsec/vigil/report/table"
	"github.com/vigilsec/vigil/scan"
)

// scanFlags are the flags of the commands that walk an image.
type scanFlags struct {
	noCache bool
	verify  string
}

func addScanFlags(cmd *cobra.Command, sf *scanFlags) {
	cmd.Flags().BoolVar(&sf.noCache, "no-cache", false, "do not read or write the layer cache")
	cmd.Flags().StringVar(&sf.verify, "verify-layers", "auto", "check layers against their diffID: auto (layers read end to end anyway), all, none")
}

// service builds the scan service from the global flags.
func (g *globals) service() (*scan.Service, error) {
	s := &scan.Service{
		Open:             resolve.Open,
		ImageExtractors:  builtin.ImageRegistry(),
		RootFSExtractors: builtin.RootFSRegistry(),
		TempDir:          g.tempDir(),
		Now:              time.Now,
		Tool:             report.Tool{Name: "vigil", Version: g.version()},
	}
	if err := os.MkdirAll(s.TempDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w (set --cache-dir to a writable directory)", s.TempDir, err)
	}
	c, err := cache.Open(g.cacheDir, 0)
	if err != nil {
		g.logger.Warn("layer cache disabled", "err", err)
	} else {
		s.Cache = c
	}
	return s, nil
}

func (g *globals) version() string {
	if g.env.Version == "" {
		return "dev"
	}
	return g.env.Version
}

func (g *globals) scanOptions(sf *scanFlags) (scan.Options, error) {
	io, err := g.imageOptions()
	if err != nil {
		return scan.Options{}, err
	}
	vm, err := layerfs.ParseVerifyMode(sf.verify)
	if err != nil {
		return scan.Options{}, usageError("--verify-layers: %v", err)
	}
	return scan.Options{Image: io, NoCache: sf.noCache, Verify: vm}, nil
}

// writeReport writes r in every requested format.
func (g *globals) writeReport(r *report.Report, specs []outputSpec) error {
	for _, s := range specs {
		opts := format.Options{Template: g.template}
		if s.path == "-" {
			opts.Table = table.Options{Color: !g.noColor && isTerminal(g.env.Stdout), Width: terminalWidth(g.env.Stdout)}
		}
		enc, err := format.New(s.format, opts)
		if err != nil {
			return usageError("%v", err)
		}
		if err := g.write(s, func(w io.Writer) error { return enc.Encode(w, r) }); err != nil {
			return err
		}
	}
	return nil
}

// warnAll prints the report's warnings on stderr (they stay in the JSON).
func (g *globals) warnAll(r *report.Report) {
	if r.Inventory == nil || g.quiet {
		return
	}
	for _, w := range r.Inventory.Warnings {
		g.logger.Warn(w.Message, "path", w.Path, "layer", w.Layer, "component", w.Component)
	}
}

func newSBOMCommand(g *globals) *cobra.Command {
	var sf scanFlags
	cmd := &cobra.Command{
		Use:   "sbom REF",
		Short: "List every package in an image, with the layer that brought it in",
		Long: "Write a software bill of materials: every OS and language package, its PURL, licences,\n" +
			"the path it was found at and the layer and Dockerfile step that introduced it.\n" +
			"Formats: table (default on a terminal), json, cyclonedx (1.6), spdx (2.3).\n\n" + refHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer g.progressDone()
			specs, err := g.outputs(defaultFormat(g), format.Names())
			if err != nil {
				return err
			}
			svc, err := g.service()
			if err != nil {
				return err
			}
			opts, err := g.scanOptions(&sf)
			if err != nil {
				return err
			}
			r, err := svc.Inventory(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			g.warnAll(r)
			return g.writeReport(r, specs)
		},
	}
	addSourceFlags(cmd, g)
	addScanFlags(cmd, &sf)
	return cmd
}

// defaultFormat is the table, as with the peers; --format json for tools.
func defaultFormat(*globals) string { return "table" }
