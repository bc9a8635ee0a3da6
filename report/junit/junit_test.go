package junit_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/junit"
)

var update = flag.Bool("update", false, "rewrite golden files")

func encode(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (junit.Encoder{}).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	clean := reporttest.Sample()
	clean.Vulnerabilities, clean.Audit = nil, nil
	for name, r := range map[string]*report.Report{"scanned": reporttest.Scanned(), "clean": clean} {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".xml"), encode(t, r), *update)
		})
	}
}

// The structure CI tools read.
type suites struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parse(t *testing.T, data []byte) suites {
	t.Helper()
	var s suites
	if err := xml.Unmarshal(data, &s); err != nil {
		t.Fatalf("output is not XML: %v\n%s", err, data)
	}
	return s
}

func TestStructure(t *testing.T) {
	s := parse(t, encode(t, reporttest.Scanned()))
	type suite struct {
		Name                     string
		Tests, Failures, Skipped int
	}
	var got []suite
	tests, failures, skipped := 0, 0, 0
	for _, ts := range s.Suites {
		got = append(got, suite{ts.Name, ts.Tests, ts.Failures, ts.Skipped})
		f, sk := 0, 0
		for _, c := range ts.Cases {
			if c.Failure != nil {
				f++
			}
			if c.Skipped != nil {
				sk++
			}
		}
		if f != ts.Failures || sk != ts.Skipped || len(ts.Cases) != ts.Tests {
			t.Errorf("suite %s: attributes %d/%d/%d do not match its %d cases (%d failed, %d skipped)", ts.Name, ts.Tests, ts.Failures, ts.Skipped, len(ts.Cases), f, sk)
		}
		tests, failures, skipped = tests+ts.Tests, failures+ts.Failures, skipped+ts.Skipped
	}
	want := []suite{
		{"OS packages: Debian GNU/Linux 12 (bookworm)", 2, 2, 0},
		{"app/bin/demo-worker (golang)", 2, 1, 1},
		{"app/node_modules (npm)", 2, 1, 1},
		{"usr/lib/python3/dist-packages (pypi)", 1, 0, 0},
		{"Hardening", 1, 1, 0},
		{"Secrets", 1, 1, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suites (-want +got):\n%s", diff)
	}
	if s.Tests != tests || s.Failures != failures || s.Skipped != skipped {
		t.Errorf("testsuites totals %d/%d/%d, suites sum to %d/%d/%d", s.Tests, s.Failures, s.Skipped, tests, failures, skipped)
	}
	// A failure says what to do and where it came from.
	for _, ts := range s.Suites {
		for _, c := range ts.Cases {
			if strings.HasPrefix(c.Name, "CVE-2024-2398 ") {
				for _, want := range []string{"Fixed in: 7.88.1-10+deb12u6", "Introduced by: layer #1 (build/Dockerfile line 3): RUN apt-get", "Command: apt-get install --only-upgrade curl=7.88.1-10+deb12u6 libcurl4=7.88.1-10+deb12u6"} {
					if !strings.Contains(c.Failure.Body, want) {
						t.Errorf("failure body lacks %q:\n%s", want, c.Failure.Body)
					}
				}
			}
		}
	}
}

func TestHostile(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Ref: "a\x00b<c>&\"d'"},
		Inventory: &inventory.Inventory{Packages: []inventory.Package{
			{Ecosystem: inventory.NPM, Name: "]]><evil/>\x1b[31m", Version: "\xff\xfe", Locations: []inventory.Location{{Path: "node_modules/x/package.json"}}},
		}},
		Vulnerabilities: []report.Finding{{ID: "CVE-1\x07", Title: "</failure><x>", Severity: report.High}},
	}
	r.Vulnerabilities[0].Package = report.RefTo(&r.Inventory.Packages[0], 0)
	out := encode(t, r)
	s := parse(t, out)
	if s.Failures != 1 {
		t.Errorf("%d failures, want 1", s.Failures)
	}
	if bytes.Contains(out, []byte("<evil/>")) || bytes.Contains(out, []byte("<x>")) {
		t.Errorf("markup from the report reached the XML:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	if err := (junit.Encoder{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	err := (junit.Encoder{}).Encode(failWriter{}, reporttest.Sample())
	if err == nil || !strings.HasPrefix(err.Error(), "junit: write report for docker.io/library/vigil-demo:1.0") {
		t.Errorf("write error = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
