// Package npm finds Node.js packages: the ones installed in node_modules
// trees (New), and, for scans of a source checkout or root file system, the
// ones a lock file pins (NewLockfiles).
//
// Installed packages are read from the package.json directly inside a
// "node_modules/<name>/" or "node_modules/@scope/<name>/" directory, at any
// depth ("node_modules/optimist/node_modules/minimist/package.json"; pnpm's
// "node_modules/.pnpm/<id>/node_modules/<name>/package.json" too). A
// package.json deeper inside a package ("node_modules/x/lib/package.json",
// which some packages ship to describe sub-exports) is not a package and is
// never read. The application's own package.json, and workspace packages
// (which npm links into node_modules with a symbolic link, never walked),
// are the user's code, not dependencies, and are not reported; their
// dependencies are. Name comes from the manifest (an aliased install,
// "npm i foo@npm:bar", is the package bar in directory foo), falling back to
// the directory name; licences from "license" (a string or a {"type"}
// object) and the legacy "licenses" array. Whether a package is a direct
// dependency is not known from the tree, so Indirect is never set.
package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// maxManifest caps the size of one package.json.
const maxManifest = 8 << 20

// New returns the extractor of installed node_modules packages.
func New() extract.Extractor { return treeExtractor{} }

type treeExtractor struct{}

func (treeExtractor) Name() string { return "npm" }
func (treeExtractor) Version() int { return 1 }

// Wants selects package.json files that sit directly in a package directory
// of a node_modules tree.
func (treeExtractor) Wants(p string, fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Size() <= maxManifest && installedManifest(p)
}

// installedManifest reports whether p is "…node_modules/<name>/package.json"
// or "…node_modules/@scope/<name>/package.json".
func installedManifest(p string) bool {
	if p != "package.json" && !strings.HasSuffix(p, "/package.json") {
		return false
	}
	dir := path.Dir(p)
	name, parent := path.Base(dir), path.Dir(dir)
	if name == "" || name[0] == '.' || name[0] == '@' || name == "node_modules" {
		return false
	}
	if path.Base(parent) == "node_modules" {
		return true
	}
	scope := path.Base(parent)
	return len(scope) > 1 && scope[0] == '@' && path.Base(path.Dir(parent)) == "node_modules"
}

// dirName returns the package name the directory of an installed
// package.json spells ("@scope/name" or "name").
func dirName(p string) string {
	dir := path.Dir(p)
	name, scope := path.Base(dir), path.Base(path.Dir(dir))
	if strings.HasPrefix(scope, "@") {
		return scope + "/" + name
	}
	return name
}

// manifest is the part of package.json vigil reads.
type manifest struct {
	Name     json.RawMessage `json:"name"`
	Version  json.RawMessage `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// Extract reads one installed package.json.
func (treeExtractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := readCapped(in, maxManifest)
	if err != nil {
		return nil, fmt.Errorf("npm: read %s: %w", in.Path, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("npm: parse %s: %w", in.Path, err)
	}
	name, version := jsonString(m.Name), jsonString(m.Version)
	if name == "" {
		name = dirName(in.Path)
	}
	if version == "" {
		return &extract.Result{Warnings: []string{
			fmt.Sprintf("npm: %s has no version; package %s skipped", in.Path, name),
		}}, nil
	}
	return &extract.Result{Packages: []inventory.Package{{
		Ecosystem: inventory.NPM,
		Name:      name,
		Version:   version,
		Licenses:  licenses(m.License, m.Licenses),
	}}}, nil
}

// readCapped reads the whole input, refusing files above limit.
func readCapped(in *extract.Input, limit int64) ([]byte, error) {
	if in.Size > limit {
		return nil, fmt.Errorf("file is %d bytes, more than the %d allowed", in.Size, limit)
	}
	return io.ReadAll(io.NewSectionReader(in.Reader, 0, in.Size))
}

// jsonString returns the trimmed string a raw JSON value holds, or "" when
// it is absent or no string.
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// licenses collects licence names from the "license" field (a string, a
// {"type": ...} object, or, in the wild, an array of either) and the legacy
// "licenses" array, in order and without duplicates.
func licenses(fields ...json.RawMessage) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	var one func(raw json.RawMessage, depth int)
	one = func(raw json.RawMessage, depth int) {
		if len(raw) == 0 {
			return
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			add(s)
			return
		}
		var obj struct {
			Type json.RawMessage `json:"type"`
			Name json.RawMessage `json:"name"`
		}
		if raw[0] == '{' && json.Unmarshal(raw, &obj) == nil {
			if t := jsonString(obj.Type); t != "" {
				add(t)
			} else {
				add(jsonString(obj.Name))
			}
			return
		}
		var list []json.RawMessage
		if depth == 0 && raw[0] == '[' && json.Unmarshal(raw, &list) == nil {
			for _, e := range list {
				one(e, depth+1)
			}
		}
	}
	for _, f := range fields {
		one(f, 0)
	}
	return out
}
