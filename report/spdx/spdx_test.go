package spdx_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	packageurl "github.com/package-url/packageurl-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/license"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/spdx"
)

var update = flag.Bool("update", false, "rewrite golden files")

func encode(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (spdx.Encoder{}).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	got := encode(t, reporttest.Sample())
	reporttest.Golden(t, filepath.Join("testdata", "image.spdx.json"), got, *update)
	checkDocument(t, got)
}

// The official SPDX 2.3 JSON schema (spdx-schema.json of the spdx-spec
// repository's v2.3 tag) validates the output when it is present in
// testdata/schema; neither tools-golang nor cyclonedx-go ships it.
const officialSchema = "testdata/schema/spdx-schema-2.3.json"

func TestSchema(t *testing.T) {
	f, err := os.Open(officialSchema)
	if os.IsNotExist(err) {
		t.Skipf("%s is missing: the structural checks of TestGolden run instead", officialSchema)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("spdx-schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("spdx-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(encode(t, reporttest.Sample())))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("output fails the SPDX 2.3 schema:\n%v", err)
	}
}

var (
	elementID  = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	licenseRef = regexp.MustCompile(`^LicenseRef-[A-Za-z0-9.-]+$`)
	created    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	creator    = regexp.MustCompile(`^(Person|Organization|Tool): \S`)
	sha256Hex  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkDocument applies the SPDX 2.3 rules the official JSON schema and the
// specification's field definitions impose on what vigil writes, then reads
// the document back with tools-golang.
func checkDocument(t *testing.T, data []byte) {
	t.Helper()
	for _, p := range problems(data) {
		t.Error(p)
	}
}

func problems(data []byte) (out []string) {
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	var doc struct {
		SPDXVersion       string `json:"spdxVersion"`
		DataLicense       string `json:"dataLicense"`
		SPDXID            string `json:"SPDXID"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Creators []string `json:"creators"`
			Created  string   `json:"created"`
		} `json:"creationInfo"`
		Packages []struct {
			Name             string `json:"name"`
			SPDXID           string `json:"SPDXID"`
			Version          string `json:"versionInfo"`
			Description      string `json:"description"`
			SourceInfo       string `json:"sourceInfo"`
			Comment          string `json:"comment"`
			DownloadLocation string `json:"downloadLocation"`
			FilesAnalyzed    *bool  `json:"filesAnalyzed"`
			LicenseConcluded string `json:"licenseConcluded"`
			LicenseDeclared  string `json:"licenseDeclared"`
			CopyrightText    string `json:"copyrightText"`
			Purpose          string `json:"primaryPackagePurpose"`
			Checksums        []struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"checksumValue"`
			} `json:"checksums"`
			ExternalRefs []struct {
				Category string `json:"referenceCategory"`
				Type     string `json:"referenceType"`
				Locator  string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
		Extracted []struct {
			ID   string `json:"licenseId"`
			Text string `json:"extractedText"`
			Name string `json:"name"`
		} `json:"hasExtractedLicensingInfos"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return []string{fmt.Sprintf("document has fields outside the checked set: %v", err)}
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Name == "" {
		errorf("header: version %q, data license %q, id %q, name %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXID, doc.Name)
	}
	if u, err := url.Parse(doc.DocumentNamespace); err != nil || u.Scheme != "https" || u.Host == "" || strings.Contains(doc.DocumentNamespace, "#") {
		errorf("documentNamespace %q is not an absolute https URI without a fragment", doc.DocumentNamespace)
	}
	if !created.MatchString(doc.CreationInfo.Created) {
		errorf("created %q is not YYYY-MM-DDThh:mm:ssZ", doc.CreationInfo.Created)
	}
	if len(doc.CreationInfo.Creators) == 0 {
		errorf("no creators")
	}
	for _, c := range doc.CreationInfo.Creators {
		if !creator.MatchString(c) {
			errorf("creator %q is not Person:/Organization:/Tool:", c)
		}
	}

	extracted := map[string]bool{}
	for _, e := range doc.Extracted {
		if !licenseRef.MatchString(e.ID) || e.Text == "" || extracted[e.ID] {
			errorf("extracted license %q (text %q) is malformed or repeated", e.ID, e.Text)
		}
		extracted[e.ID] = true
	}
	used := map[string]bool{}
	checkLicense := func(pkg, field, v string) {
		if v == "NOASSERTION" || v == "NONE" {
			return
		}
		norm, ok := license.Expression(v)
		if !ok || norm != v {
			errorf("%s: %s %q is not a normalised SPDX expression", pkg, field, v)
		}
		for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '(' || r == ')' }) {
			if strings.HasPrefix(tok, "LicenseRef-") {
				used[tok] = true
				if !extracted[tok] {
					errorf("%s: %s is not in hasExtractedLicensingInfos", pkg, tok)
				}
			}
		}
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	purposes := map[string]bool{"": true, "APPLICATION": true, "FRAMEWORK": true, "LIBRARY": true, "CONTAINER": true, "OPERATING-SYSTEM": true,
		"DEVICE": true, "FIRMWARE": true, "SOURCE": true, "ARCHIVE": true, "FILE": true, "INSTALL": true, "OTHER": true}
	for _, p := range doc.Packages {
		if p.Name == "" || p.DownloadLocation == "" || p.CopyrightText == "" || p.FilesAnalyzed == nil {
			errorf("package %q lacks a required field", p.SPDXID)
		}
		if !elementID.MatchString(p.SPDXID) || ids[p.SPDXID] {
			errorf("package SPDXID %q is malformed or repeated", p.SPDXID)
		}
		ids[p.SPDXID] = true
		checkLicense(p.SPDXID, "licenseConcluded", p.LicenseConcluded)
		checkLicense(p.SPDXID, "licenseDeclared", p.LicenseDeclared)
		if !purposes[p.Purpose] {
			errorf("package %s: primaryPackagePurpose %q", p.SPDXID, p.Purpose)
		}
		for _, c := range p.Checksums {
			if c.Algorithm != "SHA256" || !sha256Hex.MatchString(c.Value) {
				errorf("package %s: checksum %s %s", p.SPDXID, c.Algorithm, c.Value)
			}
		}
		for _, r := range p.ExternalRefs {
			if r.Category != "PACKAGE-MANAGER" || r.Type != "purl" {
				errorf("package %s: external ref %s/%s", p.SPDXID, r.Category, r.Type)
			}
			if _, err := packageurl.FromString(r.Locator); err != nil {
				errorf("package %s: purl %q: %v", p.SPDXID, r.Locator, err)
			}
		}
	}
	for id := range extracted {
		if !used[id] {
			errorf("extracted license %s is never used", id)
		}
	}
	describes := 0
	for _, r := range doc.Relationships {
		if !ids[r.A] || !ids[r.B] {
			errorf("relationship %s %s %s names an unknown element", r.A, r.Type, r.B)
		}
		switch r.Type {
		case "DESCRIBES":
			describes++
			if r.A != "SPDXRef-DOCUMENT" {
				errorf("%s DESCRIBES %s: only the document describes", r.A, r.B)
			}
		case "CONTAINS":
		default:
			errorf("unexpected relationship type %s", r.Type)
		}
	}
	if describes != 1 {
		errorf("%d DESCRIBES relationships, want 1", describes)
	}

	read, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return append(out, fmt.Sprintf("tools-golang cannot read the document: %v", err))
	}
	if err := spdxlib.ValidateDocument(read); err != nil {
		errorf("tools-golang validation: %v", err)
	}
	return out
}

func TestCheckDocumentCatchesErrors(t *testing.T) {
	// The checks must be able to fail: broken copies of a good document
	// are reported.
	good := encode(t, reporttest.Sample())
	for name, mutate := range map[string]func(string) string{
		"unknown element": func(s string) string {
			return strings.Replace(s, `"relatedSpdxElement": "SPDXRef-OperatingSystem`, `"relatedSpdxElement": "SPDXRef-Missing`, 1)
		},
		"free-text license": func(s string) string {
			return strings.Replace(s, `"licenseDeclared": "MIT"`, `"licenseDeclared": "MIT/X11"`, 1)
		},
		"bad id": func(s string) string {
			return strings.Replace(s, `"SPDXID": "SPDXRef-OperatingSystem`, `"SPDXID": "SPDXRef-Operating_System`, 1)
		},
		"unknown field": func(s string) string { return strings.Replace(s, `"dataLicense"`, `"licence": 1, "dataLicense"`, 1) },
		"bad created": func(s string) string {
			return strings.Replace(s, `"created": "2026-01-15T10:30:00Z"`, `"created": "2026-01-15 10:30"`, 1)
		},
		"fragment in ns": func(s string) string {
			return strings.Replace(s, `"documentNamespace": "https://`, `"documentNamespace": "https://x#`, 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := mutate(string(good))
			if bad == string(good) {
				t.Fatal("mutation did not apply")
			}
			if len(problems([]byte(bad))) == 0 {
				t.Error("checkDocument accepted a broken document")
			}
		})
	}
}

func TestStructure(t *testing.T) {
	r := reporttest.Sample()
	doc := spdx.Document(r)
	if want := spdx.NamespaceBase + "image/docker.io-library-vigil-demo-1.0-"; !strings.HasPrefix(doc.DocumentNamespace, want) {
		t.Errorf("namespace %s, want prefix %s", doc.DocumentNamespace, want)
	}
	// The target, the OS and every package.
	if got, want := len(doc.Packages), len(r.Inventory.Packages)+2; got != want {
		t.Errorf("%d packages, want %d", got, want)
	}
	declared := map[string]string{}
	comment := map[string]string{}
	for _, p := range doc.Packages {
		declared[p.PackageName+"@"+p.PackageVersion] = p.PackageLicenseDeclared
		comment[p.PackageName+"@"+p.PackageVersion] = p.PackageComment
	}
	wantDeclared := map[string]string{
		"curl@7.88.1-10+deb12u5":                              "curl",
		"libc6@2.36-9+deb12u7":                                "LicenseRef-GPL-2 AND LGPL-2.1+",
		"ca-certificates@20230311":                            "LicenseRef-GPL-2 AND MPL-2.0",
		"zlib1g@1:1.2.13.dfsg-1":                              "Zlib",
		"python3-yaml@6.0-3+b2":                               "LicenseRef-Expat",
		"optimist@0.6.1":                                      "LicenseRef-MIT-X11",
		"golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4": "NOASSERTION",
	}
	for k, want := range wantDeclared {
		if declared[k] != want {
			t.Errorf("%s: licenseDeclared %q, want %q", k, declared[k], want)
		}
	}
	if c := comment["libcurl4@7.88.1-10+deb12u5"]; !strings.Contains(c, "layer 1 sha256:bbbb") || !strings.Contains(c, "RUN apt-get update") || !strings.Contains(c, "found in var/lib/dpkg/status") {
		t.Errorf("libcurl4 comment lacks layer, step or location: %q", c)
	}
	// The OS package owning PyYAML contains it.
	idOf := map[string]string{}
	for _, p := range doc.Packages {
		idOf[p.PackageName] = string(p.PackageSPDXIdentifier)
	}
	found := false
	for _, rel := range doc.Relationships {
		if string(rel.RefA.ElementRefID) == idOf["python3-yaml"] && string(rel.RefB.ElementRefID) == idOf["PyYAML"] && rel.Relationship == "CONTAINS" {
			found = true
		}
	}
	if !found {
		t.Error("no python3-yaml CONTAINS PyYAML relationship")
	}
}

func TestLicenseRefsUnique(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindRootFS, Ref: "/srv/root"},
		Inventory: &inventory.Inventory{Packages: []inventory.Package{
			{Ecosystem: inventory.Deb, Name: "a", Version: "1", Licenses: []string{"GPL-2+"}, Locations: []inventory.Location{{Path: "var/lib/dpkg/status"}}},
			{Ecosystem: inventory.Deb, Name: "b", Version: "1", Licenses: []string{"GPL-2 +", "GPL-2+", "(MIT OR LicenseRef-x)"}, Locations: []inventory.Location{{Path: "var/lib/dpkg/status"}}},
			{Ecosystem: inventory.Deb, Name: "c", Version: "1", Licenses: []string{"MIT OR Apache-2.0", "BSD-3-Clause"}, Locations: []inventory.Location{{Path: "var/lib/dpkg/status"}}},
		}},
	}
	doc := spdx.Document(r)
	got := map[string]string{}
	for _, p := range doc.Packages {
		got[p.PackageName] = p.PackageLicenseDeclared
	}
	want := map[string]string{
		"/srv/root": "NOASSERTION",
		"a":         "LicenseRef-GPL-2",
		"b":         "LicenseRef-GPL-2-2 AND LicenseRef-GPL-2 AND LicenseRef-MIT-OR-LicenseRef-x",
		"c":         "(MIT OR Apache-2.0) AND BSD-3-Clause",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("licenseDeclared (-want +got):\n%s", diff)
	}
	checkDocument(t, encode(t, r))
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
	r.Target.Digest = "sha256:" + strings.Repeat("f", 64)
	if spdx.Document(r).DocumentNamespace == spdx.Document(reporttest.Sample()).DocumentNamespace {
		t.Error("two images got the same document namespace")
	}
}

func TestNilReport(t *testing.T) {
	if err := (spdx.Encoder{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}
