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
	// Summary counts the findings and groups them by what fixes them. It is
	// set (by remediation.Annotate) when the inventory was matched against
	// the vulnerability database, after policy was applied; nil for an SBOM.
	Summary *Summary `json:"summary,omitempty"`
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
	// Dockerfile is the path of the Dockerfile the image was built from, as
	// the user gave it (relative to the repository root, so that code
	// scanning can show findings on it); empty when none was given.
	Dockerfile string `json:"dockerfile,omitempty"`
	// DockerfileSteps map layers to the Dockerfile instructions that made
	// them, ordered by layer. Layers of the base image map to the FROM line.
	DockerfileSteps []DockerfileStep `json:"dockerfileSteps,omitempty"`
}

// DockerfileStep ties one layer to the Dockerfile instruction that made it.
type DockerfileStep struct {
	// Layer is the layer index (inventory.Layer.Index).
	Layer int `json:"layer"`
	// Line and EndLine are the 1-based first and last lines of the
	// instruction (EndLine is 0 when the instruction is one line).
	Line    int `json:"line"`
	EndLine int `json:"endLine,omitempty"`
	// Instruction is the instruction as written, continuation lines joined
	// ("RUN apt-get install -y curl").
	Instruction string `json:"instruction,omitempty"`
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
	// Remediation says what to do about the finding (see the remediation
	// package); nil until remediation.Annotate ran.
	Remediation *Remediation `json:"remediation,omitempty"`
}

// Action is the kind of change that fixes a finding.
type Action string

// The remediation actions.
const (
	// ActionRebuild: an OS package with a fixed version; rebuilding the
	// image on the current base image and package archive installs it.
	ActionRebuild Action = "rebuild"
	// ActionUpgrade: an application dependency (or the Go toolchain) must
	// be bumped in the project and the application rebuilt.
	ActionUpgrade Action = "upgrade"
	// ActionNoFix: no fixed version exists (yet, or ever).
	ActionNoFix Action = "no-fix"
)

// Remediation is what to do about one finding.
type Remediation struct {
	Action Action `json:"action"`
	// FixedVersion is the version to move to: the lowest fixed version above
	// the installed one. For Debian and Ubuntu it is a source package version.
	FixedVersion string `json:"fixedVersion,omitempty"`
	// Command is the package-manager command that installs the fix, with
	// every name and version shell-quoted where needed; empty when no single
	// command does it.
	Command string `json:"command,omitempty"`
	// Text explains the fix in a sentence or two.
	Text string `json:"text"`
}

// Summary counts a report's findings for people and CI.
type Summary struct {
	// Packages is the number of packages in the inventory.
	Packages int `json:"packages"`
	// Vulnerabilities counts the findings that are not suppressed.
	Vulnerabilities SeverityCounts `json:"vulnerabilities"`
	// Fixable counts the unsuppressed findings with a fixed version.
	Fixable int `json:"fixable"`
	// Suppressed counts the suppressed findings.
	Suppressed int `json:"suppressed"`
	// Actions groups the unsuppressed findings by what fixes them.
	Actions ActionCounts `json:"actions"`
	// Audit counts the audit issues that are not suppressed (hardening and
	// secrets); Secrets how many of them are secrets.
	Audit   SeverityCounts `json:"audit"`
	Secrets int            `json:"secrets"`
	// AuditSuppressed counts the suppressed audit issues.
	AuditSuppressed int `json:"auditSuppressed"`
}

// SeverityCounts counts findings per severity.
type SeverityCounts struct {
	Total      int `json:"total"`
	Critical   int `json:"critical"`
	High       int `json:"high"`
	Medium     int `json:"medium"`
	Low        int `json:"low"`
	Negligible int `json:"negligible"`
	Unknown    int `json:"unknown"`
}

// Add counts one finding of severity s.
func (c *SeverityCounts) Add(s Severity) {
	c.Total++
	switch s {
	case Critical:
		c.Critical++
	case High:
		c.High++
	case Medium:
		c.Medium++
	case Low:
		c.Low++
	case Negligible:
		c.Negligible++
	default:
		c.Unknown++
	}
}

// Of returns the count for severity s.
func (c *SeverityCounts) Of(s Severity) int {
	switch s {
	case Critical:
		return c.Critical
	case High:
		return c.High
	case Medium:
		return c.Medium
	case Low:
		return c.Low
	case Negligible:
		return c.Negligible
	}
	return c.Unknown
}

// Severities lists the severities from most to least severe.
func Severities() []Severity {
	return []Severity{Critical, High, Medium, Low, Negligible, Unknown}
}

// ActionCounts counts findings per remediation action.
type ActionCounts struct {
	Rebuild int `json:"rebuild"`
	Upgrade int `json:"upgrade"`
	NoFix   int `json:"noFix"`
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
	// Source names the rule that matched: the file and line of the ignore
	// rule (".vigil.yaml:12") or of the VEX statement ("app.openvex.json:40").
	Source string `json:"source"`
	// Expires is when the suppression stops applying; zero for never.
	Expires time.Time `json:"expires,omitzero"`
	// Kind says what suppressed: SuppressedByIgnore or SuppressedByVEX.
	Kind string `json:"kind,omitempty"`
	// Status is the assessment: StatusNotAffected, StatusFalsePositive or
	// StatusFixed.
	Status string `json:"status,omitempty"`
	// Justification is the VEX justification code as the document gave it
	// (OpenVEX "vulnerable_code_not_in_execute_path", CycloneDX
	// "code_not_reachable"), when there is one.
	Justification string `json:"justification,omitempty"`
}

// The kinds of suppression.
const (
	SuppressedByIgnore = "ignore"
	SuppressedByVEX    = "vex"
)

// The suppression statuses.
const (
	StatusNotAffected   = "not_affected"
	StatusFalsePositive = "false_positive"
	StatusFixed         = "fixed"
)

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
// inventory.Inventory.Sort orders them, layers and Dockerfile steps by
// layer index, findings by package
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
	if len(r.Target.DockerfileSteps) > 0 {
		out.Target.DockerfileSteps = slices.Clone(r.Target.DockerfileSteps)
		slices.SortStableFunc(out.Target.DockerfileSteps, func(a, b DockerfileStep) int { return cmp.Compare(a.Layer, b.Layer) })
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

// DockerfileStep returns the Dockerfile instruction that made a layer, or
// nil when the report maps no Dockerfile line to it.
func (r *Report) DockerfileStep(layer int) *DockerfileStep {
	for i := range r.Target.DockerfileSteps {
		if s := &r.Target.DockerfileSteps[i]; s.Layer == layer && s.Line > 0 {
			return s
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
