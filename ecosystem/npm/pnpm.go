package npm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/inventory"
)

// pnpmLock is pnpm-lock.yaml. Package keys differ by lockfile version:
//
//	v5: /lodash/4.17.21, /@babel/core/7.0.0_supports-color@8.1.1
//	v6: /lodash@4.17.21, /@babel/core@7.0.0(supports-color@8.1.1)
//	v9: lodash@4.17.21 under "packages", with peer variants under "snapshots"
//
// v5 and v6 flag development-only packages with "dev: true"; v9 does not, so
// there the production set is what the importers' dependencies and
// optionalDependencies reach through the snapshots.
type pnpmLock struct {
	LockfileVersion string                  `yaml:"lockfileVersion"`
	Importers       map[string]pnpmImporter `yaml:"importers"`
	Packages        map[string]pnpmPackage  `yaml:"packages"`
	Snapshots       map[string]pnpmSnapshot `yaml:"snapshots"`
}

type pnpmImporter struct {
	Dependencies         map[string]yaml.Node `yaml:"dependencies"`
	OptionalDependencies map[string]yaml.Node `yaml:"optionalDependencies"`
}

type pnpmPackage struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	Dev        *bool  `yaml:"dev"`
	Resolution struct {
		Directory string `yaml:"directory"`
	} `yaml:"resolution"`
}

type pnpmSnapshot struct {
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

func parsePnpmLock(data []byte) ([]inventory.Package, []string, error) {
	var lock pnpmLock
	if err := yaml.Unmarshal(data, &lock); err != nil {
		return nil, nil, err
	}
	if lock.LockfileVersion == "" {
		return nil, nil, errors.New(`no "lockfileVersion": not a pnpm lock file`)
	}
	major, err := strconv.ParseFloat(strings.Trim(lock.LockfileVersion, "'\""), 64)
	if err != nil {
		return nil, nil, fmt.Errorf("lockfileVersion %q: %w", lock.LockfileVersion, err)
	}
	var prod map[string]bool
	if major >= 9 && len(lock.Importers) > 0 {
		prod = lock.production()
	}
	var pkgs []inventory.Package
	var warns []string
	for _, key := range sortedKeys(lock.Packages) {
		e := lock.Packages[key]
		if e.Resolution.Directory != "" || (e.Dev != nil && *e.Dev) {
			continue
		}
		var name, version string
		if major < 6 {
			name, version = pnpmV5Key(key)
		} else {
			name, version = pnpmKey(key)
		}
		if prod != nil && !prod[name+"@"+version] {
			continue
		}
		if e.Name != "" && e.Version != "" {
			// Tarball and git dependencies: the key is a URL or path.
			name, version = e.Name, e.Version
		}
		if isLocalProtocol(version) {
			continue
		}
		if name == "" || version == "" {
			warns = append(warns, fmt.Sprintf("package %q: no name and version in key or entry; skipped", truncate(key)))
			continue
		}
		pkgs = append(pkgs, npmPackage(name, version))
	}
	return pkgs, warns, nil
}

// stripPeers drops the peer-dependency suffix of a v6/v9 key or version:
// "7.0.0(supports-color@8.1.1)" -> "7.0.0".
func stripPeers(s string) string {
	if i := strings.IndexByte(s, '('); i >= 0 {
		return s[:i]
	}
	return s
}

// pnpmKey splits a v6 or v9 package key into name and version.
func pnpmKey(key string) (string, string) {
	name, version, ok := splitSpec(stripPeers(strings.TrimPrefix(key, "/")))
	if !ok {
		return "", ""
	}
	return name, version
}

// pnpmV5Key splits a v5 package key ("/@scope/name/1.0.0_peer@2.0.0").
func pnpmV5Key(key string) (string, string) {
	k, ok := strings.CutPrefix(key, "/")
	if !ok {
		return "", ""
	}
	i := strings.LastIndexByte(k, '/')
	if i <= 0 {
		return "", ""
	}
	version, _, _ := strings.Cut(k[i+1:], "_")
	return k[:i], version
}

// depVersion reads an importer dependency: a plain version (v5) or a
// {specifier, version} mapping (v6, v9).
func depVersion(n yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.MappingNode:
		var m struct {
			Version string `yaml:"version"`
		}
		if n.Decode(&m) == nil {
			return m.Version
		}
	}
	return ""
}

// snapshotKey is the snapshot a dependency "name: version" points at. The
// version may carry peers ("18.2.0(react@18.2.0)"), name an alias target
// ("string-width@4.2.3"), or link to a local directory ("link:../x").
func snapshotKey(name, version string) string {
	if version == "" || isLocalProtocol(version) {
		return ""
	}
	if strings.Contains(stripPeers(version), "@") {
		return version
	}
	return name + "@" + version
}

// production returns the "name@version" package keys that production and
// optional dependencies of the importers reach (v9).
func (l *pnpmLock) production() map[string]bool {
	seen := map[string]bool{}
	var queue []string
	push := func(name, version string) {
		if k := snapshotKey(name, version); k != "" && !seen[k] {
			seen[k] = true
			queue = append(queue, k)
		}
	}
	for _, id := range sortedKeys(l.Importers) {
		imp := l.Importers[id]
		for _, deps := range []map[string]yaml.Node{imp.Dependencies, imp.OptionalDependencies} {
			for _, name := range sortedKeys(deps) {
				push(name, depVersion(deps[name]))
			}
		}
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		s := l.Snapshots[k]
		for _, deps := range []map[string]string{s.Dependencies, s.OptionalDependencies} {
			for _, name := range sortedKeys(deps) {
				push(name, deps[name])
			}
		}
	}
	prod := map[string]bool{}
	for k := range seen {
		if name, version := pnpmKey(k); name != "" {
			prod[name+"@"+version] = true
		}
	}
	return prod
}
