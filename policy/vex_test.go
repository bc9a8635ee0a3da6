package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilsec/vigil/policy"
)

func vexFile(name string) string { return filepath.Join("testdata", "vex", name) }

func TestLoadVEX(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ov, legacy, cdx := vexFile("app.openvex.json"), vexFile("legacy.openvex.json"), vexFile("app.cdx.json")
	v, err := policy.LoadVEX(ov, legacy, cdx)
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Statement{
		{Vulnerability: "CVE-2021-44906", Aliases: []string{"GHSA-xvch-5gv4-984h"},
			Products: []policy.Product{{ID: "pkg:oci/vigil-demo?repository_url=docker.io/library/vigil-demo", Subcomponents: []string{"pkg:npm/minimist@1.2.0"}}},
			Status:   "not_affected", Justification: "vulnerable_code_not_in_execute_path", Impact: "minimist only parses our own fixed argv",
			Timestamp: ts("2026-01-05T09:00:00Z"), Format: "openvex", File: ov, Line: 8},
		{Vulnerability: "CVE-2020-8203", Products: []policy.Product{{ID: "pkg:npm/lodash"}}, Status: "fixed",
			Timestamp: ts("2026-01-05T09:00:00Z"), Format: "openvex", File: ov, Line: 25},
		{Vulnerability: "CVE-2010-4756", Products: []policy.Product{{ID: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64"}},
			Status: "not_affected", Justification: "vulnerable_code_cannot_be_controlled_by_adversary",
			Timestamp: ts("2026-01-05T09:00:00Z"), Format: "openvex", File: ov, Line: 30},
		{Vulnerability: "CVE-2010-4756", Products: []policy.Product{{ID: "pkg:deb/debian/libc6"}}, Status: "under_investigation",
			Timestamp: ts("2026-01-06T00:00:00Z"), Format: "openvex", File: ov, Line: 37},
		{Vulnerability: "CVE-2021-38561", Products: []policy.Product{{ID: "pkg:golang/golang.org/x/text@v0.3.5"}}, Status: "not_affected",
			Justification: "vulnerable_code_not_present", Timestamp: ts("2023-01-08T18:02:03Z"), Format: "openvex", File: legacy, Line: 8},
		{Vulnerability: "GHSA-w73w-5m7g-f7qc", Aliases: []string{"CVE-2020-26160"},
			Products: []policy.Product{{ID: "pkg:golang/github.com/dgrijalva/jwt-go@v3.2.0%2Bincompatible", BOMRef: "jwt"}},
			Status:   "not_affected", Justification: "requires_configuration", Impact: "we never set the audience claim",
			Timestamp: ts("2026-01-07T12:00:00Z"), Format: "cyclonedx", File: cdx, Line: 13},
		{Vulnerability: "CVE-2024-2398",
			// The BOM-Link fragment is percent-decoded.
			Products: []policy.Product{{ID: "pkg:deb/debian/libcurl4@7.88.1-10+deb12u5", BOMRef: "pkg:deb/debian/libcurl4@7.88.1-10+deb12u5"}},
			Status:   "fixed", Impact: "patched in our base image rebuild", Timestamp: ts("2026-01-07T12:00:00Z"), Format: "cyclonedx", File: cdx, Line: 23},
		{Vulnerability: "CVE-2021-44906", Products: []policy.Product{{ID: "pkg:oci/vigil-demo", BOMRef: "image"}}, Status: "affected",
			Impact: "reachable", Timestamp: ts("2026-01-07T12:00:00Z"), Format: "cyclonedx", File: cdx, Line: 28},
	}
	if diff := cmp.Diff(want, v.Statements, cmpopts.IgnoreUnexported(policy.Statement{})); diff != "" {
		t.Errorf("LoadVEX (-want +got):\n%s", diff)
	}
	// The line each statement reports is the line of its opening brace.
	data, err := os.ReadFile(ov)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, s := range v.Statements[:4] {
		if got := strings.TrimSpace(lines[s.Line-1]); got != "{" {
			t.Errorf("statement at line %d: line holds %q, want the statement's opening brace", s.Line, got)
		}
	}
}

func TestParseVEXErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not JSON", "{\n  \"statements\": [\n    {,}\n  ]\n}",
			`policy: v.json:3: not valid JSON: invalid character ',' looking for beginning of object key string (vigil reads OpenVEX and CycloneDX VEX as JSON)`},
		{"empty", "  \n", `policy: v.json: empty file; want an OpenVEX or CycloneDX VEX document (JSON)`},
		{"not a VEX document", "{\n  \"spdxVersion\": \"SPDX-2.3\"\n}",
			`policy: v.json:1: neither an OpenVEX document ("@context": "https://openvex.dev/ns/...") nor a CycloneDX one ("bomFormat": "CycloneDX")`},
		{"top level array", "[]", `policy: v.json:1: the VEX document: want a JSON object`},
		{"bad status", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "statements": [
  {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected", "justification": "component_not_present"},
  {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "pkg:npm/a"}], "status": "fine"}
 ]}`, `policy: v.json:4: status "fine": want not_affected, affected, fixed or under_investigation`},
		{"not_affected without justification", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "statements": [
  {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected"}
 ]}`, `policy: v.json:3: a not_affected statement needs a justification or an impact_statement`},
		{"unknown justification", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "statements": [
  {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected", "justification": "code_not_reachable"}
 ]}`, `policy: v.json:3: justification "code_not_reachable" is not an OpenVEX justification; known: component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist`},
		{"no products", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "statements": [
  {"vulnerability": {"name": "CVE-1"}, "status": "fixed"}
 ]}`, `policy: v.json:3: statement names no products; say which image or packages it is about`},
		{"no vulnerability", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "statements": [
  {"products": ["pkg:npm/a"], "status": "fixed"}
 ]}`, `policy: v.json:3: statement has no vulnerability`},
		{"wrong type", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "statements": [
  {"vulnerability": {"name": "CVE-1"},
   "products": [{"@id": "pkg:npm/a"}], "status": 3}
 ]}`, `policy: v.json:4: status: value is a JSON number, want string`},
		{"bad timestamp", `{"@context": "https://openvex.dev/ns/v0.2.0",
 "timestamp": "yesterday",
 "statements": []}`, `policy: v.json:2: timestamp "yesterday" is not an RFC 3339 time`},
		{"cyclonedx bad state", `{"bomFormat": "CycloneDX", "specVersion": "1.6",
 "vulnerabilities": [
  {"id": "CVE-1", "analysis": {"state": "wontfix"}, "affects": [{"ref": "pkg:npm/a"}]}
 ]}`, `policy: v.json:3: analysis state "wontfix": want resolved, resolved_with_pedigree, exploitable, in_triage, false_positive or not_affected`},
		{"cyclonedx no affects", `{"bomFormat": "CycloneDX", "specVersion": "1.6",
 "vulnerabilities": [
  {"id": "CVE-1", "analysis": {"state": "not_affected", "justification": "code_not_reachable"}}
 ]}`, `policy: v.json:3: vulnerability has an analysis but no affects: say which components it is about`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.ParseVEX("v.json", []byte(tc.doc))
			if err == nil {
				t.Fatal("ParseVEX succeeded")
			}
			if !errors.Is(err, policy.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
	if _, err := policy.LoadVEX(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("LoadVEX(missing) = %v, want an error naming the file", err)
	}
}

func FuzzParseVEX(f *testing.F) {
	for _, name := range []string{"app.openvex.json", "legacy.openvex.json", "app.cdx.json"} {
		data, err := os.ReadFile(vexFile(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := policy.ParseVEX("f.json", data)
		if err != nil {
			var pe *policy.Error
			if !errors.As(err, &pe) || pe.File != "f.json" || pe.Line < 0 || pe.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error %v is not a policy.Error located in the file", err)
			}
			return
		}
		for _, s := range v.Statements {
			if s.Vulnerability == "" || len(s.Products) == 0 || s.Line < 1 {
				t.Fatalf("accepted a statement without vulnerability, products or line: %+v", s)
			}
		}
	})
}
