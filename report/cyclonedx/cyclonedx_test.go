package cyclonedx_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/cyclonedx"
	"github.com/vigilsec/vigil/report/internal/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func encode(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (cyclonedx.Encoder{}).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// schema compiles the official CycloneDX 1.6 JSON schema (with the SPDX
// license enumeration and JSF signature schemas it references) from
// testdata/schema, copied from the cyclonedx-go v0.12.0 module.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// compiled compiles the schema once per test binary.
var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for file, url := range map[string]string{
		"bom-1.6.schema.json":   cyclonedx.SchemaURL,
		"spdx.schema.json":      "http://cyclonedx.org/schema/spdx.schema.json",
		"jsf-0.82.schemax.json": "http://cyclonedx.org/schema/jsf-0.82.schema.json",
	} {
		f, err := os.Open(filepath.Join("testdata", "schema", file))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
	}
	sch, err := c.Compile(cyclonedx.SchemaURL)
	if err != nil {
		return nil, fmt.Errorf("compile CycloneDX schema: %w", err)
	}
	return sch, nil
})

func validate(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("output fails the CycloneDX 1.6 schema:\n%v", err)
	}
}

// samples are the reports every test here renders.
func samples() map[string]*report.Report {
	sbom := reporttest.Sample()
	sbom.Vulnerabilities = nil
	sbom.Audit = nil
	return map[string]*report.Report{
		"image":      reporttest.Sample(),
		"image-sbom": sbom,
	}
}

func TestGoldenAndSchema(t *testing.T) {
	sch := schema(t)
	for name, r := range samples() {
		t.Run(name, func(t *testing.T) {
			got := encode(t, r)
			path := filepath.Join("testdata", name+".cdx.json")
			reporttest.Golden(t, path, got, *update)
			validate(t, sch, got)
			// The golden file itself must be valid too, so a reviewer can
			// trust what -update wrote.
			if data, err := os.ReadFile(path); err == nil {
				validate(t, sch, data)
			}
		})
	}
}

// TestSchemaRejects makes sure the validation can fail: documents that
// break the schema are refused.
func TestSchemaRejects(t *testing.T) {
	sch := schema(t)
	good := encode(t, reporttest.Sample())
	for name, mutate := range map[string]func(m map[string]any){
		"bad serial number": func(m map[string]any) { m["serialNumber"] = "urn:uuid:not-a-uuid" },
		"unknown license id": func(m map[string]any) {
			first(m)["licenses"] = []any{map[string]any{"license": map[string]any{"id": "GPL-2+"}}}
		},
		"missing name":       func(m map[string]any) { delete(first(m), "name") },
		"bad component type": func(m map[string]any) { first(m)["type"] = "package" },
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			mutate(m)
			data, _ := json.Marshal(m)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err == nil {
				t.Error("schema accepted a broken document")
			}
		})
	}
}

func first(m map[string]any) map[string]any {
	return m["components"].([]any)[0].(map[string]any)
}

func decode(t *testing.T, data []byte) *cdx.BOM {
	t.Helper()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decode own output: %v", err)
	}
	return &bom
}

func TestStructure(t *testing.T) {
	r := reporttest.Sample()
	bom := decode(t, encode(t, r))

	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.Metadata.Timestamp != "2026-01-15T10:30:00Z" {
		t.Errorf("spec %s, timestamp %s", bom.SpecVersion, bom.Metadata.Timestamp)
	}
	root := bom.Metadata.Component
	if root.Type != cdx.ComponentTypeContainer || root.PackageURL != "pkg:oci/vigil-demo@sha256:"+strings.Repeat("d", 64)+"?arch=amd64&repository_url=docker.io%2Flibrary%2Fvigil-demo&tag=1.0" {
		t.Errorf("root component = %s %s", root.Type, root.PackageURL)
	}

	// Every package is a component with its PURL, exactly once.
	byPURL := map[string]int{}
	refs := map[string]bool{root.BOMRef: true}
	for _, c := range *bom.Components {
		if refs[c.BOMRef] {
			t.Errorf("bom-ref %s used twice", c.BOMRef)
		}
		refs[c.BOMRef] = true
		if c.PackageURL != "" {
			byPURL[c.PackageURL]++
		}
	}
	for _, p := range r.Inventory.Packages {
		if byPURL[p.PURL] == 0 {
			t.Errorf("package %s %s (%s) has no component", p.Name, p.Version, p.PURL)
		}
	}
	if got := len(*bom.Components); got != len(r.Inventory.Packages)+4 {
		t.Errorf("%d components, want %d packages + OS + 3 targets", got, len(r.Inventory.Packages))
	}

	// Every dependency reference resolves, and each package hangs off
	// exactly one parent (the OS or its language target).
	parents := map[string]int{}
	for _, d := range *bom.Dependencies {
		if !refs[d.Ref] {
			t.Errorf("dependency ref %s names no component", d.Ref)
		}
		for _, on := range *d.Dependencies {
			if !refs[on] {
				t.Errorf("dependsOn %s names no component", on)
			}
			parents[on]++
		}
	}
	for _, c := range *bom.Components {
		if parents[c.BOMRef] != 1 {
			t.Errorf("component %s (%s) has %d parents, want 1", c.Name, c.BOMRef, parents[c.BOMRef])
		}
	}

	// Every finding is a vulnerability affecting the right component.
	if got := len(*bom.Vulnerabilities); got != len(r.Vulnerabilities) {
		t.Fatalf("%d vulnerabilities, want %d", got, len(r.Vulnerabilities))
	}
	purlOf := map[string]string{}
	for _, c := range *bom.Components {
		purlOf[c.BOMRef] = c.PackageURL
	}
	for _, v := range *bom.Vulnerabilities {
		var f *report.Finding
		for i := range r.Vulnerabilities {
			if r.Vulnerabilities[i].ID == v.ID {
				f = &r.Vulnerabilities[i]
			}
		}
		if f == nil {
			t.Errorf("vulnerability %s is not in the report", v.ID)
			continue
		}
		if v.Affects == nil || len(*v.Affects) != 1 || purlOf[(*v.Affects)[0].Ref] != f.Package.PURL {
			t.Errorf("%s does not affect %s", v.ID, f.Package.PURL)
		}
		if (f.Suppressed != nil) != (v.Analysis != nil) {
			t.Errorf("%s: suppressed %v but analysis %v", v.ID, f.Suppressed != nil, v.Analysis)
		}
	}
}

func TestNoVulnerabilitiesSection(t *testing.T) {
	r := reporttest.Sample()
	r.Vulnerabilities = nil
	if out := encode(t, r); bytes.Contains(out, []byte(`"vulnerabilities"`)) {
		t.Error("a report without findings has a vulnerabilities section")
	}
}

func TestComponentDetails(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: "x"},
		Inventory: &inventory.Inventory{Packages: []inventory.Package{
			{Ecosystem: inventory.NPM, Name: "@babel/core", Version: "7.24.0", Licenses: []string{"MIT"}, Locations: []inventory.Location{{Path: "app/node_modules/@babel/core/package.json"}}},
			{Ecosystem: inventory.Maven, Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", Licenses: []string{"Apache-2.0 OR MIT"}, Locations: []inventory.Location{{Path: "app.jar"}}},
			{Ecosystem: inventory.Cargo, Name: "rand", Version: "0.8.5", Licenses: []string{"MIT", "Apache License 2.0"}, Locations: []inventory.Location{{Path: "Cargo.lock"}}},
			{Ecosystem: inventory.Gem, Name: "rake", Version: "13.0.6", Licenses: []string{"GPL-2.0+"}, Locations: []inventory.Location{{Path: "Gemfile.lock"}}},
			// Two identical packages: bom-refs must still be unique.
			{Ecosystem: inventory.Cargo, Name: "dup", Version: "1", Locations: []inventory.Location{{Path: "Cargo.lock"}}},
			{Ecosystem: inventory.Cargo, Name: "dup", Version: "1", Locations: []inventory.Location{{Path: "Cargo.lock"}}},
		}},
	}
	bom := cyclonedx.BOM(r)
	type comp struct {
		Group, Name, PURL string
		Licenses          string
	}
	var got []comp
	for _, c := range *bom.Components {
		if c.Type != cdx.ComponentTypeLibrary {
			continue
		}
		var ls []string
		if c.Licenses != nil {
			for _, l := range *c.Licenses {
				switch {
				case l.Expression != "":
					ls = append(ls, "expr:"+l.Expression)
				case l.License.ID != "":
					ls = append(ls, "id:"+l.License.ID)
				default:
					ls = append(ls, "name:"+l.License.Name)
				}
			}
		}
		got = append(got, comp{c.Group, c.Name, c.PackageURL, strings.Join(ls, ",")})
	}
	want := []comp{
		{"", "dup", "pkg:cargo/dup@1", ""},
		{"", "dup", "pkg:cargo/dup@1", ""},
		{"", "rand", "pkg:cargo/rand@0.8.5", "id:MIT,name:Apache License 2.0"},
		{"", "rake", "pkg:gem/rake@13.0.6", "expr:GPL-2.0+"},
		{"org.apache.logging.log4j", "log4j-core", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "expr:Apache-2.0 OR MIT"},
		{"@babel", "core", "pkg:npm/%40babel/core@7.24.0", "id:MIT"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, c := range *bom.Components {
		if seen[c.BOMRef] {
			t.Errorf("duplicate bom-ref %s", c.BOMRef)
		}
		seen[c.BOMRef] = true
	}
	var buf bytes.Buffer
	if err := (cyclonedx.Encoder{}).Encode(&buf, r); err != nil {
		t.Fatal(err)
	}
	validate(t, schema(t), buf.Bytes())
}

func TestDeterministic(t *testing.T) {
	a := encode(t, reporttest.Sample())
	r := reporttest.Sample()
	ps := r.Inventory.Packages
	for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
		ps[i], ps[j] = ps[j], ps[i]
	}
	if b := encode(t, r); !bytes.Equal(a, b) {
		t.Errorf("output depends on package order:\n%s", cmp.Diff(string(a), string(b)))
	}
	// A different creation time gives a different serial number.
	r.CreatedAt = r.CreatedAt.Add(1)
	if bytes.Equal(a, encode(t, r)) {
		t.Error("a later scan of the same image got the same document")
	}
}

func TestNilReport(t *testing.T) {
	if err := (cyclonedx.Encoder{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}

// TestSuppressionAnalysis checks the impact analysis each kind of
// suppression becomes, and that the result is valid CycloneDX.
func TestSuppressionAnalysis(t *testing.T) {
	sch := schema(t)
	tests := []struct {
		name string
		s    report.Suppression
		want cdx.VulnerabilityAnalysis
	}{
		{"ignore rule without status",
			report.Suppression{Reason: "not used", Source: ".vigil.yaml:3"},
			cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Detail: "suppressed by .vigil.yaml:3: not used"}},
		{"ignore rule, false positive",
			report.Suppression{Reason: "wrong package", Source: ".vigil.yaml:7", Kind: report.SuppressedByIgnore, Status: report.StatusFalsePositive},
			cdx.VulnerabilityAnalysis{State: cdx.IASFalsePositive, Detail: "suppressed by .vigil.yaml:7: wrong package"}},
		{"OpenVEX not_affected, justification mapped",
			report.Suppression{Reason: "VEX: not affected", Source: "app.openvex.json:8", Kind: report.SuppressedByVEX,
				Status: report.StatusNotAffected, Justification: "vulnerable_code_not_in_execute_path"},
			cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: cdx.IAJCodeNotReachable, Detail: "suppressed by app.openvex.json:8: VEX: not affected"}},
		{"CycloneDX justification kept",
			report.Suppression{Reason: "r", Source: "a.cdx.json:2", Kind: report.SuppressedByVEX, Status: report.StatusNotAffected, Justification: "requires_configuration"},
			cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: cdx.IAJRequiresConfiguration, Detail: "suppressed by a.cdx.json:2: r"}},
		{"component not present",
			report.Suppression{Reason: "r", Source: "v:1", Status: report.StatusNotAffected, Justification: "component_not_present"},
			cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: cdx.IAJCodeNotPresent, Detail: "suppressed by v:1: r"}},
		{"unknown justification dropped",
			report.Suppression{Reason: "r", Source: "v:1", Status: report.StatusNotAffected, Justification: "because"},
			cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Detail: "suppressed by v:1: r"}},
		{"VEX fixed is resolved",
			report.Suppression{Reason: "VEX: fixed", Source: "v:4", Kind: report.SuppressedByVEX, Status: report.StatusFixed},
			cdx.VulnerabilityAnalysis{State: cdx.IASResolved, Detail: "suppressed by v:4: VEX: fixed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := reporttest.Sample()
			for i := range r.Vulnerabilities {
				if r.Vulnerabilities[i].Suppressed != nil {
					s := tc.s
					r.Vulnerabilities[i].Suppressed = &s
				}
			}
			data := encode(t, r)
			validate(t, sch, data)
			bom := decode(t, data)
			var got *cdx.VulnerabilityAnalysis
			for _, v := range *bom.Vulnerabilities {
				if v.Analysis != nil {
					got = v.Analysis
				}
			}
			if got == nil {
				t.Fatal("no analysis in the output")
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("analysis (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecommendationFromRemediation(t *testing.T) {
	r := reporttest.Sample()
	r.Vulnerabilities[0].Remediation = &report.Remediation{Action: report.ActionUpgrade, Text: "Run npm install minimist@1.2.6."}
	bom := decode(t, encode(t, r))
	for _, v := range *bom.Vulnerabilities {
		if v.ID == r.Vulnerabilities[0].ID && v.Recommendation != "Run npm install minimist@1.2.6." {
			t.Errorf("recommendation = %q, want the remediation text", v.Recommendation)
		}
	}
}
