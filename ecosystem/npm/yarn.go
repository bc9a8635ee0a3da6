package npm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/inventory"
)

// parseYarnLock reads a yarn.lock: Yarn Berry (v2+) files are YAML with a
// "__metadata" entry; Yarn classic (v1) files use Yarn's own indented
// format.
func parseYarnLock(data []byte) ([]inventory.Package, []string, error) {
	if bytes.HasPrefix(data, []byte("__metadata:")) || bytes.Contains(data, []byte("\n__metadata:")) {
		return parseYarnBerry(data)
	}
	return parseYarnClassic(data)
}

// parseYarnClassic reads the v1 format:
//
//	"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
//	  version "7.12.13"
//	  resolved "https://registry.yarnpkg.com/..."
//	  dependencies:
//	    "@babel/highlight" "^7.12.13"
//
// An entry's header lists the specifiers it satisfies; the first names the
// package (an alias "alias@npm:real@^1" names real).
func parseYarnClassic(data []byte) ([]inventory.Package, []string, error) {
	var pkgs []inventory.Package
	var warns []string
	var cur *yarnEntry
	fieldIndent := -1
	flush := func() {
		if cur == nil {
			return
		}
		p, ok, warn := cur.pkg()
		if warn != "" {
			warns = append(warns, warn)
		}
		if ok {
			pkgs = append(pkgs, p)
		}
		cur = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxLockfile)
	sawHeader := false
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(trimmed)
		if indent == 0 {
			flush()
			if !strings.HasSuffix(line, ":") {
				return nil, nil, fmt.Errorf("line %d: %q is neither an entry header nor an indented field", lineNo, truncate(line))
			}
			sawHeader = true
			cur = &yarnEntry{header: strings.TrimSuffix(line, ":")}
			fieldIndent = -1
			continue
		}
		if cur == nil {
			return nil, nil, fmt.Errorf("line %d: indented field before any entry", lineNo)
		}
		if fieldIndent < 0 {
			fieldIndent = indent
		}
		if indent != fieldIndent {
			continue // a dependency list item
		}
		key, val, _ := strings.Cut(trimmed, " ")
		if key == "version" {
			cur.version = unquote(strings.TrimSpace(val))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	flush()
	if !sawHeader && len(bytes.TrimSpace(data)) > 0 && !onlyComments(data) {
		return nil, nil, errors.New("no entries")
	}
	return pkgs, warns, nil
}

type yarnEntry struct {
	header  string
	version string
}

// pkg turns a classic entry into a package.
func (e *yarnEntry) pkg() (inventory.Package, bool, string) {
	spec := firstSpec(e.header)
	name, rng, ok := splitSpec(spec)
	if !ok {
		return inventory.Package{}, false, fmt.Sprintf("entry %q names no version range; skipped", truncate(e.header))
	}
	if isLocalProtocol(rng) {
		return inventory.Package{}, false, ""
	}
	if real, ok := strings.CutPrefix(rng, "npm:"); ok {
		if n, _, ok := splitSpec(real); ok && n != "" {
			name = n
		}
	}
	if e.version == "" {
		return inventory.Package{}, false, fmt.Sprintf("entry %q has no version; skipped", truncate(e.header))
	}
	return npmPackage(name, e.version), true, ""
}

// firstSpec returns the first specifier of an entry header
// (`"a@^1", "a@^1.2"` or `a@^1, a@^1.2`), unquoted.
func firstSpec(header string) string {
	first, _, _ := strings.Cut(header, ",")
	return unquote(strings.TrimSpace(first))
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

func onlyComments(data []byte) bool {
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// berryEntry is one entry of a Yarn Berry lock file.
type berryEntry struct {
	Version    string `yaml:"version"`
	Resolution string `yaml:"resolution"`
}

// parseYarnBerry reads the YAML format of Yarn 2 and later:
//
//	"lodash@npm:^4.17.15, lodash@npm:^4.17.21":
//	  version: 4.17.21
//	  resolution: "lodash@npm:4.17.21"
//
// The resolution names the package and protocol; workspace, link, portal
// and file resolutions are the application's own code.
func parseYarnBerry(data []byte) ([]inventory.Package, []string, error) {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	var pkgs []inventory.Package
	var warns []string
	for _, key := range sortedKeys(doc) {
		if key == "__metadata" {
			continue
		}
		node := doc[key]
		var e berryEntry
		if err := node.Decode(&e); err != nil {
			warns = append(warns, fmt.Sprintf("entry %q: %v; skipped", truncate(key), err))
			continue
		}
		res := e.Resolution
		if res == "" {
			res = firstSpec(key)
		}
		name, proto, ok := splitSpec(res)
		if !ok {
			warns = append(warns, fmt.Sprintf("entry %q has resolution %q without name@protocol; skipped", truncate(key), truncate(res)))
			continue
		}
		if isLocalProtocol(proto) {
			continue
		}
		if e.Version == "" {
			warns = append(warns, fmt.Sprintf("entry %q has no version; skipped", truncate(key)))
			continue
		}
		pkgs = append(pkgs, npmPackage(name, e.Version))
	}
	return pkgs, warns, nil
}
