package sarif_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/sarif"
)

var update = flag.Bool("update", false, "rewrite golden files")

// schemaID is the $id of the schema in testdata/schema.
const schemaID = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("testdata", "schema", "sarif-schema-2.1.0.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	// The published schema has a known slip: region's "anyOf" (a region
	// needs startLine, charOffset or byteOffset) sits inside "properties",
	// which makes the schema itself invalid under its draft. Put it where
	// the specification means it, in memory; the file stays as published.
	region := doc.(map[string]any)["definitions"].(map[string]any)["region"].(map[string]any)
	props := region["properties"].(map[string]any)
	if anyOf, ok := props["anyOf"]; ok {
		delete(props, "anyOf")
		region["anyOf"] = anyOf
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaID, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaID)
})

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := compiled()
	if err != nil {
		t.Fatalf("compile the SARIF schema: %v", err)
	}
	return sch
}

func validate(t *testing.T, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := schema(t).Validate(inst); err != nil {
		t.Errorf("output fails the SARIF 2.1.0 schema:\n%v", err)
	}
}

func encode(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (sarif.Encoder{}).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func samples() map[string]*report.Report {
	clean := reporttest.Sample()
	clean.Vulnerabilities, clean.Audit = nil, nil
	return map[string]*report.Report{
		"sample":     reporttest.Sample(),
		"dockerfile": reporttest.Scanned(),
		"clean":      clean,
	}
}

func TestGoldenAndSchema(t *testing.T) {
	for name, r := range samples() {
		t.Run(name, func(t *testing.T) {
			got := encode(t, r)
			path := filepath.Join("testdata", name+".sarif")
			reporttest.Golden(t, path, got, *update)
			validate(t, got)
		})
	}
}

// TestSchemaRejects proves the validation can fail.
func TestSchemaRejects(t *testing.T) {
	good := encode(t, reporttest.Scanned())
	for name, mutate := range map[string]func(m map[string]any){
		"wrong version": func(m map[string]any) { m["version"] = "2.0.0" },
		"bad level":     func(m map[string]any) { firstResult(m)["level"] = "critical" },
		"line zero":     func(m map[string]any) { region(m)["startLine"] = 0 },
		"no message":    func(m map[string]any) { delete(firstResult(m), "message") },
		"region without a start": func(m map[string]any) {
			r := region(m)
			delete(r, "startLine")
			r["endLine"] = 3
		},
		"unknown field": func(m map[string]any) { firstResult(m)["severity"] = "high" },
		"bad suppression": func(m map[string]any) {
			firstResult(m)["suppressions"] = []any{map[string]any{"kind": "ignored"}}
		},
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
			if err := schema(t).Validate(inst); err == nil {
				t.Error("schema accepted a broken log")
			}
		})
	}
}

func firstResult(m map[string]any) map[string]any {
	return m["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

func region(m map[string]any) map[string]any {
	loc := firstResult(m)["locations"].([]any)[0].(map[string]any)
	return loc["physicalLocation"].(map[string]any)["region"].(map[string]any)
}

// doc is the part of a SARIF log the tests read back.
type doc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string `json:"id"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties struct {
						SecuritySeverity string   `json:"security-severity"`
						Tags             []string `json:"tags"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
						EndLine   int `json:"endLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			RelatedLocations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"relatedLocations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind          string `json:"kind"`
				Status        string `json:"status"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

func read(t *testing.T, data []byte) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(d.Runs))
	}
	return d
}

func TestLocations(t *testing.T) {
	// With a Dockerfile: each result sits on the instruction of its layer;
	// the image config issue on the last instruction.
	d := read(t, encode(t, reporttest.Scanned()))
	got := map[string]string{}
	for _, res := range d.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		s := fmt.Sprintf("%s:%d-%d", loc.ArtifactLocation.URI, loc.Region.StartLine, loc.Region.EndLine)
		if len(res.RelatedLocations) > 0 {
			s += " " + res.RelatedLocations[0].PhysicalLocation.ArtifactLocation.URI
		}
		got[res.RuleID] = s
	}
	want := map[string]string{
		"CVE-2010-4756":  "build/Dockerfile:1-0 var/lib/dpkg/status",
		"CVE-2024-2398":  "build/Dockerfile:3-6 var/lib/dpkg/status",
		"CVE-2020-26160": "build/Dockerfile:9-0 app/bin/demo-worker",
		"CVE-2021-38561": "build/Dockerfile:9-0 app/bin/demo-worker",
		"CVE-2020-8203":  "build/Dockerfile:9-0 app/node_modules/lodash/package.json",
		"CVE-2021-44906": "build/Dockerfile:9-0 app/node_modules/minimist/package.json",
		"VGL-CFG-001":    "build/Dockerfile:9-0",
		"VGL-SEC-001":    "build/Dockerfile:9-0 app/config/credentials",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("locations with a Dockerfile (-want +got):\n%s", diff)
	}

	// Without one: the package's file, the image for the config issue.
	d = read(t, encode(t, reporttest.Sample()))
	got = map[string]string{}
	for _, res := range d.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		got[res.RuleID] = fmt.Sprintf("%s:%d", loc.ArtifactLocation.URI, loc.Region.StartLine)
		if len(res.RelatedLocations) != 0 {
			t.Errorf("%s: related locations without a Dockerfile", res.RuleID)
		}
	}
	want = map[string]string{
		"CVE-2010-4756":  "var/lib/dpkg/status:1",
		"CVE-2024-2398":  "var/lib/dpkg/status:1",
		"CVE-2020-26160": "app/bin/demo-worker:1",
		"CVE-2021-38561": "app/bin/demo-worker:1",
		"CVE-2020-8203":  "app/node_modules/lodash/package.json:1",
		"CVE-2021-44906": "app/node_modules/minimist/package.json:1",
		"VGL-CFG-001":    "docker.io/library/vigil-demo:1.0:1",
		"VGL-SEC-001":    "app/config/credentials:2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("locations without a Dockerfile (-want +got):\n%s", diff)
	}
}

func TestRulesLevelsSuppressions(t *testing.T) {
	d := read(t, encode(t, reporttest.Scanned()))
	run := d.Runs[0]
	rules := run.Tool.Driver.Rules
	seen := map[string]bool{}
	for _, ru := range rules {
		if seen[ru.ID] {
			t.Errorf("rule %s listed twice", ru.ID)
		}
		seen[ru.ID] = true
	}
	type row struct{ Level, SecSev string }
	gotRules := map[string]row{}
	for _, ru := range rules {
		gotRules[ru.ID] = row{ru.DefaultConfiguration.Level, ru.Properties.SecuritySeverity}
	}
	wantRules := map[string]row{
		"CVE-2021-44906": {"error", "9.8"}, // CVSS 9.8 agrees with critical
		"CVE-2020-8203":  {"error", "7.4"},
		"CVE-2021-38561": {"error", "7.5"},
		"CVE-2020-26160": {"error", "8.0"}, // no CVSS: middle of the high band
		"CVE-2024-2398":  {"warning", "5.5"},
		"CVE-2010-4756":  {"note", "0.1"},
		"VGL-SEC-001":    {"error", "9.5"},
		"VGL-CFG-001":    {"error", "8.0"},
	}
	if diff := cmp.Diff(wantRules, gotRules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	fingerprints := map[string]bool{}
	for _, res := range run.Results {
		if rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s points at rule %d (%s)", res.RuleID, res.RuleIndex, rules[res.RuleIndex].ID)
		}
		fp := res.PartialFingerprints["vigil/v1"]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %s: fingerprint %q missing or repeated", res.RuleID, fp)
		}
		fingerprints[fp] = true
		suppressed := len(res.Suppressions) > 0
		if want := res.RuleID == "CVE-2020-26160" || res.RuleID == "CVE-2020-8203"; suppressed != want {
			t.Errorf("result %s: suppressed %v, want %v", res.RuleID, suppressed, want)
		}
		if suppressed && (res.Suppressions[0].Kind != "external" || res.Suppressions[0].Status != "accepted" || res.Suppressions[0].Justification == "") {
			t.Errorf("result %s: suppression %+v", res.RuleID, res.Suppressions[0])
		}
	}
	// Every result's message teaches the fix.
	for _, res := range run.Results {
		if res.RuleID == "CVE-2024-2398" && !strings.Contains(res.Message.Text, "apt-get install --only-upgrade curl=7.88.1-10+deb12u6 libcurl4=7.88.1-10+deb12u6") {
			t.Errorf("libcurl4 message lacks the apt-get command: %s", res.Message.Text)
		}
		if res.RuleID == "CVE-2021-44906" && !strings.Contains(res.Message.Text, "npm install minimist@1.2.6") {
			t.Errorf("minimist message lacks the npm command: %s", res.Message.Text)
		}
	}
}

// TestHostile renders a report whose names are hostile and checks that the
// log is still valid SARIF (URIs escaped) and valid JSON.
func TestHostile(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: "evil image:tag with spaces", Dockerfile: "dir with space/Docker file"},
		Inventory: &inventory.Inventory{Packages: []inventory.Package{
			{Ecosystem: inventory.NPM, Name: "x<script>", Version: "1\x00", Locations: []inventory.Location{{Path: "/a b/%zz/c:d/#?.json"}}, Layer: 4},
		}},
		Vulnerabilities: []report.Finding{{ID: "CVE-1 2", Title: "**bold** [link](javascript:x)", Severity: "bogus", Layer: 4,
			References: []string{"javascript:alert(1)", "::"}}},
		Audit: []report.Issue{{ID: "", Title: "", Layer: -1, Category: report.CategorySecret, Path: "a\nb"}},
	}
	r.Vulnerabilities[0].Package = report.RefTo(&r.Inventory.Packages[0], 0)
	out := encode(t, r)
	validate(t, out)
}

func TestErrors(t *testing.T) {
	if err := (sarif.Encoder{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	err := (sarif.Encoder{}).Encode(failWriter{}, reporttest.Sample())
	if err == nil || !strings.HasPrefix(err.Error(), "sarif: encode docker.io/library/vigil-demo:1.0") {
		t.Errorf("write error = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestStepsWithoutPath: Dockerfile lines without the Dockerfile's path
// cannot locate a result; results stay on the package's file.
func TestStepsWithoutPath(t *testing.T) {
	r := reporttest.Scanned()
	r.Target.Dockerfile = ""
	out := encode(t, r)
	validate(t, out)
	for _, res := range read(t, out).Runs[0].Results {
		if uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI; strings.Contains(uri, "Dockerfile") {
			t.Errorf("%s located at %s without a Dockerfile path", res.RuleID, uri)
		}
	}
}
