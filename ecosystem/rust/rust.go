// Package rust finds the crates compiled into Rust executables built with
// cargo-auditable, which embeds the resolved dependency tree in the binary.
//
// Format facts relied on (cargo-auditable's documentation and its JSON
// schema, https://rustsec.org/schemas/cargo-auditable.json):
//
//   - the data lives in a section named ".dep-v0": an ELF section, a PE
//     section, or a Mach-O section of that name in the "__DATA" segment;
//   - the section holds one zlib (RFC 1950) stream of UTF-8 JSON;
//   - the JSON is an object whose "packages" array lists every package of
//     the tree with "name", "version" and "source" ("crates.io", "git",
//     "local", "registry", or another string; older writers used an
//     {"Other": "..."} object), an optional "kind" ("build" or "runtime";
//     omitted means runtime, and a package that is both is recorded as
//     runtime), an optional "dependencies" array of indices into
//     "packages", and "root": true on the package that was built. An
//     optional integer "format" names the revision of the format.
//
// What is reported, and why:
//
//   - build dependencies (kind "build": build scripts, proc-macros) are not
//     linked into the executable and are skipped, as Trivy does;
//   - packages with source "local" (the application itself and its path
//     dependencies) are skipped: they are the user's own code, and their
//     names, which need not be unique outside the workspace, would match
//     unrelated crates.io advisories. A root package from a registry (a
//     binary installed with "cargo auditable install") is reported;
//   - when the data names a root, a package reached from it directly, or
//     only through local packages, is a direct dependency; every other one
//     is marked Indirect. Without a root (older writers) Indirect is unset.
package rust

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
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
	sectionName = ".dep-v0"
	minSize     = 1 << 10
	maxSize     = extract.DefaultMaxFileSize
	// maxSection caps the compressed section; real ones are a few KiB.
	maxSection = 8 << 20
	// maxJSON caps the inflated JSON, so that a zlib bomb costs nothing.
	maxJSON = 32 << 20
)

// New returns the extractor for cargo-auditable data in executables.
func New() extract.Extractor { return auditableExtractor{} }

type auditableExtractor struct{}

func (auditableExtractor) Name() string { return "rust-auditable" }
func (auditableExtractor) Version() int { return 1 }

// skipExt lists name suffixes of files that often carry an exec bit but are
// never executables.
var skipExt = []string{
	".sh", ".bash", ".py", ".pl", ".pm", ".rb", ".js", ".mjs", ".cjs", ".ts", ".php", ".lua", ".tcl",
	".txt", ".md", ".rst", ".html", ".htm", ".css", ".json", ".yaml", ".yml", ".toml", ".xml", ".ini",
	".conf", ".cfg", ".csv", ".c", ".h", ".rs", ".go", ".java", ".class", ".jar", ".war", ".pyc",
	".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".gz", ".tgz", ".xz", ".bz2", ".zst", ".zip",
	".pem", ".crt", ".key", ".a", ".o", ".rlib", ".la", ".pc", ".mo", ".po",
}

// Wants selects regular files that could be executables: an exec bit set (or
// a Windows ".exe"), a plausible size, and no name that marks a script or
// data file. Extract then checks the format.
func (auditableExtractor) Wants(p string, fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	if size := fi.Size(); size < minSize || size > maxSize {
		return false
	}
	ext := strings.ToLower(path.Ext(p))
	if ext == ".exe" {
		return true
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return false
	}
	for _, s := range skipExt {
		if ext == s {
			return false
		}
	}
	return true
}

// Extract reads the cargo-auditable data of an executable. Files that are
// not executables, or carry no such data, yield an empty result.
func (auditableExtractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Size < minSize || in.Size > maxSize {
		return &extract.Result{}, nil
	}
	sec, err := readSection(io.NewSectionReader(in.Reader, 0, in.Size))
	if err != nil {
		return nil, fmt.Errorf("rust: read %s section of %s: %w", sectionName, in.Path, err)
	}
	if sec == nil {
		return &extract.Result{}, nil
	}
	data, err := inflate(sec)
	if err != nil {
		return nil, fmt.Errorf("rust: inflate %s section of %s: %w", sectionName, in.Path, err)
	}
	pkgs, warns, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("rust: parse %s section of %s: %w", sectionName, in.Path, err)
	}
	res := &extract.Result{Packages: pkgs}
	for _, w := range warns {
		res.Warnings = append(res.Warnings, fmt.Sprintf("rust: %s: %s", in.Path, w))
	}
	return res, nil
}

// readSection returns the raw bytes of the .dep-v0 section, or nil when the
// file is no executable vigil can read or has no such section.
func readSection(r *io.SectionReader) ([]byte, error) {
	magic := make([]byte, 4)
	if _, err := r.ReadAt(magic, 0); err != nil {
		return nil, nil
	}
	switch {
	case bytes.Equal(magic, []byte("\x7fELF")):
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, nil
		}
		s := f.Section(sectionName)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		if s.FileSize > maxSection {
			return nil, fmt.Errorf("section is %d bytes, more than the %d allowed", s.FileSize, maxSection)
		}
		return readCapped(s.Open())
	case bytes.HasPrefix(magic, []byte("MZ")):
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, nil
		}
		s := f.Section(sectionName)
		if s == nil {
			return nil, nil
		}
		if s.Size > maxSection {
			return nil, fmt.Errorf("section is %d bytes, more than the %d allowed", s.Size, maxSection)
		}
		return readCapped(s.Open())
	case isMachO(magic):
		f, err := macho.NewFile(r)
		if err != nil {
			return nil, nil
		}
		return machoSection(f)
	case bytes.Equal(magic, []byte("\xca\xfe\xba\xbe")):
		ff, err := macho.NewFatFile(r)
		if err != nil {
			return nil, nil
		}
		for _, a := range ff.Arches {
			if b, err := machoSection(a.File); b != nil || err != nil {
				return b, err
			}
		}
	}
	return nil, nil
}

func isMachO(m []byte) bool {
	return (bytes.HasPrefix(m, []byte("\xfe\xed\xfa")) && (m[3] == 0xce || m[3] == 0xcf)) ||
		((m[0] == 0xce || m[0] == 0xcf) && bytes.Equal(m[1:], []byte("\xfa\xed\xfe")))
}

func machoSection(f *macho.File) ([]byte, error) {
	for _, s := range f.Sections {
		if s.Name != sectionName {
			continue
		}
		if s.Size > maxSection {
			return nil, fmt.Errorf("section is %d bytes, more than the %d allowed", s.Size, maxSection)
		}
		return readCapped(s.Open())
	}
	return nil, nil
}

func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSection+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSection {
		return nil, fmt.Errorf("section holds more than %d bytes", maxSection)
	}
	return b, nil
}

// inflate decompresses the zlib stream, refusing output beyond maxJSON.
func inflate(sec []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(sec))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJSON {
		return nil, fmt.Errorf("inflated data exceeds %d bytes", maxJSON)
	}
	return data, nil
}

type versionInfo struct {
	Packages []auditPackage `json:"packages"`
}

type auditPackage struct {
	Name         string          `json:"name"`
	Version      string          `json:"version"`
	Source       json.RawMessage `json:"source"`
	Kind         string          `json:"kind"`
	Dependencies []int           `json:"dependencies"`
	Root         bool            `json:"root"`
}

// isLocal reports whether a package's source is "local". The source is a
// string in current writers and may be an {"Other": "..."} object.
func (p *auditPackage) isLocal() bool {
	var s string
	if json.Unmarshal(p.Source, &s) != nil {
		return false
	}
	return strings.EqualFold(s, "local")
}

// parse turns the JSON into packages. Problems with single entries become
// warnings; a document that is not the expected JSON is an error.
func parse(data []byte) ([]inventory.Package, []string, error) {
	var vi versionInfo
	if err := json.Unmarshal(data, &vi); err != nil {
		return nil, nil, err
	}
	if vi.Packages == nil {
		return nil, nil, errors.New(`no "packages" array`)
	}
	var warns []string
	n := len(vi.Packages)
	valid := func(i int) bool { return i >= 0 && i < n }
	for i := range vi.Packages {
		for _, d := range vi.Packages[i].Dependencies {
			if !valid(d) {
				warns = append(warns, fmt.Sprintf("package %d (%s) depends on index %d, outside the %d packages; ignored", i, vi.Packages[i].Name, d, n))
			}
		}
	}
	direct := directSet(vi.Packages, valid)
	var out []inventory.Package
	for i := range vi.Packages {
		p := &vi.Packages[i]
		if p.Kind == "build" || p.isLocal() {
			continue
		}
		if p.Name == "" || p.Version == "" {
			warns = append(warns, fmt.Sprintf("package %d has no name or version (%q %q); skipped", i, p.Name, p.Version))
			continue
		}
		pkg := inventory.Package{Ecosystem: inventory.Cargo, Name: p.Name, Version: p.Version}
		if direct != nil && !p.Root && !direct[i] {
			pkg.Indirect = true
		}
		out = append(out, pkg)
	}
	return out, warns, nil
}

// directSet marks the packages the root depends on directly or through
// local packages only. It returns nil when no package is marked root.
func directSet(pkgs []auditPackage, valid func(int) bool) map[int]bool {
	root := -1
	for i := range pkgs {
		if pkgs[i].Root {
			root = i
			break
		}
	}
	if root < 0 {
		return nil
	}
	direct := map[int]bool{}
	seen := map[int]bool{root: true}
	queue := []int{root}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, d := range pkgs[i].Dependencies {
			if !valid(d) || seen[d] {
				continue
			}
			seen[d] = true
			direct[d] = true
			if pkgs[d].isLocal() {
				queue = append(queue, d)
			}
		}
	}
	return direct
}
