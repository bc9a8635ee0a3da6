package sbom

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/purl"
	"github.com/vigilsec/vigil/report"
)

// facts are what a format says about one package besides its PURL.
type facts struct {
	name          string // component name, for warnings
	sourceName    string
	sourceVersion string
	// layer is the layer index when the SBOM gives one (vigil), else -1;
	// layerDiffID maps through the SBOM's layer list (Trivy, Syft).
	layer       int
	layerDiffID string
	locations   []string
	ownedBy     string
	indirect    bool
	licenses    []string
}

func newFacts(name string) facts { return facts{name: name, layer: -1} }

// builder collects packages and the release for one SBOM.
type builder struct {
	inv *inventory.Inventory
	// osDistro is the release the document states (OS component or
	// package); purlDistro the first one a package URL names.
	osDistro   *inventory.Distro
	purlDistro *inventory.Distro
	diffIDs    map[string]int
	count      int
	skipped    map[string]int
	bad        []string
}

func newBuilder() *builder {
	return &builder{inv: &inventory.Inventory{}, diffIDs: map[string]int{}, skipped: map[string]int{}}
}

// countOne counts a component against MaxComponents.
func (b *builder) countOne() error {
	b.count++
	if b.count > MaxComponents {
		return fmt.Errorf("more than %d components: %w", MaxComponents, ErrTooLarge)
	}
	return nil
}

// addLayer records a layer in order; diffIDs repeat across producers'
// properties, so a repeated one is ignored.
func (b *builder) addLayer(l inventory.Layer) {
	if l.DiffID != "" {
		if _, ok := b.diffIDs[l.DiffID]; ok {
			return
		}
		b.diffIDs[l.DiffID] = l.Index
	}
	b.inv.Layers = append(b.inv.Layers, l)
}

// add turns a package URL plus facts into a package; it returns the index
// in b.inv.Packages, or -1 when the component was skipped.
func (b *builder) add(u string, f facts) int {
	if u == "" {
		b.skipped["no package URL"]++
		return -1
	}
	p, d, err := purl.Parse(u)
	if errors.Is(err, purl.ErrUnsupported) {
		typ, _, _ := strings.Cut(strings.TrimPrefix(u, "pkg:"), "/")
		b.skipped["package URL type "+strconv.Quote(typ)]++
		return -1
	}
	if err != nil {
		if len(b.bad) < 20 {
			b.bad = append(b.bad, fmt.Sprintf("component %q: %v", truncate(f.name, 200), err))
		} else {
			b.skipped["unreadable package URL"]++
		}
		return -1
	}
	if d != nil && b.purlDistro == nil && (d.Version != "" || d.Codename != "") {
		b.purlDistro = d
	}
	if p.Ecosystem == inventory.Deb || p.Ecosystem == inventory.APK {
		// Trivy writes a deb's epoch as a qualifier (pkg:deb/debian/bash@
		// 5.2.15-2%2Bb2?...&epoch=1); purl.Parse reads it only for rpm.
		if pu, err := packageurl.FromString(u); err == nil {
			if e := pu.Qualifiers.Map()["epoch"]; e != "" && isDigits(e) && e != "0" && !strings.Contains(p.Version, ":") {
				p.Version = e + ":" + p.Version
			}
		}
	}
	if f.sourceName != "" {
		p.SourceName, p.SourceVersion = f.sourceName, f.sourceVersion
	}
	if p.Ecosystem.IsOS() && p.SourceName == "" && f.sourceVersion != "" {
		p.SourceName = p.Name
		p.SourceVersion = f.sourceVersion
	}
	switch {
	case f.layer >= 0:
		p.Layer = f.layer
	case f.layerDiffID != "":
		if i, ok := b.diffIDs[f.layerDiffID]; ok {
			p.Layer = i
		}
	}
	for _, l := range f.locations {
		l = strings.TrimLeft(l, "/")
		if l != "" {
			p.Locations = append(p.Locations, inventory.Location{Path: l, Layer: p.Layer})
		}
	}
	p.OwnedBy = f.ownedBy
	p.Indirect = f.indirect
	p.Licenses = f.licenses
	b.inv.Packages = append(b.inv.Packages, p)
	return len(b.inv.Packages) - 1
}

// finish sets the release and the warnings and returns the report.
func (b *builder) finish() *report.Report {
	switch {
	case b.osDistro != nil && b.osDistro.Family != "":
		b.inv.Distro = b.osDistro
		if b.purlDistro != nil && b.osDistro.Version == "" && b.purlDistro.Family == b.osDistro.Family {
			b.inv.Distro.Version = b.purlDistro.Version
		}
	case b.purlDistro != nil:
		b.inv.Distro = b.purlDistro
	}
	if b.inv.Distro != nil && b.inv.Distro.Source == "" {
		b.inv.Distro.Source = "sbom"
	}
	for _, m := range b.bad {
		b.inv.Warnings = append(b.inv.Warnings, inventory.Warning{Component: "sbom", Message: "skipped " + m})
	}
	reasons := make([]string, 0, len(b.skipped))
	for r := range b.skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		b.inv.Warnings = append(b.inv.Warnings, inventory.Warning{Component: "sbom",
			Message: fmt.Sprintf("skipped %d components with %s (nothing vigil can match)", b.skipped[r], r)})
	}
	return &report.Report{Inventory: b.inv}
}

// parseDistro reads an operating-system component or package: the name is
// the os-release ID ("debian", "ubuntu", "alpine"), the version its
// VERSION_ID ("12", "22.04", "3.20.1"; Trivy writes Debian's point release,
// "12.4", which matching reads as release 12).
func parseDistro(name, version string) *inventory.Distro {
	family := strings.ToLower(strings.TrimSpace(name))
	if family == "" || family == "unknown" || len(family) > 64 || strings.ContainsAny(family, " /:@") {
		return nil
	}
	d := &inventory.Distro{Family: family}
	v := strings.TrimSpace(version)
	if len(v) > 64 {
		v = ""
	}
	if v != "" && (v[0] < '0' || v[0] > '9') {
		d.Codename = v
	} else {
		d.Version = v
	}
	return d
}

// joinVersion builds a Debian or RPM version from Trivy's parts.
func joinVersion(epoch, version, release string) string {
	if version == "" {
		return ""
	}
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch != "" && epoch != "0" {
		v = epoch + ":" + v
	}
	return v
}

// splitNameVersion splits "openssl 3.0.11-1~deb12u2" (a source package
// and its version as vigil's and Trivy's SPDX sourceInfo write them).
func splitNameVersion(s string) (string, string) {
	name, version, _ := strings.Cut(strings.TrimSpace(s), " ")
	return name, strings.TrimSpace(version)
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
