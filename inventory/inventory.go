// Package inventory holds vigil's domain types for what is inside an image:
// the layers, the detected OS release, and every package with the layer and
// Dockerfile step that brought it in. It imports only the standard library so
// that every stage of the pipeline can share it.
package inventory

import (
	"cmp"
	"slices"
	"strings"
)

// Ecosystem names a package universe. The values are package-url types so that
// a PURL's type and a package's ecosystem are the same string.
type Ecosystem string

// The ecosystems vigil knows.
const (
	Deb      Ecosystem = "deb"
	APK      Ecosystem = "apk"
	RPM      Ecosystem = "rpm"
	Go       Ecosystem = "golang"
	NPM      Ecosystem = "npm"
	PyPI     Ecosystem = "pypi"
	Maven    Ecosystem = "maven"
	Cargo    Ecosystem = "cargo"
	Gem      Ecosystem = "gem"
	Composer Ecosystem = "composer"
	NuGet    Ecosystem = "nuget"
)

// IsOS reports whether packages of this ecosystem are installed by an OS
// package manager.
func (e Ecosystem) IsOS() bool { return e == Deb || e == APK || e == RPM }

// Distro is the operating system release detected in an image.
type Distro struct {
	// Family is the lowercase distribution ID vigil matches on: "debian",
	// "ubuntu", "alpine", "rhel", "centos", "rocky", "almalinux", "fedora",
	// "amazon", "oracle", "opensuse-leap", "sles", "photon", "mariner",
	// "azurelinux", "wolfi", "chainguard", "bottlerocket", ...
	Family string `json:"family"`
	// Version is the release as the vendor's advisories name it: "12",
	// "22.04", "3.20.1", "9.3".
	Version string `json:"version,omitempty"`
	// Codename is the release code name where one exists ("bookworm").
	Codename string `json:"codename,omitempty"`
	// Name is the human-readable name (PRETTY_NAME).
	Name string `json:"name,omitempty"`
	// Distroless is true when the release was inferred without an os-release
	// file, e.g. a distroless Debian image with var/lib/dpkg/status.d.
	Distroless bool `json:"distroless,omitempty"`
	// Source is the path of the file the release was read from.
	Source string `json:"source,omitempty"`
}

// Layer is one file-system layer of an image, in order from the base.
type Layer struct {
	Index int `json:"index"`
	// DiffID is the digest of the uncompressed layer tar.
	DiffID string `json:"diffID,omitempty"`
	// Digest is the digest of the layer blob as stored (compressed).
	Digest string `json:"digest,omitempty"`
	// Size is the stored size of the blob in bytes.
	Size int64 `json:"size,omitempty"`
	// CreatedBy is the history step (Dockerfile instruction) that made the layer.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Location is where a package was found: a path in the image (no leading
// slash) and the index of the layer that last wrote that path.
type Location struct {
	Path  string `json:"path"`
	Layer int    `json:"layer"`
}

// Package is one installed package.
type Package struct {
	Ecosystem Ecosystem `json:"ecosystem"`
	Name      string    `json:"name"`
	// Version is the version string exactly as the package manager compares
	// it: dpkg "1:2.38.1-5+deb12u3", rpm "1:2.32.1-42.el8_8" (epoch prefix only
	// when set), apk "1.36.1-r5", Go "v0.3.5", npm "4.17.15".
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
	// SourceName and SourceVersion name the source package an OS binary
	// package was built from (dpkg Source:, apk origin, rpm source rpm).
	// Advisories for Debian, Ubuntu and Alpine are keyed by these.
	SourceName    string `json:"sourceName,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Modularity is the rpm modularity label, when set.
	Modularity string `json:"modularity,omitempty"`
	// Group is the Maven group ID.
	Group string `json:"group,omitempty"`
	// PURL is the package URL (package-url spec).
	PURL     string   `json:"purl,omitempty"`
	Licenses []string `json:"licenses,omitempty"`
	// Locations are the files the package was read from; the first is primary.
	Locations []Location `json:"locations"`
	// Layer is the index of the layer that introduced the package.
	Layer int `json:"layer"`
	// OwnedBy names the OS package ("deb:python3-yaml") whose files include
	// this language package. Such packages are matched only through the OS
	// advisories.
	OwnedBy string `json:"ownedBy,omitempty"`
	// Files are the files an OS package installed (from its database).
	Files []string `json:"-"`
	// Indirect is true for a dependency that is not the main module or a
	// direct dependency, where the ecosystem says so.
	Indirect bool `json:"indirect,omitempty"`
	// Toolchain marks a Go "stdlib" pseudo-package (the compiler version).
	Toolchain bool `json:"toolchain,omitempty"`
}

// Key identifies a package instance within one inventory.
func (p *Package) Key() string {
	loc := ""
	if len(p.Locations) > 0 {
		loc = p.Locations[0].Path
	}
	return string(p.Ecosystem) + "|" + p.Group + "|" + p.Name + "|" + p.Version + "|" + p.Arch + "|" + loc
}

// Ref returns "ecosystem:name", the form OwnedBy uses.
func (p *Package) Ref() string { return string(p.Ecosystem) + ":" + p.Name }

// Warning is a located problem that did not stop the scan: one corrupt file
// in one layer is a warning, not an error.
type Warning struct {
	Path      string `json:"path,omitempty"`
	Layer     int    `json:"layer"`
	Component string `json:"component"`
	Message   string `json:"message"`
}

// FileFinding is an observation about one file for the audit: a secret in
// it, a setuid bit, a world-writable directory.
type FileFinding struct {
	// Rule is the ID of the rule that fired ("secret-aws-access-key").
	Rule string `json:"rule"`
	// Path and Layer say where: the layer is the one that holds this copy.
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// Line is the 1-based line of a finding inside a text file, or 0.
	Line int `json:"line,omitempty"`
	// Evidence shows what matched, with any secret value masked.
	Evidence string `json:"evidence,omitempty"`
	// Deleted is true when a later layer removed or replaced the file: the
	// bytes still ship inside the image's layer blobs.
	Deleted bool `json:"deleted,omitempty"`
}

// Inventory is everything found in an image (or root file system).
type Inventory struct {
	Distro   *Distro       `json:"distro,omitempty"`
	Layers   []Layer       `json:"layers"`
	Packages []Package     `json:"packages"`
	Files    []FileFinding `json:"files,omitempty"`
	Warnings []Warning     `json:"warnings,omitempty"`
}

// Sort puts packages and warnings in a stable order: OS packages first, then
// by ecosystem, name, version and primary path.
func (inv *Inventory) Sort() {
	slices.SortFunc(inv.Packages, func(a, b Package) int {
		if a.Ecosystem.IsOS() != b.Ecosystem.IsOS() {
			if a.Ecosystem.IsOS() {
				return -1
			}
			return 1
		}
		return cmp.Or(
			strings.Compare(string(a.Ecosystem), string(b.Ecosystem)),
			strings.Compare(a.Group, b.Group),
			strings.Compare(a.Name, b.Name),
			strings.Compare(a.Version, b.Version),
			strings.Compare(a.Arch, b.Arch),
			strings.Compare(primary(a), primary(b)),
		)
	})
	slices.SortFunc(inv.Files, func(a, b FileFinding) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Layer, b.Layer),
			cmp.Compare(a.Line, b.Line), strings.Compare(a.Rule, b.Rule))
	})
	slices.SortFunc(inv.Warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Layer, b.Layer), strings.Compare(a.Path, b.Path),
			strings.Compare(a.Component, b.Component), strings.Compare(a.Message, b.Message))
	})
}

func primary(p Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	return p.Locations[0].Path
}

// CountByEcosystem returns how many packages each ecosystem has.
func (inv *Inventory) CountByEcosystem() map[Ecosystem]int {
	m := map[Ecosystem]int{}
	for i := range inv.Packages {
		m[inv.Packages[i].Ecosystem]++
	}
	return m
}
