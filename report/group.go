package report

import (
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/inventory"
)

// Group is a set of packages shown and described together: all OS packages,
// or the language packages of one target (a project's node_modules, a
// site-packages directory, a Go binary, a lock file).
type Group struct {
	// OS is true for the group of OS packages.
	OS bool
	// Ecosystem is the language ecosystem; empty for the OS group.
	Ecosystem inventory.Ecosystem
	// Path is the target path (see TargetPath); empty for the OS group.
	Path string
	// Packages point into the inventory, in its order.
	Packages []*inventory.Package
}

// Groups partitions the inventory's packages: the OS group first (when there
// are OS packages), then one group per language target ordered by path and
// ecosystem. Packages keep the inventory's order within a group, so a Sorted
// report gives a deterministic grouping.
func Groups(inv *inventory.Inventory) []Group {
	if inv == nil {
		return nil
	}
	var os *Group
	byKey := map[string]*Group{}
	var langs []*Group
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.Ecosystem.IsOS() {
			if os == nil {
				os = &Group{OS: true}
			}
			os.Packages = append(os.Packages, p)
			continue
		}
		path := TargetPath(p)
		key := string(p.Ecosystem) + "\x00" + path
		g, ok := byKey[key]
		if !ok {
			g = &Group{Ecosystem: p.Ecosystem, Path: path}
			byKey[key] = g
			langs = append(langs, g)
		}
		g.Packages = append(g.Packages, p)
	}
	slices.SortFunc(langs, func(a, b *Group) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(string(a.Ecosystem), string(b.Ecosystem)))
	})
	var out []Group
	if os != nil {
		out = append(out, *os)
	}
	for _, g := range langs {
		out = append(out, *g)
	}
	return out
}

// TargetPath is the place a language package belongs to, derived from its
// primary location:
//
//	npm    the first node_modules directory ("app/node_modules")
//	pypi   the site-packages or dist-packages directory
//	gem    the gem home holding specifications/ ("usr/lib/ruby/gems/3.1.0")
//	other  the file itself (a Go binary, a jar, a lock file), up to any "!"
//	       that names an entry inside an archive
//
// It is "" for a package without locations.
func TargetPath(p *inventory.Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	path := p.Locations[0].Path
	segs := strings.Split(path, "/")
	switch p.Ecosystem {
	case inventory.NPM:
		if i := slices.Index(segs, "node_modules"); i >= 0 {
			return strings.Join(segs[:i+1], "/")
		}
	case inventory.PyPI:
		if i := slices.IndexFunc(segs, func(s string) bool { return s == "site-packages" || s == "dist-packages" }); i >= 0 {
			return strings.Join(segs[:i+1], "/")
		}
	case inventory.Gem:
		if i := slices.Index(segs, "specifications"); i > 0 {
			return strings.Join(segs[:i], "/")
		}
	}
	if i := strings.IndexByte(path, '!'); i > 0 {
		return path[:i]
	}
	return path
}

// PackageID is a short, stable identifier of a package instance (a hash of
// its Key), for the element IDs SBOM formats need.
func PackageID(p *inventory.Package) string {
	sum := sha256.Sum256([]byte(p.Key()))
	return hex.EncodeToString(sum[:8])
}

// vigilNamespace is the namespace UUID of vigil's name-based UUIDs.
const vigilNamespace = "\x6b\x1e\x2d\x4a\x93\x0c\x4f\x7e\x8a\x55\x1d\x3c\x0e\x9f\x62\xb1"

// DocumentUUID returns a name-based (version 5, RFC 9562) UUID of the given
// parts, so that documents get identifiers that are unique per input yet
// reproducible.
func DocumentUUID(parts ...string) string {
	h := sha1.New()
	h.Write([]byte(vigilNamespace))
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
