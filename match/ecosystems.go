package match

import (
	"slices"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/vulndb"
)

// EcosystemLister is implemented by stores that can list the OSV ecosystem
// keys they hold advisories for (*vulndb.DB does). The matcher then picks a
// distro release's keys from what is really there (Ubuntu's ":LTS" and
// "Pro:" variants, Red Hat's per-repository keys) instead of trying the
// forms it knows.
type EcosystemLister interface {
	Ecosystems() []string
}

// osvLanguage returns the OSV ecosystem of a language package ecosystem.
func osvLanguage(e inventory.Ecosystem) (string, bool) {
	switch e {
	case inventory.Go:
		return "Go", true
	case inventory.NPM:
		return "npm", true
	case inventory.PyPI:
		return "PyPI", true
	case inventory.Maven:
		return "Maven", true
	case inventory.Cargo:
		return "crates.io", true
	case inventory.Gem:
		return "RubyGems", true
	case inventory.Composer:
		return "Packagist", true
	case inventory.NuGet:
		return "NuGet", true
	}
	return "", false
}

// debianByCodename gives the OSV ecosystem of a Debian release named only by
// its code name (testing and unstable images have no VERSION_ID), or "".
func debianByCodename(code string) string {
	switch code {
	case "jessie":
		return "Debian:8"
	case "stretch":
		return "Debian:9"
	case "buster":
		return "Debian:10"
	case "bullseye":
		return "Debian:11"
	case "bookworm":
		return "Debian:12"
	case "trixie":
		return "Debian:13"
	case "forky":
		return "Debian:14"
	case "duke":
		return "Debian:15"
	case "sid":
		return "Debian:sid"
	}
	return ""
}

// distroTarget says which OSV ecosystems hold the advisories for the OS
// packages of one kind (deb, apk, rpm) in an image.
type distroTarget struct {
	// ecosystems are the keys to look packages up under; empty when none
	// applies (problem says why).
	ecosystems []string
	problem    string
}

// distroEcosystems picks the OSV ecosystem keys of the image's release for
// OS packages of ecosystem pe. Only keys naming exactly the detected
// release are used, never a neighbouring one: "Debian:12" for any 12.x,
// "Alpine:v3.20" for 3.20.x, "Ubuntu:22.04:LTS" (and its "Pro:" variant)
// for 22.04, "AlmaLinux:9" and "Rocky Linux:9" for 9.x, Red Hat's
// "enterprise_linux:9" repository keys for RHEL and CentOS 9.x. listed is
// the store's ecosystem keys, or nil when it cannot list them; then the
// known key forms are tried.
func distroEcosystems(d *inventory.Distro, pe inventory.Ecosystem, listed []string) distroTarget {
	if d == nil || d.Family == "" {
		return distroTarget{problem: "no OS release was detected in the image"}
	}
	family := strings.ToLower(d.Family)
	ver := strings.TrimSpace(d.Version)
	name := family + " " + ver
	want := func(fam ...string) bool { return slices.Contains(fam, family) }
	var cands []string
	var accept func(string) bool
	switch {
	case pe == inventory.Deb && want("debian"):
		major, _, _ := strings.Cut(ver, ".")
		eco := ""
		if major != "" && digitsOnly(major) {
			eco = "Debian:" + major
		} else {
			eco = debianByCodename(strings.ToLower(d.Codename))
		}
		if eco == "" {
			return distroTarget{problem: "cannot tell the Debian release of " + quoteDistro(d)}
		}
		cands = []string{eco}
	case pe == inventory.Deb && want("ubuntu"):
		if !releaseLike(ver) {
			return distroTarget{problem: "cannot tell the Ubuntu release of " + quoteDistro(d)}
		}
		cands = []string{"Ubuntu:" + ver, "Ubuntu:" + ver + ":LTS", "Ubuntu:Pro:" + ver, "Ubuntu:Pro:" + ver + ":LTS"}
		// Ubuntu keys carry qualifiers: ":LTS" for long-term releases and
		// "Pro:" for the Ubuntu Pro (ESM) archive. FIPS and other variants
		// name packages of other builds and are left out.
		accept = func(k string) bool {
			e := vulndb.ParseEcosystem(k)
			if e.Name != "Ubuntu" || e.Release != ver {
				return false
			}
			for _, q := range e.Qualifiers {
				if q != "LTS" && q != "Pro" {
					return false
				}
			}
			return true
		}
	case pe == inventory.APK && want("alpine"):
		mm := majorMinor(ver)
		if mm == "" {
			return distroTarget{problem: "cannot tell the Alpine release of " + quoteDistro(d)}
		}
		cands = []string{"Alpine:v" + mm}
	case pe == inventory.APK && want("wolfi"):
		cands = []string{"Wolfi"}
	case pe == inventory.APK && want("chainguard"):
		cands = []string{"Chainguard"}
	case pe == inventory.RPM && want("almalinux", "rocky"):
		major, _, _ := strings.Cut(ver, ".")
		if !digitsOnly(major) {
			return distroTarget{problem: "cannot tell the release of " + quoteDistro(d)}
		}
		base := "AlmaLinux:"
		if family == "rocky" {
			base = "Rocky Linux:"
		}
		cands = []string{base + major}
	case pe == inventory.RPM && want("rhel", "centos"):
		// CentOS Linux and CentOS Stream are rebuilt from (or ahead of) RHEL
		// sources and have no advisory feed of their own; as Trivy and
		// Grype do, their packages are matched against Red Hat's.
		major, _, _ := strings.Cut(ver, ".")
		if !digitsOnly(major) {
			return distroTarget{problem: "cannot tell the release of " + quoteDistro(d)}
		}
		cands = []string{
			"Red Hat:enterprise_linux:" + major,
			"Red Hat:enterprise_linux:" + major + "::baseos",
			"Red Hat:enterprise_linux:" + major + "::appstream",
			"Red Hat:enterprise_linux:" + major + "::crb",
		}
		// Red Hat keys name a product, a release and a repository
		// ("Red Hat:enterprise_linux:9::appstream"). Extended-support
		// products (rhel_eus:9.4, ...) apply only to systems subscribed
		// to them and are left out.
		accept = func(k string) bool {
			e := vulndb.ParseEcosystem(k)
			return e.Name == "Red Hat" && e.Release == major && len(e.Qualifiers) > 0 && e.Qualifiers[0] == "enterprise_linux"
		}
	default:
		return distroTarget{problem: "vigil has no advisory source for " + string(pe) + " packages of " + quoteDistro(d)}
	}
	if listed == nil {
		return distroTarget{ecosystems: cands}
	}
	var out []string
	for _, k := range listed {
		if slices.Contains(cands, k) || (accept != nil && accept(k)) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return distroTarget{problem: "the advisory database holds no advisories for " + name + " (looked for " +
			strings.Join(cands, ", ") + "; run `vigil db update`)"}
	}
	return distroTarget{ecosystems: out}
}

func quoteDistro(d *inventory.Distro) string {
	s := d.Family
	if d.Version != "" {
		s += " " + d.Version
	} else if d.Codename != "" {
		s += " " + d.Codename
	}
	return s
}

// majorMinor returns "3.20" for "3.20.1" or "3.20", "" when ver does not
// start with two numbers.
func majorMinor(ver string) string {
	parts := strings.SplitN(ver, ".", 3)
	if len(parts) < 2 || !digitsOnly(parts[0]) {
		return ""
	}
	minor := parts[1]
	n := 0
	for n < len(minor) && minor[n] >= '0' && minor[n] <= '9' {
		n++
	}
	if n == 0 {
		return ""
	}
	return parts[0] + "." + minor[:n]
}

func releaseLike(v string) bool {
	return v != "" && v[0] >= '0' && v[0] <= '9' && !strings.ContainsAny(v, ": \t")
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// vendorOf names the vendor whose advisories a distro ecosystem key holds
// ("Debian:12" -> "debian"), or "" for a language ecosystem.
func vendorOf(eco string) string {
	switch vulndb.ParseEcosystem(eco).Name {
	case "Debian":
		return "debian"
	case "Ubuntu":
		return "ubuntu"
	case "Alpine":
		return "alpine"
	case "AlmaLinux":
		return "almalinux"
	case "Rocky Linux":
		return "rocky"
	case "Red Hat":
		return "redhat"
	case "Wolfi":
		return "wolfi"
	case "Chainguard":
		return "chainguard"
	}
	return ""
}

// recordSource names who published a record, for SeveritySource and
// CVSS.Source: the vendor for distro records, else the database its ID
// prefix names.
func recordSource(id, eco string) string {
	if v := vendorOf(eco); v != "" {
		return v
	}
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "GHSA":
		return "ghsa"
	case "GO":
		return "go"
	case "PYSEC":
		return "pypa"
	case "RUSTSEC":
		return "rustsec"
	case "MAL":
		return "ossf"
	case "GMS":
		return "gitlab"
	case "CVE":
		return "nvd"
	case "DSA", "DLA", "DEBIAN":
		return "debian"
	case "USN", "UBUNTU", "LSN":
		return "ubuntu"
	case "ALSA", "ALBA", "ALEA":
		return "almalinux"
	case "RLSA", "RLBA", "RLEA", "RXSA":
		return "rocky"
	case "RHSA", "RHBA", "RHEA":
		return "redhat"
	case "ALPINE":
		return "alpine"
	}
	return strings.ToLower(prefix)
}

// sourceLabel names a vulndb source feed the way SeveritySource does.
func sourceLabel(src string) string {
	switch src {
	case vulndb.SourceDebianTracker:
		return "debian"
	case vulndb.SourceAlpineSecdb:
		return "alpine"
	case vulndb.SourceOSV:
		return "osv"
	}
	return src
}
