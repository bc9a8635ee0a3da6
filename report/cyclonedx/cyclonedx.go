// Package cyclonedx writes a report as a CycloneDX 1.6 JSON BOM: the image
// as the metadata component, the OS and each language target (a
// node_modules tree, a site-packages directory, a Go binary, a lock file) as
// components that the image depends on, every package as a library
// component with its PURL, licenses and vigil properties (layer, Dockerfile
// step, locations, owning OS package), and the report's vulnerabilities, if
// any, in the vulnerabilities section. A suppressed finding carries an
// impact analysis (not_affected with its VEX justification, false_positive,
// or resolved), so the BOM doubles as a VEX document.
//
// Properties use the "vigil:" namespace:
//
//	vigil:layer:index, vigil:layer:diffID, vigil:layer:createdBy
//	vigil:location          one per file the package was read from
//	vigil:ownedBy           the OS package owning a language package
//	vigil:package:source, vigil:package:sourceVersion
//	vigil:package:indirect  "true" for an indirect dependency
package cyclonedx

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/purl"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/license"
)

// SchemaURL is the JSON schema the output declares and conforms to.
const SchemaURL = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// Encoder writes CycloneDX 1.6 JSON.
type Encoder struct{}

// Encode implements report.Encoder.
func (Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("cyclonedx: encode: nil report")
	}
	bom := BOM(r)
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return fmt.Errorf("cyclonedx: encode %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

// BOM converts a report to a CycloneDX 1.6 BOM. The report is not modified.
func BOM(r *report.Report) *cdx.BOM {
	r = r.Sorted()
	b := &builder{r: r, refs: map[string]bool{}, pkgRefs: map[*inventory.Package]string{}}
	return b.build()
}

type builder struct {
	r       *report.Report
	refs    map[string]bool
	pkgRefs map[*inventory.Package]string
}

// ref returns base, or base with a counter when base is taken, so that
// bom-refs stay unique even for a report with duplicate packages.
func (b *builder) ref(base string) string {
	ref := base
	for n := 2; b.refs[ref]; n++ {
		ref = base + "-" + strconv.Itoa(n)
	}
	b.refs[ref] = true
	return ref
}

func (b *builder) build() *cdx.BOM {
	r := b.r
	inv := r.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	bom := &cdx.BOM{
		JSONSchema:   SchemaURL,
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  cdx.SpecVersion1_6,
		Version:      1,
		SerialNumber: "urn:uuid:" + report.DocumentUUID("cyclonedx", targetIdentity(&r.Target), r.CreatedAt.UTC().Format(time.RFC3339Nano), r.Tool.Version),
	}
	root := b.rootComponent()
	bom.Metadata = &cdx.Metadata{
		Timestamp: r.CreatedAt.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type:    cdx.ComponentTypeApplication,
			Group:   "vigilsec",
			Name:    cmpOr(r.Tool.Name, "vigil"),
			Version: r.Tool.Version,
		}}},
		Component: &root,
	}

	var comps []cdx.Component
	var rootDeps []string
	var deps []cdx.Dependency
	hasOS := false
	for _, g := range report.Groups(inv) {
		hasOS = hasOS || g.OS
		var parent cdx.Component
		if g.OS {
			parent = b.osComponent(inv.Distro)
		} else {
			parent = b.targetComponent(g)
		}
		comps = append(comps, parent)
		rootDeps = append(rootDeps, parent.BOMRef)
		var children []string
		for _, p := range g.Packages {
			c := b.packageComponent(p, inv.Distro)
			comps = append(comps, c)
			children = append(children, c.BOMRef)
		}
		deps = append(deps, cdx.Dependency{Ref: parent.BOMRef, Dependencies: &children})
	}
	if inv.Distro != nil && !hasOS {
		// An OS was detected but no OS packages (e.g. a scratch-like image
		// with an os-release file): still record the OS.
		c := b.osComponent(inv.Distro)
		comps = append([]cdx.Component{c}, comps...)
		rootDeps = append([]string{c.BOMRef}, rootDeps...)
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}
	deps = append([]cdx.Dependency{{Ref: root.BOMRef, Dependencies: &rootDeps}}, deps...)
	bom.Dependencies = &deps
	if vulns := b.vulnerabilities(); len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	return bom
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// targetIdentity is what makes a target unique: its manifest digest, else
// its config ID, else the reference.
func targetIdentity(t *report.Target) string {
	return cmpOr(t.Digest, cmpOr(t.ID, t.Ref))
}

func (b *builder) rootComponent() cdx.Component {
	t := &b.r.Target
	c := cdx.Component{
		BOMRef:  b.ref("vigil:target"),
		Type:    cdx.ComponentTypeContainer,
		Name:    cmpOr(t.DisplayName(), "unknown"),
		Version: cmpOr(t.Digest, t.ID),
	}
	if t.Kind == report.KindRootFS {
		c.Type = cdx.ComponentTypeFile
	}
	if p := ociPURL(t); p != "" {
		c.PackageURL = p
	}
	if alg, hexDigest, ok := strings.Cut(t.Digest, ":"); ok && alg == "sha256" && isSHA256Hex(hexDigest) {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hexDigest}}
	}
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	add("vigil:target:kind", string(t.Kind))
	add("vigil:image:source", t.Source)
	add("vigil:image:ref", t.Ref)
	add("vigil:image:id", t.ID)
	for _, tag := range t.RepoTags {
		add("vigil:image:repoTag", tag)
	}
	if t.Platform != nil {
		add("vigil:image:platform", t.Platform.String())
	}
	if !t.Created.IsZero() {
		add("vigil:image:created", t.Created.UTC().Format(time.RFC3339))
	}
	if t.Size > 0 {
		add("vigil:image:size", strconv.FormatInt(t.Size, 10))
	}
	if inv := b.r.Inventory; inv != nil {
		for _, l := range inv.Layers {
			prefix := "vigil:layer:" + strconv.Itoa(l.Index) + ":"
			add(prefix+"diffID", l.DiffID)
			add(prefix+"digest", l.Digest)
			add(prefix+"createdBy", report.ShortStep(l.CreatedBy))
		}
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// ociPURL is the pkg:oci URL of an image with a manifest digest.
func ociPURL(t *report.Target) string {
	if t.Digest == "" || t.Kind != report.KindImage {
		return ""
	}
	repo, tag := splitImageName(t.Name)
	name := repo
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		name = repo[i+1:]
	}
	if name == "" {
		return ""
	}
	var q packageurl.Qualifiers
	if t.Platform != nil && t.Platform.Architecture != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: t.Platform.Architecture})
	}
	if repo != name {
		q = append(q, packageurl.Qualifier{Key: "repository_url", Value: repo})
	}
	if tag != "" {
		q = append(q, packageurl.Qualifier{Key: "tag", Value: tag})
	}
	u := packageurl.PackageURL{Type: "oci", Name: strings.ToLower(name), Version: t.Digest, Qualifiers: q}
	if err := u.Normalize(); err != nil {
		return ""
	}
	return u.ToString()
}

// splitImageName splits "registry/repo:tag@digest" into repository and tag.
func splitImageName(name string) (repo, tag string) {
	name, _, _ = strings.Cut(name, "@")
	slash := strings.LastIndexByte(name, '/')
	if colon := strings.LastIndexByte(name, ':'); colon > slash {
		return name[:colon], name[colon+1:]
	}
	return name, ""
}

func (b *builder) osComponent(d *inventory.Distro) cdx.Component {
	if d == nil {
		return cdx.Component{BOMRef: b.ref("vigil:os:unknown"), Type: cdx.ComponentTypeOS, Name: "unknown"}
	}
	c := cdx.Component{
		BOMRef:      b.ref("vigil:os:" + d.Family + "@" + d.Version),
		Type:        cdx.ComponentTypeOS,
		Name:        cmpOr(d.Family, "unknown"),
		Version:     d.Version,
		Description: d.Name,
	}
	var props []cdx.Property
	if d.Codename != "" {
		props = append(props, cdx.Property{Name: "vigil:distro:codename", Value: d.Codename})
	}
	if d.Distroless {
		props = append(props, cdx.Property{Name: "vigil:distro:distroless", Value: "true"})
	}
	if d.Source != "" {
		props = append(props, cdx.Property{Name: "vigil:distro:source", Value: d.Source})
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

func (b *builder) targetComponent(g report.Group) cdx.Component {
	name := cmpOr(g.Path, string(g.Ecosystem))
	return cdx.Component{
		BOMRef: b.ref("vigil:target:" + string(g.Ecosystem) + ":" + g.Path),
		Type:   cdx.ComponentTypeApplication,
		Name:   name,
		Properties: &[]cdx.Property{
			{Name: "vigil:target:ecosystem", Value: string(g.Ecosystem)},
		},
	}
}

func (b *builder) packageComponent(p *inventory.Package, d *inventory.Distro) cdx.Component {
	c := cdx.Component{
		BOMRef:     b.ref("vigil:pkg:" + report.PackageID(p)),
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: cmpOr(p.PURL, purl.For(p, d)),
	}
	b.pkgRefs[p] = c.BOMRef
	switch {
	case p.Ecosystem == inventory.Maven:
		c.Group = p.Group
	case p.Ecosystem == inventory.NPM && strings.HasPrefix(p.Name, "@"):
		if scope, name, ok := strings.Cut(p.Name, "/"); ok && name != "" {
			c.Group, c.Name = scope, name
		}
	}
	if ls := licenses(p.Licenses); ls != nil {
		c.Licenses = ls
	}
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	add("vigil:layer:index", strconv.Itoa(p.Layer))
	if l := b.r.Layer(p.Layer); l != nil {
		add("vigil:layer:diffID", l.DiffID)
		add("vigil:layer:createdBy", report.ShortStep(l.CreatedBy))
	}
	for _, loc := range p.Locations {
		add("vigil:location", loc.Path)
	}
	add("vigil:ownedBy", p.OwnedBy)
	if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != "" && p.SourceVersion != p.Version) {
		add("vigil:package:source", p.SourceName)
		add("vigil:package:sourceVersion", p.SourceVersion)
	}
	if p.Indirect {
		add("vigil:package:indirect", "true")
	}
	c.Properties = &props
	return c
}

// licenses maps declared license strings to CycloneDX license choices: one
// valid SPDX expression becomes an expression, SPDX identifiers become IDs,
// anything else a name. (CycloneDX allows either one expression or a list
// of licenses, never both.)
func licenses(ls []string) *cdx.Licenses {
	var out cdx.Licenses
	for _, s := range ls {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if len(ls) == 1 {
			if expr, ok := license.Expression(s); ok && (license.IsCompound(expr) || strings.HasSuffix(expr, "+")) {
				out = append(out, cdx.LicenseChoice{Expression: expr})
				continue
			}
		}
		if id, ok := license.ID(s); ok {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: id}})
			continue
		}
		out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: s}})
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

func (b *builder) vulnerabilities() []cdx.Vulnerability {
	var out []cdx.Vulnerability
	for i := range b.r.Vulnerabilities {
		f := &b.r.Vulnerabilities[i]
		p := b.r.PackageOf(f)
		pkgRef, pkgID := "", f.Package.Name
		if p != nil {
			pkgRef, pkgID = b.pkgRefs[p], report.PackageID(p)
		}
		v := cdx.Vulnerability{
			BOMRef:         b.ref("vigil:vuln:" + f.ID + ":" + pkgID),
			ID:             f.ID,
			Source:         source(f.ID),
			Description:    f.Title,
			Detail:         f.Description,
			Recommendation: recommendation(f),
		}
		var refs []cdx.VulnerabilityReference
		for _, id := range append(slices.Clone(f.Aliases), f.AdvisoryIDs...) {
			if id != "" && id != f.ID {
				refs = append(refs, cdx.VulnerabilityReference{ID: id, Source: source(id)})
			}
		}
		if len(refs) > 0 {
			v.References = &refs
		}
		if ratings := ratings(f); len(ratings) > 0 {
			v.Ratings = &ratings
		}
		var advisories []cdx.Advisory
		for _, u := range f.References {
			if u != "" {
				advisories = append(advisories, cdx.Advisory{URL: u})
			}
		}
		if len(advisories) > 0 {
			v.Advisories = &advisories
		}
		if pkgRef != "" {
			versions := []cdx.AffectedVersions{{Version: f.InstalledVersion, Status: cdx.VulnerabilityStatusAffected}}
			for _, fv := range f.FixedVersions {
				versions = append(versions, cdx.AffectedVersions{Version: fv, Status: cdx.VulnerabilityStatusNotAffected})
			}
			v.Affects = &[]cdx.Affects{{Ref: pkgRef, Range: &versions}}
		}
		var props []cdx.Property
		add := func(name, value string) {
			if value != "" {
				props = append(props, cdx.Property{Name: name, Value: value})
			}
		}
		add("vigil:fixStatus", string(f.FixStatus))
		add("vigil:severitySource", f.SeveritySource)
		if f.KEV {
			add("vigil:kev", "true")
		}
		if f.EPSS != nil {
			add("vigil:epss:score", strconv.FormatFloat(f.EPSS.Score, 'f', -1, 64))
			add("vigil:epss:percentile", strconv.FormatFloat(f.EPSS.Percentile, 'f', -1, 64))
			add("vigil:epss:date", f.EPSS.Date)
		}
		add("vigil:layer:index", strconv.Itoa(f.Layer))
		if s := f.Suppressed; s != nil {
			v.Analysis = analysis(s)
			add("vigil:suppressed", "true")
			add("vigil:suppressed:kind", s.Kind)
		}
		if len(props) > 0 {
			v.Properties = &props
		}
		out = append(out, v)
	}
	return out
}

// analysis is the CycloneDX impact analysis of a suppressed finding: an
// ignore rule or a not_affected VEX statement is "not_affected" (with the
// justification mapped to CycloneDX's vocabulary), a false positive
// "false_positive", a fixed statement "resolved".
func analysis(s *report.Suppression) *cdx.VulnerabilityAnalysis {
	detail := "suppressed by " + cmpOr(s.Source, "policy") + ": " + s.Reason
	if !s.Expires.IsZero() {
		detail += " (until " + s.Expires.UTC().Format(time.RFC3339) + ")"
	}
	a := &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Detail: detail}
	switch s.Status {
	case report.StatusFalsePositive:
		a.State = cdx.IASFalsePositive
	case report.StatusFixed:
		a.State = cdx.IASResolved
	default:
		a.Justification = justification(s.Justification)
	}
	return a
}

// justification maps an OpenVEX or CycloneDX justification code to
// CycloneDX's; "" when there is none.
func justification(j string) cdx.ImpactAnalysisJustification {
	switch j {
	case "component_not_present", "vulnerable_code_not_present":
		return cdx.IAJCodeNotPresent
	case "vulnerable_code_not_in_execute_path":
		return cdx.IAJCodeNotReachable
	case "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist":
		return cdx.IAJProtectedByMitigatingControl
	}
	switch c := cdx.ImpactAnalysisJustification(j); c {
	case cdx.IAJCodeNotPresent, cdx.IAJCodeNotReachable, cdx.IAJRequiresConfiguration, cdx.IAJRequiresDependency,
		cdx.IAJRequiresEnvironment, cdx.IAJProtectedByCompiler, cdx.IAJProtectedAtRuntime, cdx.IAJProtectedAtPerimeter,
		cdx.IAJProtectedByMitigatingControl:
		return c
	}
	return ""
}

// recommendation is the finding's remediation text when the report carries
// one, else the fixed versions.
func recommendation(f *report.Finding) string {
	if f.Remediation != nil && f.Remediation.Text != "" {
		return f.Remediation.Text
	}
	if len(f.FixedVersions) == 0 {
		return ""
	}
	return "Upgrade " + f.Package.Name + " to " + strings.Join(f.FixedVersions, " or ") + "."
}

// source names the database that publishes an identifier.
func source(id string) *cdx.Source {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "CVE":
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case "GHSA":
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	case "DSA", "DLA":
		return &cdx.Source{Name: "Debian", URL: "https://security-tracker.debian.org/tracker/" + id}
	}
	return &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + id}
}

func ratings(f *report.Finding) []cdx.VulnerabilityRating {
	var out []cdx.VulnerabilityRating
	for _, c := range f.CVSS {
		score := c.Score
		r := cdx.VulnerabilityRating{
			Score:    &score,
			Severity: cvssSeverity(c.Version, c.Score),
			Method:   cvssMethod(c.Version),
			Vector:   c.Vector,
		}
		if c.Source != "" {
			r.Source = &cdx.Source{Name: c.Source}
		}
		out = append(out, r)
	}
	if f.Severity != "" {
		r := cdx.VulnerabilityRating{Severity: severity(f.Severity), Method: cdx.ScoringMethodOther}
		if f.SeveritySource != "" {
			r.Source = &cdx.Source{Name: f.SeveritySource}
		}
		out = append(out, r)
	}
	return out
}

func cvssMethod(version string) cdx.ScoringMethod {
	switch version {
	case "2.0", "2":
		return cdx.ScoringMethodCVSSv2
	case "3.0":
		return cdx.ScoringMethodCVSSv3
	case "3.1":
		return cdx.ScoringMethodCVSSv31
	case "4.0", "4":
		return cdx.ScoringMethodCVSSv4
	}
	return cdx.ScoringMethodOther
}

// cvssSeverity is the qualitative rating of a CVSS base score.
func cvssSeverity(version string, score float64) cdx.Severity {
	if strings.HasPrefix(version, "2") {
		switch {
		case score < 4:
			return cdx.SeverityLow
		case score < 7:
			return cdx.SeverityMedium
		}
		return cdx.SeverityHigh
	}
	switch {
	case score == 0:
		return cdx.SeverityNone
	case score < 4:
		return cdx.SeverityLow
	case score < 7:
		return cdx.SeverityMedium
	case score < 9:
		return cdx.SeverityHigh
	}
	return cdx.SeverityCritical
}

func severity(s report.Severity) cdx.Severity {
	switch s {
	case report.Critical:
		return cdx.SeverityCritical
	case report.High:
		return cdx.SeverityHigh
	case report.Medium:
		return cdx.SeverityMedium
	case report.Low:
		return cdx.SeverityLow
	case report.Negligible:
		return cdx.SeverityInfo
	}
	return cdx.SeverityUnknown
}
