package npm

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// maxLockfile caps the size of a lock file; the largest monorepo lock
// files are tens of MiB.
const maxLockfile = 64 << 20

// NewLockfiles returns the extractor of npm, Yarn and pnpm lock files
// ("package-lock.json" v1–v3, "npm-shrinkwrap.json", "yarn.lock" classic
// and Berry, "pnpm-lock.yaml" v5, v6 and v9). It is meant for scans of a
// source checkout or root file system ("vigil rootfs"), where dependencies
// may be pinned but not installed; image scans report what node_modules
// holds (New) instead, and adding both reports installed packages twice.
//
// Lock files inside node_modules (npm's own "node_modules/.package-lock.json"
// and lock files that packages happen to ship) describe no installation of
// the application and are skipped. Entries a lock file marks as development
// dependencies are skipped: "dev": true in package-lock.json, "dev: true" in
// pnpm v5/v6, and, in pnpm v9, packages no production or optional
// dependency of any importer reaches. yarn.lock does not record dev
// dependencies, so every entry is reported. Workspace packages, links and
// local directories (the application's own code) are skipped, as in New.
// Lock files record no licences except package-lock.json v2/v3.
func NewLockfiles() extract.Extractor { return lockExtractor{} }

type lockExtractor struct{}

func (lockExtractor) Name() string { return "npm-lockfile" }
func (lockExtractor) Version() int { return 1 }

func lockKind(p string) string {
	switch b := path.Base(p); b {
	case "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml":
		return b
	}
	return ""
}

// Wants selects lock files outside node_modules.
func (lockExtractor) Wants(p string, fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() || fi.Size() > maxLockfile || lockKind(p) == "" {
		return false
	}
	return !strings.HasPrefix(p, "node_modules/") && !strings.Contains(p, "/node_modules/")
}

// Extract reads one lock file.
func (lockExtractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := readCapped(in, maxLockfile)
	if err != nil {
		return nil, fmt.Errorf("npm: read %s: %w", in.Path, err)
	}
	var pkgs []inventory.Package
	var warns []string
	switch lockKind(in.Path) {
	case "yarn.lock":
		pkgs, warns, err = parseYarnLock(data)
	case "pnpm-lock.yaml":
		pkgs, warns, err = parsePnpmLock(data)
	default:
		pkgs, warns, err = parsePackageLock(data)
	}
	if err != nil {
		return nil, fmt.Errorf("npm: parse lock file %s: %w", in.Path, err)
	}
	res := &extract.Result{Packages: pkgs}
	for _, w := range warns {
		res.Warnings = append(res.Warnings, fmt.Sprintf("npm: %s: %s", in.Path, w))
	}
	return res, nil
}

// splitSpec splits "name@rest" where name may be scoped ("@s/n@1.0.0").
// ok is false when there is no version part.
func splitSpec(spec string) (name, rest string, ok bool) {
	if len(spec) < 2 {
		return spec, "", false
	}
	i := strings.IndexByte(spec[1:], '@')
	if i < 0 {
		return spec, "", false
	}
	return spec[:i+1], spec[i+2:], true
}

// isLocalProtocol reports whether a dependency specifier or resolution
// points at the user's own files rather than a published package.
func isLocalProtocol(s string) bool {
	for _, p := range []string{"file:", "link:", "portal:", "workspace:"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func npmPackage(name, version string) inventory.Package {
	return inventory.Package{Ecosystem: inventory.NPM, Name: name, Version: version}
}

// sortedKeys returns a map's keys in order, so output is deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
