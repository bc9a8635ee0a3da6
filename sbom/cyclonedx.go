package sbom

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

// The subset of CycloneDX JSON (1.2 to 1.6) that vigil reads.
type cdxBOM struct {
	Metadata *struct {
		Component *cdxComponent `json:"component"`
	} `json:"metadata"`
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Group   string `json:"group"`
	Version string `json:"version"`
	// Description is read for the operating-system component only.
	Description string         `json:"description"`
	PURL        string         `json:"purl"`
	Properties  []cdxProperty  `json:"properties"`
	Licenses    []cdxLicense   `json:"licenses"`
	Components  []cdxComponent `json:"components"`
	Hashes      []struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	} `json:"hashes"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxLicense struct {
	License *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"license"`
	Expression string `json:"expression"`
}

// props gives the values of each property name, in order.
type props map[string][]string

func propsOf(ps []cdxProperty) props {
	m := props{}
	for _, p := range ps {
		m[p.Name] = append(m[p.Name], p.Value)
	}
	return m
}

func (m props) get(name string) string {
	if v := m[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func decodeCycloneDX(data []byte) (*report.Report, error) {
	var bom cdxBOM
	if err := json.Unmarshal(data, &bom); err != nil {
		return nil, err
	}
	b := newBuilder()
	var target report.Target
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		target = cdxTarget(b, bom.Metadata.Component)
	}
	if err := b.cdxComponents(bom.Components, "", 0); err != nil {
		return nil, err
	}
	r := b.finish()
	r.Target = target
	return r, nil
}

// cdxTarget reads the described image and its layers from the metadata
// component: vigil writes vigil:layer:<i>:diffID/digest/createdBy, Trivy
// one aquasecurity:trivy:DiffID per layer in order.
func cdxTarget(b *builder, c *cdxComponent) report.Target {
	t := report.Target{Name: c.Name}
	if strings.HasPrefix(c.Version, "sha256:") {
		t.Digest = c.Version
	}
	ps := propsOf(c.Properties)
	t.ID = ps.get("vigil:image:id")
	if t.ID == "" {
		t.ID = ps.get("aquasecurity:trivy:ImageID")
	}
	layers := map[int]*inventory.Layer{}
	maxIndex := -1
	for _, p := range c.Properties {
		rest, ok := strings.CutPrefix(p.Name, "vigil:layer:")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ":")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 || i >= 10000 {
			continue
		}
		l := layers[i]
		if l == nil {
			l = &inventory.Layer{Index: i}
			layers[i] = l
		}
		switch field {
		case "diffID":
			l.DiffID = p.Value
		case "digest":
			l.Digest = p.Value
		case "createdBy":
			l.CreatedBy = p.Value
		}
		maxIndex = max(maxIndex, i)
	}
	for i := 0; i <= maxIndex; i++ {
		if l := layers[i]; l != nil {
			b.addLayer(*l)
		}
	}
	if len(layers) == 0 {
		for _, d := range ps["aquasecurity:trivy:DiffID"] {
			b.addLayer(inventory.Layer{Index: len(b.inv.Layers), DiffID: d})
		}
	}
	return t
}

// cdxComponents walks components and their nested components. owner is
// the Ref of the OS package a nested component sits in.
func (b *builder) cdxComponents(cs []cdxComponent, owner string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("components nested more than %d deep", maxDepth)
	}
	for i := range cs {
		c := &cs[i]
		if err := b.countOne(); err != nil {
			return err
		}
		childOwner := owner
		if c.Type == "operating-system" {
			if b.osDistro == nil {
				b.osDistro = parseDistro(c.Name, c.Version)
				if b.osDistro != nil {
					ps := propsOf(c.Properties)
					b.osDistro.Codename = ps.get("vigil:distro:codename")
					b.osDistro.Name = c.Description
					b.osDistro.Distroless = ps.get("vigil:distro:distroless") == "true"
				}
			}
		} else if c.PURL != "" || isPackageType(c.Type) {
			f := cdxFacts(c)
			if f.ownedBy == "" {
				f.ownedBy = owner
			}
			if idx := b.add(c.PURL, f); idx >= 0 {
				if p := &b.inv.Packages[idx]; p.Ecosystem.IsOS() {
					childOwner = p.Ref()
				}
			}
		}
		if err := b.cdxComponents(c.Components, childOwner, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// isPackageType says whether a component without a PURL was meant as a
// package (and so deserves a "skipped" warning) rather than a grouping
// node such as vigil's application targets or a file.
func isPackageType(t string) bool {
	return t == "library" || t == "framework"
}

// cdxFacts reads the properties vigil, Syft and Trivy put on a package.
func cdxFacts(c *cdxComponent) facts {
	f := newFacts(strings.TrimPrefix(c.Group+"/"+c.Name, "/"))
	ps := propsOf(c.Properties)
	// vigil.
	if v := ps.get("vigil:layer:index"); v != "" {
		if i, err := strconv.Atoi(v); err == nil && i >= 0 {
			f.layer = i
		}
	}
	f.locations = append(f.locations, ps["vigil:location"]...)
	f.ownedBy = ps.get("vigil:ownedBy")
	f.indirect = ps.get("vigil:package:indirect") == "true"
	f.sourceName, f.sourceVersion = ps.get("vigil:package:source"), ps.get("vigil:package:sourceVersion")
	// Syft: syft:metadata:source and sourceVersion for debs (sourceVersion
	// empty when it equals the binary version), originPackage for apks;
	// syft:location:<n>:path and :layerID for where it was found.
	if f.sourceName == "" {
		f.sourceName, f.sourceVersion = ps.get("syft:metadata:source"), ps.get("syft:metadata:sourceVersion")
	}
	if f.sourceName == "" {
		f.sourceName = ps.get("syft:metadata:originPackage")
	}
	for n := 0; n < 1000; n++ {
		path, ok := ps["syft:location:"+strconv.Itoa(n)+":path"]
		if !ok {
			break
		}
		f.locations = append(f.locations, path...)
		if n == 0 && f.layerDiffID == "" {
			f.layerDiffID = ps.get("syft:location:0:layerID")
		}
	}
	// Trivy: SrcName plus the version in parts (SrcEpoch, SrcVersion,
	// SrcRelease), the layer's diffID and the file path.
	if f.sourceName == "" {
		if n := ps.get("aquasecurity:trivy:SrcName"); n != "" {
			f.sourceName = n
			f.sourceVersion = joinVersion(ps.get("aquasecurity:trivy:SrcEpoch"), ps.get("aquasecurity:trivy:SrcVersion"), ps.get("aquasecurity:trivy:SrcRelease"))
		}
	}
	if f.layerDiffID == "" {
		f.layerDiffID = ps.get("aquasecurity:trivy:LayerDiffID")
	}
	if fp := ps.get("aquasecurity:trivy:FilePath"); fp != "" {
		f.locations = append(f.locations, fp)
	}
	for _, l := range c.Licenses {
		switch {
		case l.Expression != "":
			f.licenses = append(f.licenses, l.Expression)
		case l.License != nil && l.License.ID != "":
			f.licenses = append(f.licenses, l.License.ID)
		case l.License != nil && l.License.Name != "":
			f.licenses = append(f.licenses, l.License.Name)
		}
	}
	return f
}
