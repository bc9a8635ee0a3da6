// Package view arranges a report for the formats people read (table,
// markdown, html): findings grouped by target (OS packages first, then each
// language target by path) and ordered most severe first, vulnerability IDs
// with the CVE first, layers labelled with their Dockerfile step. Every
// human format uses it, so that they all show the same thing in the same
// order.
package view

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
)

// View is a report arranged for reading.
type View struct {
	// R is the annotated, sorted report (every finding has a Remediation,
	// Summary is set).
	R *report.Report
	// Sections hold the unsuppressed findings, one section per target with
	// findings, in the order of report.Groups.
	Sections []Section
	// Clean counts the targets without unsuppressed findings.
	Clean int
	// Hardening and Secrets are the unsuppressed audit issues, most severe
	// first.
	Hardening, Secrets []*report.Issue
	// Suppressed are the suppressed findings; SuppressedIssues the
	// suppressed audit issues.
	Suppressed       []*report.Finding
	SuppressedIssues []*report.Issue
	// Summary is R.Summary.
	Summary report.Summary
	// Matched is true when the inventory was matched against the
	// vulnerability database (the report has findings or a summary), so
	// that "no vulnerabilities" is a finding and not a scan not run (an
	// audit-only report).
	Matched bool
	// Scan is HasFindings of the report as given: false for an SBOM.
	Scan bool
}

// Section is the findings of one target.
type Section struct {
	// Title names the target: "OS packages: Debian GNU/Linux 12
	// (bookworm)", "app/node_modules (npm)".
	Title    string
	Group    report.Group
	Findings []*report.Finding
}

// New arranges r (which it does not modify).
func New(r *report.Report) *View {
	matched := r.Summary != nil || len(r.Vulnerabilities) > 0
	scan := HasFindings(r)
	r = remediation.Annotated(r)
	v := &View{R: r, Summary: *r.Summary, Matched: matched, Scan: scan}
	inv := r.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	byGroup := map[string][]*report.Finding{}
	var orphans []*report.Finding
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		if f.Suppressed != nil {
			v.Suppressed = append(v.Suppressed, f)
			continue
		}
		p := r.PackageOf(f)
		if p == nil {
			orphans = append(orphans, f)
			continue
		}
		byGroup[GroupKey(p)] = append(byGroup[GroupKey(p)], f)
	}
	for _, g := range report.Groups(inv) {
		key := ""
		if len(g.Packages) > 0 {
			key = GroupKey(g.Packages[0])
		}
		fs := byGroup[key]
		if len(fs) == 0 {
			v.Clean++
			continue
		}
		SortFindings(r, fs)
		v.Sections = append(v.Sections, Section{Title: GroupTitle(inv, g), Group: g, Findings: fs})
	}
	if len(orphans) > 0 {
		SortFindings(r, orphans)
		v.Sections = append(v.Sections, Section{Title: "Packages not in the inventory", Findings: orphans})
	}
	for i := range r.Audit {
		is := &r.Audit[i]
		switch {
		case is.Suppressed != nil:
			v.SuppressedIssues = append(v.SuppressedIssues, is)
		case is.Category == report.CategorySecret:
			v.Secrets = append(v.Secrets, is)
		default:
			v.Hardening = append(v.Hardening, is)
		}
	}
	bySeverity := func(a, b *report.Issue) int { return cmp.Compare(b.Severity.Rank(), a.Severity.Rank()) }
	slices.SortStableFunc(v.Hardening, bySeverity)
	slices.SortStableFunc(v.Secrets, bySeverity)
	return v
}

// HasFindings reports whether the report is a vulnerability or audit scan
// (rather than an SBOM listing): it has findings or issues, or a summary.
func HasFindings(r *report.Report) bool {
	return len(r.Vulnerabilities) > 0 || len(r.Audit) > 0 || r.Summary != nil
}

// GroupKey identifies the group of a package as report.Groups forms them.
func GroupKey(p *inventory.Package) string {
	if p.Ecosystem.IsOS() {
		return "os"
	}
	return string(p.Ecosystem) + "\x00" + report.TargetPath(p)
}

// GroupTitle names a group.
func GroupTitle(inv *inventory.Inventory, g report.Group) string {
	if g.OS {
		if inv.Distro != nil {
			return "OS packages: " + DistroName(inv.Distro)
		}
		return "OS packages"
	}
	return cmp.Or(g.Path, "(no path)") + " (" + string(g.Ecosystem) + ")"
}

// DistroName is the release's pretty name, else "family version (codename)".
func DistroName(d *inventory.Distro) string {
	if d.Name != "" {
		return d.Name
	}
	s := strings.TrimSpace(d.Family + " " + d.Version)
	if d.Codename != "" {
		s += " (" + d.Codename + ")"
	}
	return s
}

// SortFindings orders findings most severe first, then by package name,
// installed version and ID.
func SortFindings(r *report.Report, fs []*report.Finding) {
	slices.SortStableFunc(fs, func(a, b *report.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.Package.Name, b.Package.Name),
			strings.Compare(a.InstalledVersion, b.InstalledVersion),
			strings.Compare(a.ID, b.ID),
		)
	})
}

// IDs lists a finding's identifiers, CVEs first, then the others in the
// order the finding gives them, without repeats.
func IDs(f *report.Finding) []string {
	all := append([]string{f.ID}, f.Aliases...)
	var cves, other []string
	for _, id := range all {
		if id == "" || slices.Contains(cves, id) || slices.Contains(other, id) {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(id), "CVE-") {
			cves = append(cves, id)
		} else {
			other = append(other, id)
		}
	}
	return append(cves, other...)
}

// Step is the Dockerfile step that made a layer: the instruction the report
// maps to it, else the layer history's created_by shortened, else the
// layer's short diffID; "" when nothing is known.
func Step(r *report.Report, index int) string {
	if s := r.DockerfileStep(index); s != nil && s.Instruction != "" {
		return s.Instruction
	}
	l := r.Layer(index)
	if l == nil {
		return ""
	}
	if step := report.ShortStep(l.CreatedBy); step != "" {
		return step
	}
	return ShortDigest(l.DiffID)
}

// LayerLabel is "#<index> <step>".
func LayerLabel(r *report.Report, index int) string {
	s := "#" + strconv.Itoa(index)
	if step := Step(r, index); step != "" {
		s += " " + step
	}
	return s
}

// DockerfileLine is "Dockerfile:3" for a layer the report maps to a
// Dockerfile line, else "".
func DockerfileLine(r *report.Report, index int) string {
	s := r.DockerfileStep(index)
	if s == nil {
		return ""
	}
	out := cmp.Or(r.Target.Dockerfile, "Dockerfile") + ":" + strconv.Itoa(s.Line)
	if s.EndLine > s.Line {
		out += "-" + strconv.Itoa(s.EndLine)
	}
	return out
}

// ShortDigest shortens "sha256:<64 hex>" to "sha256:<12 hex>".
func ShortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

// Where is an issue's place: "path:line", "image config" for an issue
// outside any file.
func Where(is *report.Issue) string {
	if is.Path == "" {
		return "image config"
	}
	if is.Line > 0 {
		return is.Path + ":" + strconv.Itoa(is.Line)
	}
	return is.Path
}

// FixedIn is the fixed versions joined, or the fix status when there are
// none ("wont-fix", "not fixed").
func FixedIn(f *report.Finding) string {
	if len(f.FixedVersions) > 0 {
		return strings.Join(f.FixedVersions, ", ")
	}
	switch f.FixStatus {
	case report.WontFix:
		return "won't fix"
	case report.EndOfLife:
		return "end of life"
	}
	return "no fix yet"
}

// SeverityLine is "1 critical, 2 high" for the non-zero counts, "none"
// when all are zero.
func SeverityLine(c report.SeverityCounts) string {
	var parts []string
	for _, s := range report.Severities() {
		if n := c.Of(s); n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+string(s))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Plural is "1 finding" or "N findings".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// URL is the page of a vulnerability: its first http(s) reference, else
// the database that publishes its ID.
func URL(f *report.Finding) string {
	for _, ref := range f.References {
		if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
			return ref
		}
	}
	return IDURL(f.ID)
}

// IDURL is the page of a vulnerability ID.
func IDURL(id string) string {
	e := url.PathEscape(id)
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + e
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + e
	}
	return "https://osv.dev/vulnerability/" + e
}
