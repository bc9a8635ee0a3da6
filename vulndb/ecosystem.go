package vulndb

import (
	"slices"
	"strings"
)

// Ecosystem is an OSV ecosystem string taken apart: "Ubuntu:Pro:22.04:LTS"
// is Name "Ubuntu", Release "22.04", Qualifiers ["Pro", "LTS"].
type Ecosystem struct {
	// Name is the part before the first colon: "Debian", "Alpine",
	// "Ubuntu", "Rocky Linux", "PyPI".
	Name string
	// Release is the first component after Name that looks like a version
	// ("12", "v3.20", "22.04", "9", "sid", "edge"), or, when none does, the
	// rest of the string ("Linux Enterprise Server 15 SP5"). Empty for
	// language ecosystems.
	Release string
	// Qualifiers are the other components, in order.
	Qualifiers []string
}

// ParseEcosystem splits an OSV ecosystem string. Keys in the database keep
// OSV's strings as they are; this is for callers that need to pick the keys
// matching a detected distro release.
func ParseEcosystem(s string) Ecosystem {
	name, rest, ok := strings.Cut(s, ":")
	e := Ecosystem{Name: name}
	if !ok {
		return e
	}
	parts := strings.Split(rest, ":")
	for _, p := range parts {
		if e.Release == "" && releaseLike(p) {
			e.Release = p
			continue
		}
		if p != "" {
			e.Qualifiers = append(e.Qualifiers, p)
		}
	}
	if e.Release == "" {
		e.Release = rest
		e.Qualifiers = nil
	}
	return e
}

func releaseLike(p string) bool {
	switch p {
	case "sid", "unstable", "edge", "rolling":
		return true
	}
	p = strings.TrimPrefix(p, "v")
	return p != "" && p[0] >= '0' && p[0] <= '9'
}

// knownEcosystems are the OSV ecosystem names (the part before the first
// colon) the database accepts, sorted (a test checks). A record naming
// another ecosystem is counted as "unknown ecosystem" by the importer.
var knownEcosystems = [...]string{
	"AlmaLinux", "Alpine", "Android", "Azure Linux", "Bioconductor", "Bitnami",
	"CRAN", "Chainguard", "ConanCenter", "Debian", "Echo", "GHC", "GitHub Actions",
	"Go", "Hackage", "Hex", "Julia", "Linux", "Mageia", "Maven", "MinimOS",
	"NuGet", "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat",
	"Rocky Linux", "RubyGems", "SUSE", "SwiftURL", "Ubuntu", "VSCode", "Wolfi",
	"crates.io", "npm", "opam", "openEuler", "openSUSE",
}

// KnownEcosystem reports whether the name part of an OSV ecosystem string
// is one the database stores.
func KnownEcosystem(eco string) bool {
	name, _, _ := strings.Cut(eco, ":")
	_, found := slices.BinarySearch(knownEcosystems[:], name)
	return found
}

// DefaultEcosystems returns the OSV export folders vigil can match against
// an image's inventory; an update fetches these unless told otherwise.
func DefaultEcosystems() []string {
	return []string{
		"AlmaLinux", "Alpine", "Azure Linux", "Chainguard", "Debian", "Go", "Mageia",
		"Maven", "NuGet", "Packagist", "Photon OS", "PyPI", "Red Hat", "Rocky Linux",
		"RubyGems", "SUSE", "Ubuntu", "Wolfi", "crates.io", "npm", "openSUSE",
	}
}

// NormalizeName returns the form of a package name the database indexes and
// looks up: PyPI names per PEP 503 (lowercase, runs of "-", "_", "." become
// one "-"), NuGet and Packagist names lowercased (both registries compare
// names case-insensitively), every other name as given. Maven names are
// "group:artifact". Surrounding white space is removed.
func NormalizeName(ecosystem, name string) string {
	name = strings.TrimSpace(name)
	base, _, _ := strings.Cut(ecosystem, ":")
	switch base {
	case "PyPI":
		return pep503(name)
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsCVE reports whether id has the form CVE-YYYY-NNNN...
func IsCVE(id string) bool {
	if len(id) < len("CVE-2000-0000") || !strings.HasPrefix(id, "CVE-") {
		return false
	}
	rest := id[4:]
	year, num, ok := strings.Cut(rest, "-")
	if !ok || len(year) != 4 || len(num) < 4 {
		return false
	}
	return digits(year) && digits(num)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// CVEOf returns the CVE an ID names: the ID itself ("CVE-2023-1234") or the
// CVE inside a distro-prefixed ID ("DEBIAN-CVE-2023-1234",
// "UBUNTU-CVE-2023-1234", "ALPINE-CVE-..."); "" otherwise.
func CVEOf(id string) string {
	if IsCVE(id) {
		return id
	}
	if i := strings.Index(id, "-CVE-"); i > 0 && IsCVE(id[i+1:]) {
		return id[i+1:]
	}
	return ""
}

// SortAliases orders aliases with CVE IDs first, each group in the order
// given, and removes duplicates and empty strings.
func SortAliases(aliases []string) []string {
	if len(aliases) == 0 {
		return nil
	}
	out := make([]string, 0, len(aliases))
	seen := make(map[string]bool, len(aliases))
	for pass := 0; pass < 2; pass++ {
		for _, a := range aliases {
			if a == "" || seen[a] || IsCVE(a) != (pass == 0) {
				continue
			}
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// firstCVE returns the first CVE named by id or its aliases.
func firstCVE(id string, aliases []string) string {
	if c := CVEOf(id); c != "" {
		return c
	}
	for _, a := range aliases {
		if c := CVEOf(a); c != "" {
			return c
		}
	}
	return ""
}
