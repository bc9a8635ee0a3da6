// Package php finds Composer packages in an image: what Composer installed,
// from vendor/composer/installed.json (Composer 1 writes a bare JSON array
// of packages, Composer 2 an object with a "packages" array), and what an
// application locked, from composer.lock.
//
// Versions are reported as Composer's pretty version ("version") with a
// leading "v" dropped when a digit follows ("v5.4.0" -> "5.4.0"): tags
// carry the "v" but Packagist advisories (GHSA, FriendsOfPHP) name versions
// without it, and Composer's own normaliser drops it too. Branch versions
// ("dev-main", "1.x-dev") are kept as written; version_normalized
// ("5.4.0.0", "9999999-dev") is not used because reports and advisories
// both use the pretty form.
package php

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// maxJSON caps installed.json and composer.lock; large applications have a
// few MiB.
const maxJSON = 64 << 20

type installedExtractor struct{}

// New returns the extractor for Composer's vendor/composer/installed.json.
// Packages installed as dev requirements are installed all the same and are
// reported.
func New() extract.Extractor { return installedExtractor{} }

func (installedExtractor) Name() string { return "composer-installed" }
func (installedExtractor) Version() int { return 1 }

// Wants takes installed.json in a directory named composer (the vendor
// directory's name is configurable, "composer" inside it is not).
func (installedExtractor) Wants(p string, fi fs.FileInfo) bool {
	if path.Base(p) != "installed.json" || path.Base(path.Dir(p)) != "composer" {
		return false
	}
	return sizeOK(fi)
}

func (installedExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	b, err := readAll(in)
	if err != nil {
		return nil, fmt.Errorf("php: read %s: %w", in.Path, err)
	}
	entries, err := parseInstalled(b)
	if err != nil {
		return nil, fmt.Errorf("php: parse %s: %w (is it Composer's installed.json?)", in.Path, err)
	}
	return result(entries), nil
}

type lockExtractor struct{}

// NewLockfile returns the extractor for composer.lock. It reports the
// "packages" section; "packages-dev" holds development requirements that
// a production install (composer install --no-dev) leaves out, so they are
// not reported from the lockfile (installed.json shows them when they are
// installed).
func NewLockfile() extract.Extractor { return lockExtractor{} }

func (lockExtractor) Name() string { return "composer-lock" }
func (lockExtractor) Version() int { return 1 }

func (lockExtractor) Wants(p string, fi fs.FileInfo) bool {
	return path.Base(p) == "composer.lock" && sizeOK(fi)
}

func (lockExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	b, err := readAll(in)
	if err != nil {
		return nil, fmt.Errorf("php: read %s: %w", in.Path, err)
	}
	var lock struct {
		Packages []entry `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("php: parse %s: %w (is it a composer.lock?)", in.Path, err)
	}
	return result(lock.Packages), nil
}

func sizeOK(fi fs.FileInfo) bool {
	return fi == nil || (fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= maxJSON)
}

func readAll(in *extract.Input) ([]byte, error) {
	if in.Size > maxJSON {
		return nil, fmt.Errorf("%d bytes exceeds the %d-byte limit; skipped", in.Size, maxJSON)
	}
	b := make([]byte, in.Size)
	n, err := in.Reader.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return bytes.TrimPrefix(b[:n], []byte("\ufeff")), nil // encoding/json rejects a byte order mark
}

// entry is one package record of installed.json or composer.lock.
type entry struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	License licenses `json:"license"`
}

// licenses accepts Composer's license field as an array of strings or, in
// old packages, a single string.
type licenses []string

func (l *licenses) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one != "" {
			*l = licenses{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil // a license field of another shape is ignored, not fatal
	}
	*l = many
	return nil
}

// parseInstalled reads both installed.json layouts.
func parseInstalled(b []byte) ([]entry, error) {
	var v2 struct {
		Packages *[]entry `json:"packages"`
	}
	var v1 []entry
	switch trimmed := strings.TrimLeft(string(b[:min(len(b), 64)]), " \t\r\n"); {
	case strings.HasPrefix(trimmed, "["):
		if err := json.Unmarshal(b, &v1); err != nil {
			return nil, err
		}
		return v1, nil
	case strings.HasPrefix(trimmed, "{"):
		if err := json.Unmarshal(b, &v2); err != nil {
			return nil, err
		}
		if v2.Packages == nil {
			return nil, errors.New(`no "packages" array`)
		}
		return *v2.Packages, nil
	}
	return nil, errors.New("neither a JSON array nor an object")
}

// result turns entries into packages, skipping (with a warning) entries
// without a valid name or version and repeated ones.
func result(entries []entry) *extract.Result {
	res := &extract.Result{}
	seen := map[string]bool{}
	for i, e := range entries {
		v := prettyVersion(e.Version)
		if !validName(e.Name) || !validVersion(v) {
			if len(res.Warnings) < 20 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("package %d (%q %q): no valid name and version; skipped", i, e.Name, e.Version))
			}
			continue
		}
		if k := e.Name + "@" + v; seen[k] {
			continue
		} else {
			seen[k] = true
		}
		vendor, name, _ := strings.Cut(e.Name, "/")
		var lic []string
		for _, l := range e.License {
			if l = strings.TrimSpace(l); l != "" {
				lic = append(lic, l)
			}
		}
		res.Packages = append(res.Packages, inventory.Package{
			Ecosystem: inventory.Composer,
			Name:      e.Name,
			Version:   v,
			Licenses:  lic,
			PURL:      packageurl.NewPackageURL(packageurl.TypeComposer, vendor, name, v, nil, "").ToString(),
		})
	}
	return res
}

// prettyVersion drops a leading "v" before a digit.
func prettyVersion(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// validName reports whether s is a Composer package name: "vendor/package",
// each part lowercase letters, digits and the separators '.', '_', '-'
// (Composer's own pattern, with upper case tolerated for old packages).
func validName(s string) bool {
	vendor, pkg, ok := strings.Cut(s, "/")
	return ok && len(s) <= 200 && namePart(vendor) && namePart(pkg)
}

func namePart(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validVersion accepts one printable token.
func validVersion(v string) bool {
	if v == "" || len(v) > 200 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return false
		}
	}
	return true
}
