// Package purl turns vigil's packages into package URLs (the package-url
// specification's "pkg:type/namespace/name@version?qualifiers" identifiers)
// and back. Reports and SBOMs carry the PURL of every package; Parse lets
// vigil read the PURLs of SBOMs that other tools wrote.
//
// The shapes follow the package-url type definitions and what the peer
// scanners emit for container images:
//
//	deb       pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12
//	apk       pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.1
//	rpm       pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1
//	golang    pkg:golang/golang.org/x/net@v0.23.0, pkg:golang/stdlib@v1.26.8
//	npm       pkg:npm/%40babel/core@7.24.0
//	pypi      pkg:pypi/pyyaml@6.0.1
//	maven     pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1
//	composer  pkg:composer/laravel/framework@10.0.0
//	cargo, gem, nuget: pkg:<type>/<name>@<version>
//
// OS packages carry "upstream=" naming their source package when it differs
// from the binary package (the key Debian, Ubuntu and Alpine advisories use),
// with "@version" appended when the source version differs too.
package purl

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/inventory"
)

// MaxLen is the longest package URL Parse accepts.
const MaxLen = 8 << 10

// ErrUnsupported is returned by Parse for a well-formed package URL whose
// type vigil has no ecosystem for (e.g. "pkg:docker/...").
var ErrUnsupported = errors.New("unsupported package URL type")

// Qualifier keys vigil writes.
const (
	qArch       = "arch"
	qDistro     = "distro"
	qEpoch      = "epoch"
	qUpstream   = "upstream"
	qModularity = "modularitylabel"
)

// For returns the package URL of p, found in an image whose OS release is d
// (nil when unknown). It returns "" when p's ecosystem has no PURL type or p
// has no name.
func For(p *inventory.Package, d *inventory.Distro) string {
	if p == nil || p.Name == "" {
		return ""
	}
	u, ok := build(p, d)
	if !ok {
		return ""
	}
	if err := u.Normalize(); err != nil {
		return ""
	}
	return u.ToString()
}

func build(p *inventory.Package, d *inventory.Distro) (packageurl.PackageURL, bool) {
	u := packageurl.PackageURL{Type: string(p.Ecosystem), Name: p.Name, Version: p.Version}
	var q packageurl.Qualifiers
	add := func(k, v string) {
		if v != "" {
			q = append(q, packageurl.Qualifier{Key: k, Value: v})
		}
	}
	switch p.Ecosystem {
	case inventory.Deb, inventory.APK:
		def := "debian"
		if p.Ecosystem == inventory.APK {
			def = "alpine"
		}
		u.Namespace = def
		if d != nil && d.Family != "" {
			u.Namespace = d.Family
		}
		add(qArch, p.Arch)
		add(qDistro, distroQualifier(d))
		add(qUpstream, upstream(p))
	case inventory.RPM:
		if d != nil {
			u.Namespace = rpmNamespace(d.Family)
		}
		epoch, version := splitEpoch(p.Version)
		u.Version = version
		add(qArch, p.Arch)
		add(qDistro, distroQualifier(d))
		add(qEpoch, epoch)
		add(qUpstream, upstream(p))
		add(qModularity, p.Modularity)
	case inventory.Go:
		if p.Toolchain || p.Name == "stdlib" {
			u.Name = "stdlib"
			u.Version = goSemver(p.Version)
			break
		}
		u.Namespace, u.Name = splitLast(p.Name)
	case inventory.NPM:
		if strings.HasPrefix(p.Name, "@") {
			u.Namespace, u.Name = splitLast(p.Name)
		}
	case inventory.Composer:
		u.Namespace, u.Name = splitLast(p.Name)
	case inventory.Maven:
		u.Namespace = p.Group
		if u.Namespace == "" {
			if g, a, ok := strings.Cut(p.Name, ":"); ok && g != "" && a != "" {
				u.Namespace, u.Name = g, a
			}
		}
	case inventory.PyPI, inventory.Cargo, inventory.Gem, inventory.NuGet:
	default:
		return u, false
	}
	if u.Name == "" {
		return u, false
	}
	u.Qualifiers = q
	return u, true
}

// distroQualifier is "<family>-<version>" ("debian-12", "alpine-3.20.1",
// "rhel-9.4"), or "<family>-<codename>" when only a code name is known.
func distroQualifier(d *inventory.Distro) string {
	if d == nil || d.Family == "" {
		return ""
	}
	switch {
	case d.Version != "":
		return d.Family + "-" + d.Version
	case d.Codename != "":
		return d.Family + "-" + d.Codename
	}
	return ""
}

// upstream names the source package when it differs from the binary one.
func upstream(p *inventory.Package) string {
	if p.SourceName == "" {
		return ""
	}
	versionDiffers := p.SourceVersion != "" && p.SourceVersion != p.Version
	switch {
	case versionDiffers:
		return p.SourceName + "@" + p.SourceVersion
	case p.SourceName != p.Name:
		return p.SourceName
	}
	return ""
}

// rpmNamespace maps an os-release ID to the vendor namespace the rpm PURL
// type uses.
func rpmNamespace(family string) string {
	switch family {
	case "rhel", "redhat":
		return "redhat"
	case "amzn":
		return "amazon"
	case "ol":
		return "oracle"
	case "sles", "sle-micro":
		return "suse"
	case "opensuse-leap", "opensuse-tumbleweed":
		return "opensuse"
	}
	return family
}

// rpmFamily is the reverse of rpmNamespace for the vendor namespaces that
// are not themselves os-release IDs.
func rpmFamily(ns string) string {
	switch ns {
	case "redhat":
		return "rhel"
	case "suse":
		return "sles"
	}
	return ns
}

// splitEpoch splits "1:2.3-4" into "1" and "2.3-4"; a version without a
// numeric epoch prefix is returned whole.
func splitEpoch(v string) (epoch, version string) {
	e, rest, ok := strings.Cut(v, ":")
	if !ok || !isDigits(e) {
		return "", v
	}
	return e, rest
}

// goSemver turns a toolchain version ("go1.26.8", "1.26.8") into the
// "v1.26.8" form Go module versions use.
func goSemver(v string) string {
	v = strings.TrimPrefix(v, "go")
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v
}

func splitLast(s string) (ns, name string) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

func isDigits(s string) bool {
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

// Parse reads a package URL into a package (Ecosystem, Name, Version and,
// where the URL carries them, Group, Arch, SourceName, SourceVersion,
// Modularity and PURL set to the canonical form For writes) and, for OS
// package types, the distribution it names (nil when the URL names none).
// Qualifiers vigil has no field for are dropped. A Go "stdlib" package comes
// back as Name "stdlib", Version "go1.26.8", Toolchain true.
func Parse(s string) (inventory.Package, *inventory.Distro, error) {
	if len(s) > MaxLen {
		return inventory.Package{}, nil, fmt.Errorf("purl: parse %.64q...: longer than %d bytes; is this a package URL?", s, MaxLen)
	}
	u, err := packageurl.FromString(s)
	if err != nil {
		return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: %w", s, err)
	}
	q := u.Qualifiers.Map()
	p := inventory.Package{Ecosystem: inventory.Ecosystem(u.Type), Name: u.Name, Version: u.Version}
	var d *inventory.Distro
	switch p.Ecosystem {
	case inventory.Deb, inventory.APK, inventory.RPM:
		p.Arch = q[qArch]
		if up := q[qUpstream]; up != "" {
			name, version, _ := strings.Cut(up, "@")
			if name == "" {
				return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: upstream qualifier %q has no source name", s, up)
			}
			if version == p.Version {
				version = ""
			}
			if name != p.Name || version != "" {
				p.SourceName, p.SourceVersion = name, version
			}
		}
		if p.Ecosystem == inventory.RPM {
			p.Modularity = q[qModularity]
			if e := q[qEpoch]; e != "" {
				if !isDigits(e) {
					return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: epoch %q is not a number", s, e)
				}
				p.Version = e + ":" + p.Version
			}
		}
		d, err = parseDistro(p.Ecosystem, u.Namespace, q[qDistro])
		if err != nil {
			return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: %w", s, err)
		}
	case inventory.Go:
		if u.Namespace == "" && u.Name == "stdlib" {
			p.Toolchain = true
			if p.Version != "" {
				p.Version = "go" + strings.TrimPrefix(p.Version, "v")
			}
		} else if u.Namespace != "" {
			p.Name = u.Namespace + "/" + u.Name
		}
	case inventory.NPM, inventory.Composer:
		if u.Namespace != "" {
			p.Name = u.Namespace + "/" + u.Name
		}
	case inventory.Maven:
		if strings.Contains(u.Name, ":") {
			return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: a maven artifact ID has no colon", s)
		}
		p.Group = u.Namespace
	case inventory.PyPI, inventory.Cargo, inventory.Gem, inventory.NuGet:
		if u.Namespace != "" {
			return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: a %s package URL has no namespace", s, u.Type)
		}
	default:
		return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: type %q: %w", s, u.Type, ErrUnsupported)
	}
	p.PURL = For(&p, d)
	if p.PURL == "" {
		return inventory.Package{}, nil, fmt.Errorf("purl: parse %q: cannot represent it as a %s package", s, u.Type)
	}
	if len(p.PURL) > MaxLen {
		return inventory.Package{}, nil, fmt.Errorf("purl: parse %.64q...: canonical form longer than %d bytes", s, MaxLen)
	}
	return p, d, nil
}

// parseDistro reads the distribution from the namespace and the distro
// qualifier ("debian-12", "fedora-25", "opensuse-tumbleweed", "jessie",
// "12"). A qualifier whose last dash-separated part starts with a digit is
// "<family>-<version>"; otherwise a leading "<family>-" is dropped and the
// rest is a code name.
func parseDistro(eco inventory.Ecosystem, ns, q string) (*inventory.Distro, error) {
	family := ns
	if eco == inventory.RPM {
		family = rpmFamily(ns)
	}
	if family == "" {
		// For writes these defaults; read them the same way.
		switch eco {
		case inventory.Deb:
			family = "debian"
		case inventory.APK:
			family = "alpine"
		}
	}
	if family != "" && !validFamily(family) {
		return nil, fmt.Errorf("namespace %q is not a distribution name", ns)
	}
	d := &inventory.Distro{Family: family}
	if q == "" {
		if family == "" {
			return nil, nil
		}
		return d, nil
	}
	parts := strings.Split(q, "-")
	if slices.Contains(parts, "") {
		return nil, fmt.Errorf("distro qualifier %q has an empty part", q)
	}
	rest := q
	last := parts[len(parts)-1]
	switch {
	case len(parts) == 1:
	case startsWithDigit(last):
		d.Family, rest = strings.Join(parts[:len(parts)-1], "-"), last
		if !validFamily(d.Family) {
			return nil, fmt.Errorf("distro qualifier %q does not start with a distribution name", q)
		}
	case family != "" && strings.HasPrefix(q, family+"-"):
		rest = q[len(family)+1:]
	}
	if startsWithDigit(rest) {
		d.Version = rest
	} else {
		d.Codename = rest
	}
	if d.Family == "" {
		// A release without a vendor cannot be written back; keep neither.
		return nil, nil
	}
	return d, nil
}

// validFamily accepts os-release style IDs: letters, digits and ".+_~",
// in parts joined by single dashes.
func validFamily(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".+_~-", c) >= 0) {
			return false
		}
	}
	return true
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
