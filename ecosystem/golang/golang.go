// Package golang finds the Go modules compiled into Go executables. The Go
// linker embeds the module graph (main module, every dependency with its
// replacement, and the toolchain version) in every binary built with module
// support; debug/buildinfo reads it back even from stripped binaries.
//
// What one binary yields:
//
//   - the main module, with its stamped version. A "(devel)" version (the
//     default for "go build" in a checkout before Go 1.24, or without VCS
//     information) is reported as an empty Version, as Trivy does: it names no
//     release that an advisory could be compared with.
//   - every dependency. For a replaced module the replacement is what was
//     compiled, so Name and Version are the replacement's path and version,
//     and SourceName and SourceVersion keep the original requirement (the
//     module path the code imports). A matcher keys on Name/Version; a
//     report or PURL qualifier can show the original. A replacement by a
//     local directory ("=> ../fork") has no module identity of its own: Name
//     is then the original path, Version is empty (the fork is no release)
//     and SourceVersion keeps the version that was replaced.
//   - a "stdlib" package with Toolchain set and the toolchain version in the
//     form the Go vulnerability database uses ("go1.26.8" becomes
//     "v1.26.8", "go1.22rc1" becomes "v1.22.0-rc.1"); GOEXPERIMENT suffixes
//     such as " X:boringcrypto" are dropped, and development toolchains
//     ("devel ...") give an empty Version.
//
// Whether a dependency is direct or indirect is not recorded in binaries, so
// Indirect is never set.
package golang

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime/debug"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

const (
	// minSize is below the size of any Go executable; smaller files are
	// never read.
	minSize = 1 << 10
	// maxSize caps the binaries read.
	maxSize = extract.DefaultMaxFileSize
	// develVersion is what the go command stamps when it knows no version.
	develVersion = "(devel)"
	// StdlibName is the package name of the Go standard library pseudo-package.
	StdlibName = "stdlib"
)

// New returns the Go binary extractor.
func New() extract.Extractor { return binaryExtractor{} }

type binaryExtractor struct{}

func (binaryExtractor) Name() string { return "go-binary" }
func (binaryExtractor) Version() int { return 1 }

// skipExt lists name suffixes of files that often carry an exec bit but are
// never executables (scripts, text, data, archives).
var skipExt = []string{
	".sh", ".bash", ".py", ".pl", ".pm", ".rb", ".js", ".mjs", ".cjs", ".ts", ".php", ".lua", ".tcl",
	".txt", ".md", ".rst", ".html", ".htm", ".css", ".json", ".yaml", ".yml", ".toml", ".xml", ".ini",
	".conf", ".cfg", ".csv", ".c", ".h", ".go", ".java", ".class", ".jar", ".war", ".pyc",
	".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".gz", ".tgz", ".xz", ".bz2", ".zst", ".zip",
	".pem", ".crt", ".key", ".a", ".o", ".la", ".pc", ".mo", ".po",
}

// Wants selects regular files that could be executables: an exec bit set (or
// a Windows ".exe"), a plausible size, and no name that marks a script or
// data file. Extract then checks the magic number.
func (binaryExtractor) Wants(p string, fi fs.FileInfo) bool {
	return wantsExecutable(p, fi)
}

func wantsExecutable(p string, fi fs.FileInfo) bool {
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

// isExecutable reports whether the first bytes are an ELF, PE or Mach-O
// (thin or fat) magic number: the formats Go binaries for container
// platforms come in.
func isExecutable(magic []byte) bool {
	switch {
	case bytes.HasPrefix(magic, []byte("\x7fELF")):
		return true
	case bytes.HasPrefix(magic, []byte("MZ")):
		return true
	case bytes.HasPrefix(magic, []byte("\xfe\xed\xfa")) && len(magic) >= 4 && (magic[3] == 0xce || magic[3] == 0xcf):
		return true
	case len(magic) >= 4 && (magic[0] == 0xce || magic[0] == 0xcf) && bytes.Equal(magic[1:4], []byte("\xfa\xed\xfe")):
		return true
	case bytes.HasPrefix(magic, []byte("\xca\xfe\xba\xbe")):
		return true
	}
	return false
}

// Extract reads the build information of a Go executable. Files that are
// not Go executables yield an empty result and no error.
func (binaryExtractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Size < minSize || in.Size > maxSize {
		return &extract.Result{}, nil
	}
	r := io.NewSectionReader(in.Reader, 0, in.Size)
	magic := make([]byte, 4)
	if _, err := r.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("golang: read %s: %w", in.Path, err)
	}
	if !isExecutable(magic) {
		return &extract.Result{}, nil
	}
	bi, err := buildinfo.Read(r)
	if err != nil {
		if notGo(err) {
			return &extract.Result{}, nil
		}
		return &extract.Result{Warnings: []string{
			fmt.Sprintf("golang: read build info of %s: %v; the binary's Go modules are not reported", in.Path, err),
		}}, nil
	}
	return &extract.Result{Packages: packages(bi)}, nil
}

// notGo reports whether buildinfo.Read failed because the file is not a Go
// executable (or not an object file it understands), as opposed to a Go
// executable whose build information is damaged. debug/buildinfo does not
// export these errors, so their stable messages are compared.
func notGo(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "not a Go executable") ||
		strings.Contains(msg, "unrecognized file format") ||
		strings.Contains(msg, "address not mapped")
}

// packages turns build information into inventory packages: the main
// module, the dependencies in build-info order, then the standard library.
func packages(bi *debug.BuildInfo) []inventory.Package {
	var out []inventory.Package
	if bi.Main.Path != "" {
		out = append(out, inventory.Package{
			Ecosystem: inventory.Go,
			Name:      bi.Main.Path,
			Version:   moduleVersion(bi.Main.Version),
		})
	}
	for _, d := range bi.Deps {
		if d == nil || d.Path == "" {
			continue
		}
		out = append(out, dependency(d))
	}
	if bi.GoVersion != "" {
		out = append(out, inventory.Package{
			Ecosystem: inventory.Go,
			Name:      StdlibName,
			Version:   StdlibVersion(bi.GoVersion),
			Toolchain: true,
		})
	}
	return out
}

func dependency(d *debug.Module) inventory.Package {
	p := inventory.Package{Ecosystem: inventory.Go, Name: d.Path, Version: moduleVersion(d.Version)}
	r := d.Replace
	if r == nil {
		return p
	}
	p.SourceName, p.SourceVersion = d.Path, moduleVersion(d.Version)
	if moduleVersion(r.Version) == "" {
		// A directory replacement (stamped "(devel)"): the code is a
		// local copy of d.Path at no known release.
		p.Version = ""
		return p
	}
	if r.Path != "" {
		p.Name = r.Path
	}
	p.Version = moduleVersion(r.Version)
	return p
}

func moduleVersion(v string) string {
	if v == develVersion {
		return ""
	}
	return v
}

// StdlibVersion converts a Go toolchain version as the runtime reports it
// ("go1.26.8", "go1.21", "go1.22rc1", "go1.21.0 X:boringcrypto") into the
// semantic version the Go vulnerability database uses for the standard
// library ("v1.26.8", "v1.21.0", "v1.22.0-rc.1", "v1.21.0"). It returns ""
// for development toolchains and anything else it does not recognise.
func StdlibVersion(goVersion string) string {
	v, _, _ := strings.Cut(strings.TrimSpace(goVersion), " ")
	v, ok := strings.CutPrefix(v, "go")
	if !ok {
		return ""
	}
	var nums []string
	for len(nums) < 3 {
		n := leadingDigits(v)
		if n == "" {
			break
		}
		nums = append(nums, n)
		v = v[len(n):]
		if len(nums) < 3 && strings.HasPrefix(v, ".") && leadingDigits(v[1:]) != "" {
			v = v[1:]
			continue
		}
		break
	}
	if len(nums) < 2 && !(len(nums) == 1 && nums[0] == "1") {
		return ""
	}
	for len(nums) < 3 {
		nums = append(nums, "0")
	}
	out := "v" + strings.Join(nums, ".")
	for _, pre := range []string{"rc", "beta", "alpha"} {
		if rest, ok := strings.CutPrefix(v, pre); ok {
			if n := leadingDigits(rest); n != "" {
				out += "-" + pre + "." + n
			}
			break
		}
	}
	return out
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
