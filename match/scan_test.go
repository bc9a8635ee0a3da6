package match_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/scan"
)

// TestServiceMatch checks the wiring users get: scan.Service.Match fills
// the report's vulnerabilities and adds the matcher's warnings to those the
// walk left.
func TestServiceMatch(t *testing.T) {
	db := openDB(t, testutil.Fixtures(t, "vulndata", "npm", "GHSA-xvch-5gv4-984h.json"))
	walkWarning := inventory.Warning{Path: "app/node_modules/broken/package.json", Layer: 1, Component: "npm", Message: "invalid JSON"}
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: "example:1"},
		Inventory: &inventory.Inventory{
			Packages: []inventory.Package{
				{Ecosystem: inventory.NPM, Name: "minimist", Version: "1.2.0", Layer: 1, Locations: []inventory.Location{{Path: "app/node_modules/minimist/package.json", Layer: 1}}},
				{Ecosystem: inventory.NPM, Name: "minimist", Version: "1.2.x", Layer: 1, Locations: []inventory.Location{{Path: "app/node_modules/x/node_modules/minimist/package.json", Layer: 1}}},
				{Ecosystem: inventory.Deb, Name: "bash", Version: "5.2.15-2+b13"},
			},
			Warnings: []inventory.Warning{walkWarning},
		},
	}
	s := &scan.Service{}
	if err := s.Match(context.Background(), r, db); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range r.Vulnerabilities {
		ids = append(ids, f.ID+"@"+f.InstalledVersion)
	}
	if diff := cmp.Diff([]string{"CVE-2021-44906@1.2.0"}, ids); diff != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", diff)
	}
	var comps []string
	for _, w := range r.Inventory.Warnings {
		comps = append(comps, w.Component+" "+w.Path)
	}
	want := []string{
		"npm app/node_modules/broken/package.json",
		"match ", // the deb package: no release detected (layer -1 sorts first)
		"match app/node_modules/x/node_modules/minimist/package.json", // invalid version 1.2.x
	}
	if diff := cmp.Diff(want, comps); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if err := s.Match(context.Background(), &report.Report{}, db); err == nil {
		t.Error("Match of a report without inventory: no error")
	}
	if err := s.Match(context.Background(), r, nil); err == nil {
		t.Error("Match without a database: no error")
	}
}
