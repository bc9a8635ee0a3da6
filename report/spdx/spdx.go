// Package spdx writes a report as an SPDX 2.3 JSON document: the scanned
// target as the described package, the OS release and every package as
// packages it CONTAINS (and an OS package CONTAINS the language packages
// whose files it owns), each with its PURL as a package-manager external
// reference. Licenses are concluded NOASSERTION and declared from what the
// package says: SPDX expressions as they are, anything else as a
// LicenseRef- with the original text in hasExtractedLicensingInfos.
//
// The document namespace is derived from the target's digest (else its ID
// or reference), the creation time and the tool version, so the same scan
// always gives the same document and different scans different namespaces.
package spdx

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	v23 "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/purl"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/license"
)

// NamespaceBase prefixes every document namespace vigil writes.
const NamespaceBase = "https://github.com/vigilsec/vigil/spdx/"

const noAssertion = "NOASSERTION"

// Encoder writes SPDX 2.3 JSON.
type Encoder struct{}

// Encode implements report.Encoder.
func (Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("spdx: encode: nil report")
	}
	doc := Document(r)
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return fmt.Errorf("spdx: encode %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

// Document converts a report to an SPDX 2.3 document. The report is not
// modified.
func Document(r *report.Report) *v23.Document {
	r = r.Sorted()
	b := &builder{r: r, ids: map[common.ElementID]bool{}, licenseRefs: map[string]string{}, usedRefs: map[string]bool{}}
	return b.build()
}

type builder struct {
	r           *report.Report
	ids         map[common.ElementID]bool
	licenseRefs map[string]string // license text -> LicenseRef-
	usedRefs    map[string]bool
	others      []*v23.OtherLicense
}

// id returns a unique element ID built from base.
func (b *builder) id(base string) common.ElementID {
	base = sanitize(base)
	id := common.ElementID(base)
	for n := 2; b.ids[id]; n++ {
		id = common.ElementID(base + "-" + strconv.Itoa(n))
	}
	b.ids[id] = true
	return id
}

// sanitize keeps the characters SPDX identifiers allow (letters, digits,
// "." and "-") and replaces runs of anything else with one "-".
func sanitize(s string) string {
	var sb strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			sb.WriteByte(c)
			dash = c == '-'
			continue
		}
		if !dash {
			sb.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(sb.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

func (b *builder) build() *v23.Document {
	r := b.r
	t := &r.Target
	inv := r.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	name := t.DisplayName()
	if name == "" {
		name = "unknown"
	}
	created := r.CreatedAt.UTC()
	identity := t.Digest
	if identity == "" {
		identity = t.ID
	}
	if identity == "" {
		identity = t.Ref
	}
	toolName := r.Tool.Name
	if toolName == "" {
		toolName = "vigil"
	}
	doc := &v23.Document{
		SPDXVersion:       v23.Version,
		DataLicense:       v23.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: NamespaceBase + sanitize(cmpOr(string(t.Kind), "target")) + "/" + sanitize(name) + "-" + report.DocumentUUID("spdx", identity, created.Format(time.RFC3339Nano), r.Tool.Version),
		CreationInfo: &v23.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: toolName + "-" + cmpOr(r.Tool.Version, "unknown")}},
			Created:  created.Format(time.RFC3339),
		},
	}
	b.ids["DOCUMENT"] = true

	root := b.rootPackage(name)
	doc.Packages = append(doc.Packages, root)
	rel := func(a common.ElementID, kind string, c common.ElementID) {
		doc.Relationships = append(doc.Relationships, &v23.Relationship{
			RefA:         common.DocElementID{ElementRefID: a},
			RefB:         common.DocElementID{ElementRefID: c},
			Relationship: kind,
		})
	}
	rel("DOCUMENT", common.TypeRelationshipDescribe, root.PackageSPDXIdentifier)

	if d := inv.Distro; d != nil {
		osPkg := &v23.Package{
			PackageName:             cmpOr(d.Family, "unknown"),
			PackageSPDXIdentifier:   b.id("OperatingSystem-" + d.Family + "-" + d.Version),
			PackageVersion:          d.Version,
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PackageDescription:      d.Name,
			PrimaryPackagePurpose:   "OPERATING-SYSTEM",
		}
		doc.Packages = append(doc.Packages, osPkg)
		rel(root.PackageSPDXIdentifier, common.TypeRelationshipContains, osPkg.PackageSPDXIdentifier)
	}

	byRef := map[string]common.ElementID{}
	ids := make([]common.ElementID, len(inv.Packages))
	for i := range inv.Packages {
		p := &inv.Packages[i]
		sp := b.pkg(p, inv.Distro)
		ids[i] = sp.PackageSPDXIdentifier
		if p.Ecosystem.IsOS() {
			if _, dup := byRef[p.Ref()]; !dup {
				byRef[p.Ref()] = sp.PackageSPDXIdentifier
			}
		}
		doc.Packages = append(doc.Packages, sp)
		rel(root.PackageSPDXIdentifier, common.TypeRelationshipContains, sp.PackageSPDXIdentifier)
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if owner, ok := byRef[p.OwnedBy]; ok && p.OwnedBy != "" && owner != ids[i] {
			rel(owner, common.TypeRelationshipContains, ids[i])
		}
	}
	doc.OtherLicenses = b.others
	return doc
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (b *builder) rootPackage(name string) *v23.Package {
	t := &b.r.Target
	p := &v23.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   b.id("Target-" + string(t.Kind)),
		PackageVersion:          cmpOr(t.Digest, t.ID),
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
	}
	if t.Kind != report.KindImage {
		p.PrimaryPackagePurpose = "OTHER"
	}
	if alg, hexDigest, ok := strings.Cut(t.Digest, ":"); ok && alg == "sha256" && len(hexDigest) == 64 {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hexDigest}}
	}
	if u := ociPURL(t); u != "" {
		p.PackageExternalReferences = []*v23.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: common.TypePackageManagerPURL, Locator: u}}
	}
	var notes []string
	if t.Platform != nil {
		notes = append(notes, "platform "+t.Platform.String())
	}
	if t.ID != "" {
		notes = append(notes, "image ID "+t.ID)
	}
	if inv := b.r.Inventory; inv != nil {
		for _, l := range inv.Layers {
			notes = append(notes, fmt.Sprintf("layer %d %s: %s", l.Index, l.DiffID, report.ShortStep(l.CreatedBy)))
		}
	}
	p.PackageComment = strings.Join(notes, "\n")
	return p
}

// ociPURL is the pkg:oci URL of an image with a manifest digest.
func ociPURL(t *report.Target) string {
	if t.Digest == "" || t.Kind != report.KindImage {
		return ""
	}
	ref, _, _ := strings.Cut(t.Name, "@")
	repo, tag := ref, ""
	if colon := strings.LastIndexByte(ref, ':'); colon > strings.LastIndexByte(ref, '/') {
		repo, tag = ref[:colon], ref[colon+1:]
	}
	name := repo[strings.LastIndexByte(repo, '/')+1:]
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

func (b *builder) pkg(p *inventory.Package, d *inventory.Distro) *v23.Package {
	sp := &v23.Package{
		PackageName:             p.Name,
		PackageSPDXIdentifier:   b.id("Package-" + string(p.Ecosystem) + "-" + p.Name + "-" + report.PackageID(p)),
		PackageVersion:          p.Version,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  b.declared(p.Licenses),
		PackageCopyrightText:    noAssertion,
	}
	if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != "" && p.SourceVersion != p.Version) {
		sp.PackageSourceInfo = "built from source package " + p.SourceName
		if p.SourceVersion != "" {
			sp.PackageSourceInfo += " " + p.SourceVersion
		}
	}
	if u := cmpOr(p.PURL, purl.For(p, d)); u != "" {
		sp.PackageExternalReferences = []*v23.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: common.TypePackageManagerPURL, Locator: u}}
	}
	var notes []string
	layer := fmt.Sprintf("layer %d", p.Layer)
	if l := b.r.Layer(p.Layer); l != nil {
		if l.DiffID != "" {
			layer += " " + l.DiffID
		}
		if step := report.ShortStep(l.CreatedBy); step != "" {
			layer += ": " + step
		}
	}
	notes = append(notes, layer)
	for _, loc := range p.Locations {
		notes = append(notes, "found in "+loc.Path)
	}
	if p.OwnedBy != "" {
		notes = append(notes, "owned by "+p.OwnedBy)
	}
	sp.PackageComment = strings.Join(notes, "\n")
	return sp
}

// declared turns the package's license strings into one SPDX expression:
// valid expressions as they are, anything else as a LicenseRef, all joined
// with AND (a package whose metadata lists several licenses is under all of
// them).
func (b *builder) declared(ls []string) string {
	var parts []string
	for _, s := range ls {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		expr, ok := license.Expression(s)
		if ok && !strings.Contains(expr, "LicenseRef-") {
			if len(ls) > 1 && license.IsCompound(expr) {
				expr = "(" + expr + ")"
			}
			parts = append(parts, expr)
			continue
		}
		parts = append(parts, b.licenseRef(s))
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

// licenseRef returns the LicenseRef- for a free-text license, recording it
// in hasExtractedLicensingInfos the first time.
func (b *builder) licenseRef(text string) string {
	if ref, ok := b.licenseRefs[text]; ok {
		return ref
	}
	base := "LicenseRef-" + sanitize(text)
	ref := base
	for n := 2; b.usedRefs[ref]; n++ {
		ref = base + "-" + strconv.Itoa(n)
	}
	b.usedRefs[ref] = true
	b.licenseRefs[text] = ref
	b.others = append(b.others, &v23.OtherLicense{LicenseIdentifier: ref, ExtractedText: text, LicenseName: text})
	return ref
}
