// Package ruby finds Ruby gems in an image: installed gems from the
// specification files RubyGems writes for them (specifications/*.gemspec
// under any gem home, including Ruby's default gems in
// specifications/default/, Debian's rubygems-integration and Bundler's
// vendor/bundle), and an application's locked gems from Gemfile.lock.
//
// Installed gemspecs are Ruby source. Like its peers, vigil does not run
// them; it reads the literal assignments RubyGems generates
// ("s.name = "rake".freeze", "s.version = "13.0.6"", "s.licenses =
// ["MIT".freeze]"), with the "# stub:" header line as a fallback, and skips
// a file whose name or version is computed.
package ruby

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// maxGemspec caps a gemspec; installed ones are a few KiB (their files lists
// can reach a few hundred KiB).
const maxGemspec = 4 << 20

type gemspecExtractor struct{}

// New returns the extractor for installed gems' specification files.
func New() extract.Extractor { return gemspecExtractor{} }

func (gemspecExtractor) Name() string { return "gemspec" }
func (gemspecExtractor) Version() int { return 1 }

// Wants takes *.gemspec files inside a directory named specifications (or
// below one: specifications/default/ holds Ruby's default gems).
func (gemspecExtractor) Wants(p string, fi fs.FileInfo) bool {
	if !strings.HasSuffix(p, ".gemspec") || !(strings.HasPrefix(p, "specifications/") || strings.Contains(p, "/specifications/")) {
		return false
	}
	return sizeOK(fi, maxGemspec)
}

func (gemspecExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	b, err := readAll(in, maxGemspec)
	if err != nil {
		return nil, fmt.Errorf("ruby: read gemspec %s: %w", in.Path, err)
	}
	g, err := parseGemspec(b)
	if err != nil {
		return nil, fmt.Errorf("ruby: parse gemspec %s: %w", in.Path, err)
	}
	return &extract.Result{Packages: []inventory.Package{g.pkg()}}, nil
}

func sizeOK(fi fs.FileInfo, max int64) bool {
	return fi == nil || (fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= max)
}

// readAll reads an input within a size cap.
func readAll(in *extract.Input, max int64) ([]byte, error) {
	if in.Size > max {
		return nil, fmt.Errorf("%d bytes exceeds the %d-byte limit; skipped", in.Size, max)
	}
	b := make([]byte, in.Size)
	n, err := in.Reader.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b[:n], nil
}

// gem is one gem found in a file.
type gem struct {
	Name, Version string
	Licenses      []string
	Indirect      bool
}

func (g gem) pkg() inventory.Package {
	return inventory.Package{
		Ecosystem: inventory.Gem,
		Name:      g.Name,
		Version:   g.Version,
		Licenses:  g.Licenses,
		Indirect:  g.Indirect,
		PURL:      packageurl.NewPackageURL(packageurl.TypeGem, "", g.Name, g.Version, nil, "").ToString(),
	}
}

// validName reports whether s is a gem name RubyGems accepts: letters,
// digits, '.', '-' and '_', with at least one letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	alnum := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			alnum = true
		case c == '.' || c == '-' || c == '_':
		default:
			return false
		}
	}
	return alnum
}

// validVersion reports whether s matches Gem::Version's pattern: a number,
// then dot-separated alphanumeric segments, then an optional "-pre.release"
// part ("1.2.3", "2.0.0.rc1", "1.0.0-beta.2").
func validVersion(s string) bool {
	if s == "" || len(s) > 200 || s[0] < '0' || s[0] > '9' {
		return false
	}
	dash := strings.IndexByte(s, '-')
	main, pre := s, ""
	if dash >= 0 {
		main, pre = s[:dash], s[dash+1:]
		if pre == "" {
			return false
		}
	}
	for i, seg := range strings.Split(main, ".") {
		if seg == "" || !isAlnum(seg, false) || (i == 0 && strings.IndexFunc(seg, notDigit) >= 0) {
			return false
		}
	}
	if dash >= 0 {
		for _, seg := range strings.Split(pre, ".") {
			if seg == "" || !isAlnum(seg, true) {
				return false
			}
		}
	}
	return true
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

func isAlnum(s string, dash bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case dash && c == '-':
		default:
			return false
		}
	}
	return true
}

// insideInstalledGem reports whether p lies inside an unpacked gem
// (".../gems/<name>-<version>/..."): a Gemfile.lock there is the gem's own
// development lockfile, not something the image runs.
func insideInstalledGem(p string) bool {
	dir := path.Dir(p)
	for dir != "." && dir != "/" && dir != "" {
		parent := path.Dir(dir)
		if path.Base(parent) == "gems" {
			return true
		}
		dir = parent
	}
	return false
}
