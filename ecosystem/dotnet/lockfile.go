package dotnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

type lockExtractor struct{}

// NewLockfile returns the extractor for NuGet's packages.lock.json. It
// reports the Direct, Transitive and CentralTransitive dependencies of every
// target framework once each (Transitive and CentralTransitive ones as
// Indirect unless some framework lists them as Direct); Project entries are
// the solution's own projects and are skipped.
func NewLockfile() extract.Extractor { return lockExtractor{} }

func (lockExtractor) Name() string { return "nuget-packages-lock" }
func (lockExtractor) Version() int { return 1 }

func (lockExtractor) Wants(p string, fi fs.FileInfo) bool {
	return path.Base(p) == "packages.lock.json" && sizeOK(fi)
}

type lockDep struct {
	Type     string `json:"type"`
	Resolved string `json:"resolved"`
}

func (lockExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	b, err := readAll(in)
	if err != nil {
		return nil, fmt.Errorf("dotnet: read %s: %w", in.Path, err)
	}
	pkgs, warnings, err := parseLock(b)
	if err != nil {
		return nil, fmt.Errorf("dotnet: parse %s: %w (is it NuGet's packages.lock.json?)", in.Path, err)
	}
	return &extract.Result{Packages: pkgs, Warnings: warnings}, nil
}

func parseLock(b []byte) ([]inventory.Package, []string, error) {
	var lock struct {
		Version      int                           `json:"version"`
		Dependencies map[string]map[string]lockDep `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, nil, err
	}
	if lock.Dependencies == nil {
		return nil, nil, errors.New(`no "dependencies" object`)
	}
	type key struct{ name, version string }
	indirect := map[key]bool{}
	var warnings []string
	for _, fw := range sortedKeys(lock.Dependencies) {
		deps := lock.Dependencies[fw]
		for _, name := range sortedKeys(deps) {
			d := deps[name]
			var isIndirect bool
			switch d.Type {
			case "Direct":
			case "Transitive", "CentralTransitive":
				isIndirect = true
			default:
				continue // "Project" and anything newer
			}
			if !validName(name) || !validVersion(d.Resolved) {
				if len(warnings) < 20 {
					warnings = append(warnings, fmt.Sprintf("dependency %q %q: no valid name and resolved version; skipped", name, d.Resolved))
				}
				continue
			}
			k := key{name, d.Resolved}
			if prev, seen := indirect[k]; seen {
				isIndirect = prev && isIndirect
			}
			indirect[k] = isIndirect
		}
	}
	keys := make([]key, 0, len(indirect))
	for k := range indirect {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].version < keys[j].version
	})
	pkgs := make([]inventory.Package, 0, len(keys))
	for _, k := range keys {
		p := nugetPackage(k.name, k.version)
		p.Indirect = indirect[k]
		pkgs = append(pkgs, p)
	}
	return pkgs, warnings, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
