package java

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/inventory"
)

var errBudget = errors.New("decompression budget for this file exhausted")

// walker reads one top-level archive and everything nested in it.
type walker struct {
	ctx      context.Context
	lim      limits
	budget   int64  // bytes left to decompress or index
	archives int    // nested archives opened so far
	top      string // path of the top-level file in the image
	warnings []string
	capped   bool // the nested-archive count warning was given
	spent    bool // the budget ran out and that was reported
}

func (w *walker) warn(format string, args ...any) {
	if len(w.warnings) < 100 {
		w.warnings = append(w.warnings, fmt.Sprintf(format, args...))
	}
}

// fail reports a problem with one entry; running out of budget is reported
// once, where it happened.
func (w *walker) fail(at string, err error) {
	if errors.Is(err, errBudget) {
		if w.spent {
			return
		}
		w.spent = true
	}
	w.warn("%s: %v", at, err)
}

// spend takes n bytes from the budget, or reports that it cannot.
func (w *walker) spend(n int64) bool {
	if n < 0 || n > w.budget {
		w.budget = 0
		return false
	}
	w.budget -= n
	return true
}

// archive reads the zip archive in ra. inner is its path inside the
// top-level file ("" for the top level itself, "WEB-INF/lib/a.jar",
// "lib/b.war!WEB-INF/lib/a.jar"); base is its file name.
func (w *walker) archive(ra io.ReaderAt, size int64, inner, base string, depth int) ([]inventory.Package, error) {
	if err := w.ctx.Err(); err != nil {
		return nil, err
	}
	cd, err := readCentralDir(ra, size)
	if err != nil {
		return nil, err
	}
	if cd.entries > w.lim.maxEntries {
		return nil, fmt.Errorf("central directory lists %d entries, more than the %d read", cd.entries, w.lim.maxEntries)
	}
	if span := cd.span(size); span > w.lim.maxCentralDir {
		return nil, fmt.Errorf("central directory of up to %d bytes exceeds the %d-byte limit", span, w.lim.maxCentralDir)
	} else if !w.spend(span) {
		return nil, errBudget
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, err // (entry names are never used as file paths here)
	}

	var (
		man    manifest
		poms   []coords
		nested []*zip.File
	)
	for _, f := range zr.File {
		name := f.Name
		switch {
		case strings.HasSuffix(name, "/"):
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			b, err := w.readSmall(f)
			if err != nil {
				w.fail(where(inner, name), err)
				continue
			}
			man = parseManifest(b)
		case isPomProperties(name):
			b, err := w.readSmall(f)
			if err != nil {
				w.fail(where(inner, name), err)
				continue
			}
			parts := strings.Split(name, "/")
			c, ok := pomCoords(parts[2], parts[3], parseProperties(b))
			if !ok {
				w.warn("%s: no usable groupId, artifactId and version", where(inner, name))
				continue
			}
			if !containsCoords(poms, c) {
				poms = append(poms, c)
			}
		case isArchiveName(path.Base(name)):
			nested = append(nested, f)
		}
	}

	pkgs := w.identify(man, poms, base, inner)

	if len(nested) > 0 && depth >= w.lim.maxDepth {
		w.warn("%s: %d archives nested deeper than %d levels skipped", where(inner, ""), len(nested), w.lim.maxDepth)
		nested = nil
	}
	for _, f := range nested {
		if w.archives >= w.lim.maxArchives {
			if !w.capped {
				w.warn("more than %d nested archives; the rest skipped", w.lim.maxArchives)
				w.capped = true
			}
			break
		}
		w.archives++
		child := f.Name
		if inner != "" {
			child = inner + "!" + f.Name
		}
		cr, csize, err := w.open(ra, size, f)
		if err != nil {
			w.fail(child, err)
			if errors.Is(err, errBudget) {
				break
			}
			continue
		}
		sub, err := w.archive(cr, csize, child, path.Base(f.Name), depth+1)
		if err != nil {
			if ctxErr := w.ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			w.fail(child, err)
			if errors.Is(err, errBudget) {
				break
			}
			continue
		}
		pkgs = append(pkgs, sub...)
	}
	return pkgs, nil
}

// identify turns what one archive says about itself into packages.
func (w *walker) identify(man manifest, poms []coords, base, inner string) []inventory.Package {
	fn := parseFileName(base)
	licenses := man.licenses()
	var pkgs []inventory.Package
	own := false
	for _, c := range poms {
		var lic []string
		if !own && isOwn(c, man, fn) {
			own, lic = true, licenses
		}
		pkgs = append(pkgs, w.pkg(c, lic, inner))
	}
	if own {
		return pkgs
	}
	c, weak := identify(man, fn)
	if c.Artifact == "" || c.Version == "" {
		return pkgs
	}
	if len(poms) > 0 {
		// Beside pom.properties of shaded dependencies, add the archive's
		// own identity only on real evidence and when it is not one of them.
		if weak {
			return pkgs
		}
		for _, p := range poms {
			if p.Artifact == c.Artifact {
				return pkgs
			}
		}
	}
	return append(pkgs, w.pkg(c, licenses, inner))
}

func (w *walker) pkg(c coords, licenses []string, inner string) inventory.Package {
	p := inventory.Package{
		Ecosystem: inventory.Maven,
		Group:     c.Group,
		Name:      c.Artifact,
		Version:   c.Version,
		Licenses:  licenses,
	}
	if c.Group != "" {
		p.PURL = packageurl.NewPackageURL(packageurl.TypeMaven, c.Group, c.Artifact, c.Version, nil, "").ToString()
	}
	if inner != "" {
		p.Locations = []inventory.Location{{Path: w.top + "!" + inner}}
	}
	return p
}

// readSmall reads a metadata entry (manifest, pom.properties) within the
// size cap and the budget.
func (w *walker) readSmall(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > uint64(w.lim.maxMeta) {
		return nil, fmt.Errorf("%d bytes exceeds the %d-byte limit for metadata; skipped", f.UncompressedSize64, w.lim.maxMeta)
	}
	if !w.spend(int64(f.UncompressedSize64)) {
		return nil, errBudget
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// archive/zip fails a read that runs past the declared size, so the
	// limit below is the declared size already charged to the budget.
	return io.ReadAll(io.LimitReader(rc, w.lim.maxMeta))
}

// open gives random access to a nested archive: stored entries are read in
// place, compressed ones are inflated into memory within the limits.
func (w *walker) open(ra io.ReaderAt, size int64, f *zip.File) (io.ReaderAt, int64, error) {
	if f.Flags&0x1 != 0 {
		return nil, 0, errors.New("encrypted entry; skipped")
	}
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return nil, 0, err
		}
		n := f.CompressedSize64
		if n != f.UncompressedSize64 || off < 0 || off > size || n > uint64(size-off) {
			return nil, 0, errors.New("stored entry's sizes do not fit the archive")
		}
		return io.NewSectionReader(ra, off, int64(n)), int64(n), nil
	}
	if f.UncompressedSize64 > uint64(w.lim.maxNestedInflate) {
		return nil, 0, fmt.Errorf("compressed nested archive of %d bytes exceeds the %d-byte limit for inflating in memory; skipped",
			f.UncompressedSize64, w.lim.maxNestedInflate)
	}
	if !w.spend(int64(f.UncompressedSize64)) {
		return nil, 0, errBudget
	}
	rc, err := f.Open()
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, w.lim.maxNestedInflate)); err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil
}

// isPomProperties matches META-INF/maven/<group>/<artifact>/pom.properties
// at the archive root, where maven-archiver writes it.
func isPomProperties(name string) bool {
	rest, ok := strings.CutPrefix(name, "META-INF/maven/")
	if !ok || !strings.HasSuffix(rest, "/pom.properties") {
		return false
	}
	return strings.Count(rest, "/") == 2 && !strings.HasPrefix(rest, "/") && !strings.Contains(rest, "//")
}

func containsCoords(cs []coords, c coords) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// where names an entry for a warning: the entry inside the (nested)
// archive.
func where(inner, name string) string {
	switch {
	case inner == "" && name == "":
		return "archive"
	case inner == "":
		return name
	case name == "":
		return inner
	}
	return inner + "!" + name
}
