// Package scan is vigil's Service: it opens an image from any source, walks
// its layers once with the extractors, and assembles the report document
// every output format is generated from. The CLI and the server both call
// it; neither re-implements a stage.
package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilsec/vigil/audit/content"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/layerfs"
	"github.com/vigilsec/vigil/purl"
	"github.com/vigilsec/vigil/report"
)

// Opener opens an image reference (image/resolve.Open in production).
type Opener func(ctx context.Context, ref string, opts image.Options) (*image.Image, error)

// Service runs scans. Its fields are its dependencies; none is global.
type Service struct {
	// Open resolves references to images.
	Open Opener
	// ImageExtractors run on images; RootFSExtractors on root file systems
	// (they add lock files).
	ImageExtractors  *extract.Registry
	RootFSExtractors *extract.Registry
	// Cache stores per-layer results; nil disables caching.
	Cache layerfs.Cache
	// TempDir is where large files are spooled during a walk.
	TempDir string
	// Now is the clock stamped into reports.
	Now func() time.Time
	// Tool names vigil and its version in reports.
	Tool report.Tool
}

// Options control one scan.
type Options struct {
	Image image.Options
	// NoCache skips the layer cache for this scan.
	NoCache bool
	// Verify selects which layers are checked against their diffID.
	Verify layerfs.VerifyMode
	// Parallel is how many layers are walked at once (0: GOMAXPROCS).
	Parallel int
	// OnLayer is told as each layer is done.
	OnLayer func(index int, cached bool)
	// Extra extractors run besides the service's (the secret scanner and
	// the content observer when those scanners are on). Their names and
	// versions enter the layer cache key like every extractor's.
	Extra []extract.Extractor
}

// Inventory opens ref and returns the report of what is inside: packages
// with PURLs and layer provenance, no vulnerabilities yet.
func (s *Service) Inventory(ctx context.Context, ref string, opts Options) (*report.Report, error) {
	if s.Open == nil {
		return nil, fmt.Errorf("scan: no image opener configured")
	}
	img, err := s.Open(ctx, ref, opts.Image)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return s.InventoryOf(ctx, img, opts)
}

// InventoryOf walks an opened image.
func (s *Service) InventoryOf(ctx context.Context, img *image.Image, opts Options) (*report.Report, error) {
	reg := s.ImageExtractors
	if img.RootDir != "" && s.RootFSExtractors != nil {
		reg = s.RootFSExtractors
	}
	if len(opts.Extra) > 0 {
		reg = extract.NewRegistry(append(append([]extract.Extractor(nil), reg.Extractors()...), opts.Extra...)...)
	}
	wo := layerfs.Options{
		Registry: reg,
		Parallel: opts.Parallel,
		TempDir:  s.TempDir,
		Verify:   opts.Verify,
		OnLayer:  opts.OnLayer,
	}
	if !opts.NoCache {
		wo.Cache = s.Cache
	}
	res, err := layerfs.Walk(ctx, img, wo)
	if err != nil {
		return nil, err
	}
	inv := res.Inventory
	AssignPURLs(inv)
	// One finding per cache directory, not one per cached file.
	inv.Files = content.Aggregate(inv.Files)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          s.Tool,
		CreatedAt:     now().UTC(),
		Target:        report.TargetFromImage(img),
		Inventory:     inv,
	}, nil
}

// AssignPURLs sets every package's PURL from its fields and the distro.
func AssignPURLs(inv *inventory.Inventory) {
	for i := range inv.Packages {
		if inv.Packages[i].PURL == "" {
			inv.Packages[i].PURL = purl.For(&inv.Packages[i], inv.Distro)
		}
	}
}
