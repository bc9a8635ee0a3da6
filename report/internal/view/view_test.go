package view_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/internal/view"
)

func TestIDs(t *testing.T) {
	tests := []struct {
		f    report.Finding
		want []string
	}{
		{report.Finding{ID: "GHSA-1", Aliases: []string{"GO-2", "CVE-3", "GHSA-1", "cve-4"}}, []string{"CVE-3", "cve-4", "GHSA-1", "GO-2"}},
		{report.Finding{ID: "CVE-1", Aliases: []string{"CVE-1", ""}}, []string{"CVE-1"}},
		{report.Finding{}, nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, view.IDs(&tc.f)); diff != "" {
			t.Errorf("IDs(%v) (-want +got):\n%s", tc.f.ID, diff)
		}
	}
}

func TestNew(t *testing.T) {
	v := view.New(reporttest.Scanned())
	var got []string
	for _, s := range v.Sections {
		for _, f := range s.Findings {
			got = append(got, s.Title+" "+f.ID)
		}
	}
	want := []string{
		"OS packages: Debian GNU/Linux 12 (bookworm) CVE-2024-2398", // medium before negligible
		"OS packages: Debian GNU/Linux 12 (bookworm) CVE-2010-4756",
		"app/bin/demo-worker (golang) CVE-2021-38561",
		"app/node_modules (npm) CVE-2021-44906",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	if v.Clean != 1 || len(v.Suppressed) != 2 || len(v.Hardening) != 1 || len(v.Secrets) != 1 {
		t.Errorf("clean %d, suppressed %d, hardening %d, secrets %d; want 1, 2, 1, 1", v.Clean, len(v.Suppressed), len(v.Hardening), len(v.Secrets))
	}
	for _, s := range v.Sections {
		for _, f := range s.Findings {
			if f.Remediation == nil {
				t.Errorf("%s has no remediation", f.ID)
			}
		}
	}
}

func TestLabels(t *testing.T) {
	r := reporttest.Scanned()
	for _, tc := range []struct{ got, want string }{
		{view.LayerLabel(r, 1), "#1 RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl python3-yaml && rm -rf /var/lib/apt/lists/*"},
		{view.LayerLabel(r, 7), "#7"},
		{view.DockerfileLine(r, 1), "build/Dockerfile:3-6"},
		{view.DockerfileLine(r, 2), "build/Dockerfile:9"},
		{view.DockerfileLine(reporttest.Sample(), 2), ""},
		{view.LayerLabel(reporttest.Sample(), 2), "#2 COPY . /app"},
		{view.FixedIn(&report.Finding{FixStatus: report.WontFix}), "won't fix"},
		{view.FixedIn(&report.Finding{FixedVersions: []string{"1", "2"}}), "1, 2"},
		{view.Where(&report.Issue{Path: "a", Line: 3}), "a:3"},
		{view.Where(&report.Issue{}), "image config"},
		{view.SeverityLine(report.SeverityCounts{Total: 3, High: 1, Low: 2}), "1 high, 2 low"},
		{view.IDURL("GHSA-x y"), "https://github.com/advisories/GHSA-x%20y"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
