// Package java finds Maven artifacts inside Java archives (.jar, .war, .ear
// and their relatives) in an image, including archives nested inside other
// archives (WEB-INF/lib, BOOT-INF/lib, jars in ears).
//
// How an archive is identified, most trusted first:
//
//  1. Every META-INF/maven/<group>/<artifact>/pom.properties at the root of
//     the archive gives one package with full coordinates. Maven writes one
//     for the artifact itself; shaded ("fat") jars carry one per bundled
//     dependency, so one archive may yield several packages.
//  2. When none of those describes the archive itself (Gradle and Ant builds,
//     hand-made jars), the archive's own identity comes from MANIFEST.MF and
//     the file name (see identify): the name from a "name-1.2.3.jar" file
//     name, else the first of the Jenkins Short-Name, Implementation-Title,
//     Bundle-Name and the bare file name that Bundle-SymbolicName confirms,
//     else the first of them that looks like an artifact ID (not a title
//     such as "Apache Log4j Core"); the version from Implementation-Version,
//     then the file name, then Plugin-Version, Bundle-Version and
//     Specification-Version; the group from the Jenkins Group-Id, then the
//     group the maven-bundle-plugin's naming rule makes consistent with
//     Bundle-SymbolicName, then a dotted Implementation-Vendor-Id.
//
// Peers differ here. Trivy prefers pom.properties, and otherwise (offline)
// takes Implementation-Vendor-Id or the Bundle-SymbolicName prefix as the
// group and Implementation-Title as the name, which often yields a
// human-readable title ("Apache Log4j Core") as an artifact ID; online it asks
// Maven Central by SHA-1. Syft always reports the archive itself, named from
// the file name first and the manifest second, with the version from the file
// name first, and adds every other pom.properties as a further package.
// vigil works offline and never invents coordinates it cannot support: a
// guessed identity is added beside pom.properties packages only when its
// name comes from a versioned file name or the manifest (not from a bare
// "app.jar"), and a group is left empty when no manifest field supports one.
//
// Licenses come from the manifest's Bundle-License header and are attached
// to the archive's own package only.
//
// Hostile archives are bounded: the central directory is checked before it
// is parsed (entry count and size), nested archives are followed to a fixed
// depth, compressed nested archives are inflated in memory only up to a size
// cap, stored ones (Spring Boot's BOOT-INF/lib) are read in place, and all
// decompression for one top-level file draws on one byte budget.
package java

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/vigilsec/vigil/extract"
)

// archiveExts are the zip-based Java archive kinds that are read, both as
// top-level files and nested inside other archives: jar, war (web), ear
// (enterprise), par and sar (JBoss/Spring), nar (NiFi), kar (Karaf), jpi and
// hpi (Jenkins plugins) and lpkg (Liferay). Trivy reads jar/war/ear/par;
// Syft additionally sar/nar/jpi/hpi/kar/lpkg.
var archiveExts = [...]string{".jar", ".war", ".ear", ".par", ".sar", ".nar", ".kar", ".jpi", ".hpi", ".lpkg"}

// isArchiveName reports whether name has a Java archive extension, in any
// letter case.
func isArchiveName(name string) bool {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || len(name)-dot > 5 {
		return false
	}
	ext := name[dot:]
	for _, e := range archiveExts {
		if strings.EqualFold(ext, e) {
			return true
		}
	}
	return false
}

// limits bound the work and memory spent on one top-level archive.
type limits struct {
	// maxFileSize is the largest top-level archive read.
	maxFileSize int64
	// maxDepth is how many archives deep nesting is followed (the
	// top-level archive is depth 0).
	maxDepth int
	// maxNestedInflate is the largest compressed nested archive inflated
	// into memory; larger ones are skipped with a warning.
	maxNestedInflate int64
	// budget is the total number of bytes one top-level archive may cost:
	// every decompressed byte and every central-directory byte parsed.
	budget int64
	// maxEntries and maxCentralDir bound one archive's central directory,
	// and with it the memory archive/zip needs to index it.
	maxEntries    uint64
	maxCentralDir int64
	// maxArchives is how many nested archives one top-level file may hold.
	maxArchives int
	// maxMeta caps MANIFEST.MF and pom.properties.
	maxMeta int64
}

func defaultLimits() limits {
	return limits{
		maxFileSize:      extract.DefaultMaxFileSize,
		maxDepth:         4,
		maxNestedInflate: 64 << 20,
		budget:           512 << 20,
		maxEntries:       250_000,
		maxCentralDir:    16 << 20,
		maxArchives:      5000,
		maxMeta:          1 << 20,
	}
}

type extractor struct {
	lim limits
}

// New returns the Java archive extractor.
func New() extract.Extractor { return &extractor{lim: defaultLimits()} }

func (e *extractor) Name() string { return "java-archive" }
func (e *extractor) Version() int { return 1 }

func (e *extractor) Wants(p string, fi fs.FileInfo) bool {
	if !isArchiveName(path.Base(p)) {
		return false
	}
	if fi == nil {
		return true
	}
	return fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= e.lim.maxFileSize
}

func (e *extractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if in.Size > e.lim.maxFileSize {
		return nil, fmt.Errorf("java: read %s: %d bytes exceeds the %d-byte limit; skipped", in.Path, in.Size, e.lim.maxFileSize)
	}
	w := &walker{ctx: ctx, lim: e.lim, budget: e.lim.budget, top: in.Path}
	pkgs, err := w.archive(in.Reader, in.Size, "", path.Base(in.Path), 0)
	if err != nil {
		return nil, fmt.Errorf("java: read %s: %w (is it a complete zip archive?)", in.Path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("java: read %s: %w", in.Path, err)
	}
	return &extract.Result{Packages: pkgs, Warnings: w.warnings}, nil
}
