package sbom

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

// The subset of SPDX 2.2/2.3 JSON that vigil reads; tag-value documents
// are read into the same shape.
type spdxDoc struct {
	Name              string         `json:"name"`
	DocumentDescribes []string       `json:"documentDescribes"`
	Packages          []spdxPackage  `json:"packages"`
	Relationships     []spdxRelation `json:"relationships"`
}

type spdxPackage struct {
	ID               string   `json:"SPDXID"`
	Name             string   `json:"name"`
	Version          string   `json:"versionInfo"`
	Purpose          string   `json:"primaryPackagePurpose"`
	SourceInfo       string   `json:"sourceInfo"`
	Description      string   `json:"description"`
	Comment          string   `json:"comment"`
	LicenseDeclared  string   `json:"licenseDeclared"`
	AttributionTexts []string `json:"attributionTexts"`
	ExternalRefs     []struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	} `json:"externalRefs"`
}

type spdxRelation struct {
	A       string `json:"spdxElementId"`
	B       string `json:"relatedSpdxElement"`
	Type    string `json:"relationshipType"`
	Comment string `json:"comment"`
}

func decodeSPDXJSON(data []byte) (*report.Report, error) {
	var doc spdxDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return fromSPDX(&doc)
}

func fromSPDX(doc *spdxDoc) (*report.Report, error) {
	b := newBuilder()
	described := map[string]bool{}
	for _, id := range doc.DocumentDescribes {
		described[id] = true
	}
	for _, r := range doc.Relationships {
		if r.Type == "DESCRIBES" && r.A == "SPDXRef-DOCUMENT" {
			described[r.B] = true
		}
	}
	target := report.Target{Name: doc.Name}
	// The described package first: its comment lists the layers (vigil),
	// which packages then refer to.
	for i := range doc.Packages {
		sp := &doc.Packages[i]
		if described[sp.ID] && sp.Purpose != "OPERATING-SYSTEM" {
			target.Name = sp.Name
			if strings.HasPrefix(sp.Version, "sha256:") {
				target.Digest = sp.Version
			}
			spdxLayers(b, sp)
		}
	}
	index := map[string]int{}
	for i := range doc.Packages {
		sp := &doc.Packages[i]
		if err := b.countOne(); err != nil {
			return nil, err
		}
		if sp.Purpose == "OPERATING-SYSTEM" {
			if b.osDistro == nil {
				b.osDistro = parseDistro(sp.Name, sp.Version)
				if b.osDistro != nil {
					b.osDistro.Name = sp.Description
				}
			}
			continue
		}
		if described[sp.ID] {
			continue
		}
		u := ""
		for _, ref := range sp.ExternalRefs {
			if ref.Type == "purl" {
				u = ref.Locator
				break
			}
		}
		if idx := b.add(u, spdxFacts(sp)); idx >= 0 && sp.ID != "" {
			index[sp.ID] = idx
		}
	}
	// Ownership: an OS package that CONTAINS a language package (vigil), or
	// Syft's OTHER relationship commented "ownership-by-file-overlap: ...".
	for _, r := range doc.Relationships {
		owned := r.Type == "CONTAINS" || r.Type == "OTHER" && strings.HasPrefix(r.Comment, "ownership-by-file-overlap")
		if !owned {
			continue
		}
		ai, aok := index[r.A]
		bi, bok := index[r.B]
		if !aok || !bok || ai == bi {
			continue
		}
		parent, child := &b.inv.Packages[ai], &b.inv.Packages[bi]
		if parent.Ecosystem.IsOS() && !child.Ecosystem.IsOS() && child.OwnedBy == "" {
			child.OwnedBy = parent.Ref()
		}
	}
	r := b.finish()
	r.Target = target
	return r, nil
}

// spdxLayers reads the layers vigil lists in the described package's
// comment ("layer 0 sha256:...: FROM debian") and Trivy's "DiffID: ..."
// attribution texts.
func spdxLayers(b *builder, sp *spdxPackage) {
	for _, line := range strings.Split(sp.Comment, "\n") {
		rest, ok := strings.CutPrefix(line, "layer ")
		if !ok {
			continue
		}
		idx, rest, _ := strings.Cut(rest, " ")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= 10000 || i != len(b.inv.Layers) {
			continue
		}
		diffID, step, _ := strings.Cut(rest, ": ")
		diffID = strings.TrimSuffix(diffID, ":")
		b.addLayer(inventory.Layer{Index: i, DiffID: diffID, CreatedBy: step})
	}
	if len(b.inv.Layers) > 0 {
		return
	}
	for _, a := range sp.AttributionTexts {
		if d, ok := strings.CutPrefix(a, "DiffID: "); ok {
			b.addLayer(inventory.Layer{Index: len(b.inv.Layers), DiffID: d})
		}
	}
}

// spdxFacts reads what vigil (comment, sourceInfo) and Trivy
// (attributionTexts "SrcName: openssl", sourceInfo "built package from:
// openssl 3.0.11-1~deb12u2") say about a package.
func spdxFacts(sp *spdxPackage) facts {
	f := newFacts(sp.Name)
	for _, line := range strings.Split(sp.Comment, "\n") {
		switch {
		case strings.HasPrefix(line, "layer "):
			idx, _, _ := strings.Cut(strings.TrimPrefix(line, "layer "), " ")
			idx, _, _ = strings.Cut(idx, ":")
			if i, err := strconv.Atoi(idx); err == nil && i >= 0 {
				f.layer = i
			}
		case strings.HasPrefix(line, "found in "):
			f.locations = append(f.locations, strings.TrimPrefix(line, "found in "))
		case strings.HasPrefix(line, "owned by "):
			f.ownedBy = strings.TrimPrefix(line, "owned by ")
		}
	}
	attr := map[string]string{}
	for _, a := range sp.AttributionTexts {
		if k, v, ok := strings.Cut(a, ": "); ok {
			attr[k] = v
		}
	}
	if n := attr["SrcName"]; n != "" {
		f.sourceName = n
		f.sourceVersion = joinVersion(attr["SrcEpoch"], attr["SrcVersion"], attr["SrcRelease"])
	}
	if d := attr["LayerDiffID"]; d != "" {
		f.layerDiffID = d
	}
	if fp := attr["FilePath"]; fp != "" {
		f.locations = append(f.locations, fp)
	}
	if f.sourceName == "" {
		for _, prefix := range []string{"built from source package ", "built package from: "} {
			if rest, ok := strings.CutPrefix(sp.SourceInfo, prefix); ok {
				f.sourceName, f.sourceVersion = splitNameVersion(rest)
			}
		}
	}
	if l := strings.TrimSpace(sp.LicenseDeclared); l != "" && l != "NOASSERTION" && l != "NONE" {
		f.licenses = []string{l}
	}
	return f
}
