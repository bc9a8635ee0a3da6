package npm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/inventory"
)

// packageLock is package-lock.json / npm-shrinkwrap.json. Version 1 has only
// the nested "dependencies" tree; version 2 has both; version 3 has only the
// flat "packages" map keyed by install path ("node_modules/a/node_modules/b").
type packageLock struct {
	LockfileVersion int                    `json:"lockfileVersion"`
	Packages        map[string]lockPackage `json:"packages"`
	Dependencies    map[string]lockDep     `json:"dependencies"`
}

type lockPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	License json.RawMessage `json:"license"`
	Dev     bool            `json:"dev"`
	Link    bool            `json:"link"`
}

type lockDep struct {
	Version      string             `json:"version"`
	Dev          bool               `json:"dev"`
	Dependencies map[string]lockDep `json:"dependencies"`
}

func parsePackageLock(data []byte) ([]inventory.Package, []string, error) {
	var lock packageLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, nil, err
	}
	if lock.Packages != nil {
		pkgs, warns := lockPackages(lock.Packages)
		return pkgs, warns, nil
	}
	if lock.Dependencies != nil {
		var pkgs []inventory.Package
		var warns []string
		lockDeps(lock.Dependencies, &pkgs, &warns)
		return pkgs, warns, nil
	}
	if lock.LockfileVersion == 0 {
		return nil, nil, errors.New(`no "lockfileVersion", "packages" or "dependencies": not a package-lock.json`)
	}
	return nil, nil, nil
}

// lockPackages reads the v2/v3 "packages" map.
func lockPackages(m map[string]lockPackage) ([]inventory.Package, []string) {
	var pkgs []inventory.Package
	var warns []string
	const nm = "node_modules/"
	for _, key := range sortedKeys(m) {
		e := m[key]
		i := strings.LastIndex(key, nm)
		// The root ("") and workspace folders ("packages/a") are the
		// application's code; links point at them.
		if i < 0 || (i > 0 && key[i-1] != '/') || e.Link || e.Dev {
			continue
		}
		name := e.Name
		if name == "" {
			name = key[i+len(nm):]
		}
		if e.Version == "" {
			warns = append(warns, fmt.Sprintf("entry %q has no version; skipped", key))
			continue
		}
		p := npmPackage(name, e.Version)
		p.Licenses = licenses(e.License)
		pkgs = append(pkgs, p)
	}
	return pkgs, warns
}

// lockDeps walks the v1 nested "dependencies" tree.
func lockDeps(m map[string]lockDep, pkgs *[]inventory.Package, warns *[]string) {
	for _, name := range sortedKeys(m) {
		d := m[name]
		if !d.Dev {
			p, ok, warn := v1Package(name, d.Version)
			if warn != "" {
				*warns = append(*warns, warn)
			}
			if ok {
				*pkgs = append(*pkgs, p)
			}
		}
		lockDeps(d.Dependencies, pkgs, warns)
	}
}

// v1Package interprets a v1 entry's version: a version, an alias
// ("npm:real-name@1.2.3"), a local path ("file:../x", skipped) or a URL.
func v1Package(name, version string) (inventory.Package, bool, string) {
	switch {
	case version == "":
		return inventory.Package{}, false, fmt.Sprintf("dependency %q has no version; skipped", name)
	case isLocalProtocol(version):
		return inventory.Package{}, false, ""
	case strings.HasPrefix(version, "npm:"):
		real, v, ok := splitSpec(strings.TrimPrefix(version, "npm:"))
		if !ok || real == "" || v == "" {
			return inventory.Package{}, false, fmt.Sprintf("dependency %q has alias version %q without name@version; skipped", name, version)
		}
		return npmPackage(real, v), true, ""
	}
	return npmPackage(name, version), true, ""
}
