// Package python finds installed Python distributions from their core
// metadata files:
//
//   - "<name>-<version>.dist-info/METADATA" (wheels, pip installs);
//   - "<name>.egg-info/PKG-INFO" (setuptools "develop" and sdist installs);
//   - "<name>.egg-info" as a file in PKG-INFO format, as Debian ships them;
//   - ".egg" zip files with "EGG-INFO/PKG-INFO" inside, and unzipped
//     "<name>.egg/EGG-INFO/PKG-INFO" directories.
//
// The metadata is an RFC 822-style header block (the form Python's email
// parser reads, with indented continuation lines) followed by an optional
// body; only the headers are read, up to a size cap. Name is kept as written
// (normalising it is the PURL's job); Version as written. Licenses come from
// License-Expression (core metadata 2.4) when present, else from the License
// field when it is a short name rather than a pasted licence text, else from
// the "License :: ..." classifiers (their last component, e.g. "MIT
// License").
package python

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

const (
	// maxMetadata caps a metadata file the walk hands over; the long
	// description some packages embed rarely passes 1 MiB.
	maxMetadata = 16 << 20
	// maxHeader caps the header block actually parsed.
	maxHeader = 1 << 20
	// maxEgg caps the size of an .egg zip archive.
	maxEgg = 256 << 20
	// maxLicenseName is the longest License field taken as a licence name;
	// longer values are licence texts.
	maxLicenseName = 120
	eggMetadata    = "EGG-INFO/PKG-INFO"
)

// New returns the Python installed-distribution extractor.
func New() extract.Extractor { return distExtractor{} }

type distExtractor struct{}

func (distExtractor) Name() string { return "python-dist" }
func (distExtractor) Version() int { return 1 }

// Wants selects the metadata files listed in the package documentation.
func (distExtractor) Wants(p string, fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	switch kind(p) {
	case kindMetadata:
		return fi.Size() <= maxMetadata
	case kindEgg:
		return fi.Size() <= maxEgg
	}
	return false
}

const (
	kindNone = iota
	kindMetadata
	kindEgg
)

func kind(p string) int {
	switch {
	case strings.HasSuffix(p, ".dist-info/METADATA"),
		strings.HasSuffix(p, ".egg-info/PKG-INFO"),
		strings.HasSuffix(p, ".egg/"+eggMetadata),
		strings.HasSuffix(p, ".egg-info") && path.Base(p) != ".egg-info":
		return kindMetadata
	case strings.HasSuffix(p, ".egg") && path.Base(p) != ".egg":
		return kindEgg
	}
	return kindNone
}

// Extract reads one metadata file or .egg archive.
func (distExtractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r io.Reader = io.NewSectionReader(in.Reader, 0, in.Size)
	if kind(in.Path) == kindEgg {
		zr, err := zip.NewReader(io.NewSectionReader(in.Reader, 0, in.Size), in.Size)
		if err != nil {
			return nil, fmt.Errorf("python: open egg %s: %w", in.Path, err)
		}
		var f *zip.File
		for _, zf := range zr.File {
			if zf.Name == eggMetadata {
				f = zf
				break
			}
		}
		if f == nil {
			return nil, fmt.Errorf("python: egg %s has no %s; it is not an installed distribution", in.Path, eggMetadata)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("python: open %s in egg %s: %w", eggMetadata, in.Path, err)
		}
		defer rc.Close()
		r = rc
	}
	h, err := parseHeaders(r)
	if err != nil {
		return nil, fmt.Errorf("python: read metadata %s: %w", in.Path, err)
	}
	name, version := strings.TrimSpace(h.get("Name")), strings.TrimSpace(h.get("Version"))
	if name == "" || version == "" {
		return &extract.Result{Warnings: []string{
			fmt.Sprintf("python: metadata %s has no Name or Version header (Name %q, Version %q); distribution skipped", in.Path, name, version),
		}}, nil
	}
	return &extract.Result{Packages: []inventory.Package{{
		Ecosystem: inventory.PyPI,
		Name:      name,
		Version:   version,
		Licenses:  licenses(h),
	}}}, nil
}

// header is one field of a metadata header block.
type header struct{ name, value string }

type headers []header

// get returns the first value of the named field (case-insensitive), as
// Python's email.message.Message does.
func (h headers) get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// all returns every value of the named field, in order.
func (h headers) all(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			out = append(out, f.value)
		}
	}
	return out
}

// errNoHeaders reports metadata that does not start with a header.
var errNoHeaders = errors.New("no metadata headers: the file does not start with a \"Name: value\" line")

// parseHeaders reads the header block the way Python's email parser does:
// "Name: value" lines, indented lines continuing the previous value, and
// the block ending at an empty line or at the first line that is neither.
// At most maxHeader bytes are read.
func parseHeaders(r io.Reader) (headers, error) {
	br := bufio.NewReader(io.LimitReader(r, maxHeader))
	var h headers
	// cont holds the continuation lines of the last field, joined once
	// the field is complete (appending to the value line by line would
	// cost quadratic time on a long wrapped field).
	var cont []string
	flush := func() {
		if len(cont) > 0 {
			h[len(h)-1].value += "\n" + strings.Join(cont, "\n")
			cont = cont[:0]
		}
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, err
		}
		if line == "" && err == io.EOF {
			break
		}
		line = strings.ToValidUTF8(strings.TrimRight(line, "\r\n"), "\uFFFD")
		if line == "" {
			break
		}
		name, value, ok := fieldLine(line)
		if line[0] == ' ' || line[0] == '\t' {
			// Python drops a continuation line that continues nothing.
			if len(h) > 0 {
				cont = append(cont, line)
			}
		} else if ok && name == "" || strings.HasPrefix(line, "From ") {
			// Python's parser drops a field without a name and an mbox
			// "From " line, and goes on with the headers.
		} else if ok {
			flush()
			h = append(h, header{name: name, value: value})
		} else {
			// The body starts without the empty separator line.
			break
		}
		if err == io.EOF {
			break
		}
	}
	flush()
	if len(h) == 0 {
		return nil, errNoHeaders
	}
	return h, nil
}

// fieldLine splits "Name: value". A field name is printable ASCII without
// spaces or colons; Python's parser also accepts an empty one.
func fieldLine(line string) (name, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i < 0 {
		return "", "", false
	}
	for j := 0; j < i; j++ {
		if c := line[j]; c < 0x21 || c > 0x7e {
			return "", "", false
		}
	}
	return line[:i], strings.TrimLeft(line[i+1:], " \t"), true
}

// licenses picks the licence information as the package documentation
// describes.
func licenses(h headers) []string {
	if e := strings.TrimSpace(h.get("License-Expression")); e != "" {
		return []string{e}
	}
	if l := strings.TrimSpace(h.get("License")); l != "" && !strings.EqualFold(l, "UNKNOWN") &&
		!strings.ContainsAny(l, "\r\n") && len(l) <= maxLicenseName {
		return []string{l}
	}
	var out []string
	for _, c := range h.all("Classifier") {
		parts := strings.Split(c, "::")
		if len(parts) < 2 || strings.TrimSpace(parts[0]) != "License" {
			continue
		}
		last := strings.TrimSpace(parts[len(parts)-1])
		if last == "" || last == "OSI Approved" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == last
		}
		if !dup {
			out = append(out, last)
		}
	}
	return out
}
