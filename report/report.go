// Package report defines the report document every vigil output format is
// generated from, and its JSON encoding. A Report holds what was scanned
// (Target), what is in it (the inventory: OS release, layers with their
// Dockerfile steps, packages with the layer that brought each one in), the
// vulnerability findings and the audit findings. Encoders (one per output
// format, see the sub-packages and report/format) read a Report and write
// it; they never look anywhere else, so the same scan renders identically in
// every format. Output is deterministic: Sorted puts everything in canonical
// order and the creation time is injected.
//
// The JSON encoding is documented field by field in docs/json-report.md.
package report

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
)

// SchemaVersion is the version of the JSON report document. It changes only
// when a field changes meaning or is removed; added fields keep it.
const SchemaVersion = "1"

// Encoder writes a report in one output format.
type Encoder interface {
	Encode(w io.Writer, r *Report) error
}

// Report is the document every output format is generated from.
type Report struct {
	// SchemaVersion is SchemaVersion for documents this package writes.
	SchemaVersion string `json:"schemaVersion"`
	Tool          Tool   `json:"tool"`
	// CreatedAt is when the report was made; injected by the caller so that
	// output is reproducible.
	CreatedAt time.Time `json:"createdAt"`
	Target    Target    `json:"target"`
	// Inventory is everything found in the target.
	Inventory *inventory.Inventory `json:"inventory"`
	// Vulnerabilities are the known vulnerabilities of the inventory's
	// packages.
	Vulnerabilities []Finding `json:"vulnerabilities"`
	// Audit holds hardening, configuration and secret findings.
	Audit []Issue `json:"audit"`
}

// Tool names the program that made the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// TargetKind says what was scanned.
type TargetKind string

// The kinds of target.
const (
	KindImage  TargetKind = "image"
	KindRootFS TargetKind = "rootfs"
	KindSBOM   TargetKind = "sbom"
)

// Target identifies what was scanned.
type Target struct {
	Kind TargetKind `json:"kind"`
	// Source is the kind of image source ("docker", "registry",
	// "docker-archive", "oci-dir", "oci-archive", "dir", ...).
	Source string `json:"source,omitempty"`
	// Ref is the reference the user gave.
	Ref string `json:"ref"`
	// Name is the resolved image name (registry/repository:tag).
	Name string `json:"name,omitempty"`
	// Digest is the manifest digest; ID is the config digest.
	Digest   string          `json:"digest,omitempty"`
	ID       string          `json:"id,omitempty"`
	Platform *image.Platform `json:"platform,omitempty"`
	RepoTags []string        `json:"repoTags,omitempty"`
	// Created is the image creation time from its config.
	Created time.Time     `json:"created,omitzero"`
	Config  *image.Config `json:"config,omitempty"`
	// Size is the sum of the stored layer sizes in bytes.
	Size int64 `json:"size,omitempty"`
}

// DisplayName is the name reports show for the target: the image name, else
// the reference the user gave, else the digest or ID.
func (t *Target) DisplayName() string {
	return cmp.Or(t.Name, t.Ref, t.Digest, t.ID)
}

// TargetFromImage describes an opened image.
func TargetFromImage(img *image.Image) Target {
	t := Target{
		Kind:     KindImage,
		Source:   img.Source,
		Ref:      img.Ref,
		Name:     img.Name,
		Digest:   img.Digest,
		ID:       img.ID,
		RepoTags: slices.Clone(img.RepoTags),
		Created:  img.Created,
	}
	if img.RootDir != "" {
		t.Kind = KindRootFS
	}
	if img.Platform != (image.Platform{}) {
		pl := img.Platform
		t.Platform = &pl
	}
	cfg := img.Config
	t.Config = &cfg
	for _, l := range img.Layers {
		t.Size += l.Size
	}
	return t
}

// Severity is a vulnerability or issue severity, lowercase.
type Severity string

// The severities, from most to least severe.
const (
	Critical   Severity = "critical"
	High       Severity = "high"
	Medium     Severity = "medium"
	Low        Severity = "low"
	Negligible Severity = "negligible"
	Unknown    Severity = "unknown"
)

// Rank orders severities: Critical is 5, Negligible 1, Unknown and anything
// else 0.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 5
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Negligible:
		return 1
	}
	return 0
}

// FixStatus says whether the vendor has fixed a vulnerability.
type FixStatus string

// The fix states.
const (
	Fixed      FixStatus = "fixed"
	NotFixed   FixStatus = "not-fixed"
	WontFix    FixStatus = "wont-fix"
	EndOfLife  FixStatus = "end-of-life"
	FixUnknown FixStatus = ""
)

// Finding is one vulnerability of one package.
type Finding struct {
	// ID is the primary identifier, a CVE where one exists.
	ID string `json:"id"`
	// Aliases are other identifiers of the same vulnerability (GHSA-...,
	// GO-..., CVE-...).
	Aliases []string `json:"aliases,omitempty"`
	// AdvisoryIDs name the vendor advisories that announced the fix
	// (DSA-5678-1, RHSA-2024:1234, ALSA-...).
	AdvisoryIDs []string   `json:"advisoryIDs,omitempty"`
	Package     PackageRef `json:"package"`
	// InstalledVersion is the version found in the image.
	InstalledVersion string    `json:"installedVersion"`
	FixedVersions    []string  `json:"fixedVersions,omitempty"`
	FixStatus        FixStatus `json:"fixStatus,omitempty"`
	Severity         Severity  `json:"severity"`
	// SeveritySource names who rated the severity ("debian", "nvd",
	// "ghsa", ...).
	SeveritySource string `json:"severitySource,omitempty"`
	CVSS           []CVSS `json:"cvss,omitempty"`
	// KEV is true when CISA lists the vulnerability as known exploited.
	KEV bool `json:"kev,omitempty"`
	// EPSS is the FIRST exploit prediction, when known.
	EPSS        *EPSS    `json:"epss,omitempty"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	References  []string `json:"references,omitempty"`
	// Layer is the index of the layer that introduced the package.
	Layer int `json:"layer"`
	// Suppressed is set when policy or an ignore file silences the finding;
	// suppressed findings stay in the document so that formats can show them.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// PackageRef points a finding at its package in Inventory.Packages: Key is
// the package's Key() (authoritative), Index its position once the report is
// Sorted; the rest repeats the package's identity for readers that do not
// follow the reference.
type PackageRef struct {
	Key       string              `json:"key"`
	Index     int                 `json:"index"`
	Ecosystem inventory.Ecosystem `json:"ecosystem"`
	Name      string              `json:"name"`
	Version   string              `json:"version"`
	PURL      string              `json:"purl,omitempty"`
}

// RefTo returns the reference to a package at index i of an inventory.
func RefTo(p *inventory.Package, i int) PackageRef {
	return PackageRef{Key: p.Key(), Index: i, Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version, PURL: p.PURL}
}

// CVSS is one CVSS assessment.
type CVSS struct {
	// Version is "2.0", "3.0", "3.1" or "4.0".
	Version string  `json:"version"`
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
	// Source names who published the vector ("nvd", "ghsa", "redhat", ...).
	Source string `json:"source,omitempty"`
}

// EPSS is an exploit prediction score and its percentile, both in [0,1].
type EPSS struct {
	Score      float64 `json:"score"`
	Percentile float64 `json:"percentile"`
	// Date is the day the score was published (YYYY-MM-DD).
	Date string `json:"date,omitempty"`
}

// Suppression records why a finding is silenced.
type Suppression struct {
	Reason string `json:"reason"`
	// Source names the rule that matched (".vigilignore:12", "policy").
	Source string `json:"source"`
	// Expires is when the suppression stops applying; zero for never.
	Expires time.Time `json:"expires,omitzero"`
}

// Category groups audit issues.
type Category string

// The audit categories.
const (
	CategoryConfig     Category = "config"
	CategoryContent    Category = "content"
	CategoryDockerfile Category = "dockerfile"
	CategoryManifest   Category = "manifest"
	CategoryContainer  Category = "container"
	CategorySecret     Category = "secret"
)

// Issue is one hardening, configuration or secret finding.
type Issue struct {
	// ID is the rule that fired ("VGL-CFG-001").
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    Severity `json:"severity"`
	Category    Category `json:"category"`
	Description string   `json:"description,omitempty"`
	// Fix says what to change.
	Fix       string `json:"fix,omitempty"`
	Reference string `json:"reference,omitempty"`
	// Path and Line locate the issue in a file of the image or of the
	// manifest checked; Layer is the layer holding the file (-1 for none).
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
	Layer int    `json:"layer"`
	// Evidence is the offending text, with secrets masked.
	Evidence   string       `json:"evidence,omitempty"`
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Sorted returns a copy of r in canonical order: packages as
// inventory.Inventory.Sort orders them, layers by index, findings by package
// then ID, issues by category, ID and place. Each finding's Package.Index is
// set to its package's position in the sorted inventory (-1 when the key
// names no package). r itself is not modified; the copy shares the
// packages' and findings' inner slices with r.
func (r *Report) Sorted() *Report {
	out := *r
	if r.Inventory != nil {
		inv := *r.Inventory
		inv.Packages = slices.Clone(inv.Packages)
		inv.Layers = slices.Clone(inv.Layers)
		inv.Warnings = slices.Clone(inv.Warnings)
		inv.Sort()
		slices.SortStableFunc(inv.Layers, func(a, b inventory.Layer) int { return cmp.Compare(a.Index, b.Index) })
		out.Inventory = &inv
	}
	index := out.packageIndex()
	out.Vulnerabilities = slices.Clone(r.Vulnerabilities)
	for i := range out.Vulnerabilities {
		f := &out.Vulnerabilities[i]
		f.Package.Index = -1
		if j, ok := index[f.Package.Key]; ok {
			f.Package.Index = j
		}
	}
	slices.SortStableFunc(out.Vulnerabilities, func(a, b Finding) int {
		return cmp.Or(
			cmpIndex(a.Package.Index, b.Package.Index),
			strings.Compare(a.Package.Key, b.Package.Key),
			strings.Compare(a.ID, b.ID),
		)
	})
	out.Audit = slices.Clone(r.Audit)
	slices.SortStableFunc(out.Audit, func(a, b Issue) int {
		return cmp.Or(
			strings.Compare(string(a.Category), string(b.Category)),
			strings.Compare(a.ID, b.ID),
			strings.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Layer, b.Layer),
			strings.Compare(a.Evidence, b.Evidence),
		)
	})
	return &out
}

// cmpIndex orders package indexes with unresolved (-1) ones last.
func cmpIndex(a, b int) int {
	if (a < 0) != (b < 0) {
		if a < 0 {
			return 1
		}
		return -1
	}
	return cmp.Compare(a, b)
}

func (r *Report) packageIndex() map[string]int {
	m := map[string]int{}
	if r.Inventory == nil {
		return m
	}
	for i := range r.Inventory.Packages {
		k := r.Inventory.Packages[i].Key()
		if _, dup := m[k]; !dup {
			m[k] = i
		}
	}
	return m
}

// PackageOf returns the inventory package a finding refers to, or nil when
// the reference resolves to none. It trusts Index only when the package
// there has the finding's key, so a reference read from an untrusted
// document never indexes out of range.
func (r *Report) PackageOf(f *Finding) *inventory.Package {
	if r.Inventory == nil {
		return nil
	}
	pkgs := r.Inventory.Packages
	if i := f.Package.Index; i >= 0 && i < len(pkgs) && (f.Package.Key == "" || pkgs[i].Key() == f.Package.Key) {
		return &pkgs[i]
	}
	for i := range pkgs {
		if pkgs[i].Key() == f.Package.Key {
			return &pkgs[i]
		}
	}
	return nil
}

// Layer returns the inventory layer with the given index, or nil.
func (r *Report) Layer(index int) *inventory.Layer {
	if r.Inventory == nil {
		return nil
	}
	for i := range r.Inventory.Layers {
		if r.Inventory.Layers[i].Index == index {
			return &r.Inventory.Layers[i]
		}
	}
	return nil
}
