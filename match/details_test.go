package match_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/osv"
)

// TestFindingDetails checks every field of whole findings: text and
// references from the records, CVSS computed from the vector, KEV from the
// real CISA catalog, EPSS, and the vendor status note.
func TestFindingDetails(t *testing.T) {
	ghsaPath := testutil.Fixtures(t, "vulndata", "Maven", "GHSA-jfh8-c2jp-5v3q.json")
	data, err := os.ReadFile(ghsaPath)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := osv.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, r := range rec.References {
		if !slices.Contains(refs, r.URL) {
			refs = append(refs, r.URL)
		}
	}
	tmp := t.TempDir()
	// SYNTHETIC EPSS scores (the fixture's real excerpt holds only 1999
	// CVEs), in the feed's real layout.
	epss := filepath.Join(tmp, "epss.csv")
	write(t, epss, "#model_version:v2026.06.15,score_date:2026-09-29T12:00:22Z\ncve,epss,percentile\nCVE-2021-44228,0.94400,0.99990\nCVE-2099-1001,0.00100,0.10000\n")
	tracker := filepath.Join(tmp, "tracker.json")
	write(t, tracker, `{"util-linux": {"CVE-2099-1001": {"description": "SYNTHETIC issue in util-linux", "releases": {"bookworm": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "repositories": {"bookworm": "2.38.1-5+deb12u3"}}}}}}`)
	db := openDB(t, ghsaPath, testutil.Fixtures(t, "vulndata", "feeds", "CISA-KEV", "known_exploited_vulnerabilities.json"), epss, tracker)

	inv := &inventory.Inventory{
		Distro: &inventory.Distro{Family: "debian", Version: "12"},
		Packages: []inventory.Package{
			{Ecosystem: inventory.Deb, Name: "bsdutils", Version: "1:2.38.1-5+deb12u3", SourceName: "util-linux", SourceVersion: "2.38.1-5+deb12u3",
				Locations: []inventory.Location{{Path: "var/lib/dpkg/status", Layer: 0}}},
			{Ecosystem: inventory.Maven, Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
				Locations: []inventory.Location{{Path: "app/lib/log4j-core-2.14.1.jar", Layer: 3}}, Layer: 3},
		},
	}
	want := []report.Finding{
		{
			ID:               "CVE-2021-44228",
			Aliases:          []string{"GHSA-jfh8-c2jp-5v3q"},
			AdvisoryIDs:      []string{"GHSA-jfh8-c2jp-5v3q"},
			Package:          report.RefTo(&inv.Packages[1], 1),
			InstalledVersion: "2.14.1",
			FixedVersions:    []string{"2.15.0"},
			FixStatus:        report.Fixed,
			Severity:         report.Critical,
			SeveritySource:   "ghsa",
			CVSS:             []report.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10, Source: "ghsa"}},
			KEV:              true,
			EPSS:             &report.EPSS{Score: 0.944, Percentile: 0.9999, Date: "2026-09-29"},
			Title:            "Remote code injection in Log4j",
			Description:      strings.TrimSpace(rec.Details),
			References:       refs,
			Layer:            3,
		},
		{
			ID:               "CVE-2099-1001",
			Package:          report.RefTo(&inv.Packages[0], 0),
			InstalledVersion: "2.38.1-5+deb12u3",
			FixStatus:        report.NotFixed,
			Severity:         report.Low,
			SeveritySource:   "debian",
			EPSS:             &report.EPSS{Score: 0.001, Percentile: 0.1, Date: "2026-09-29"},
			Description:      "Vendor status: debian: no-dsa (minor issue: no security advisory planned, may be fixed in a point release).\n\nSYNTHETIC issue in util-linux",
			References:       []string{"https://security-tracker.debian.org/tracker/CVE-2099-1001"},
		},
	}
	got, warns, err := (&match.Matcher{Store: db}).Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// countingStore records which IDs the matcher asks details of.
type countingStore struct {
	*vulndb.DB
	details []string
}

func (s *countingStore) Details(ctx context.Context, id string) (*vulndb.Details, error) {
	s.details = append(s.details, id)
	return s.DB.Details(ctx, id)
}

// TestDetailsOnlyForFindings holds the matcher to reading details only for
// what it reports: every ID asked for is a finding's ID or one of its
// advisories, and none is asked twice. The npm fixtures hold advisories for
// lodash versions the inventory does not have.
func TestDetailsOnlyForFindings(t *testing.T) {
	db := openDB(t, testutil.Fixtures(t, "vulndata", "npm"))
	cs := &countingStore{DB: db}
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Ecosystem: inventory.NPM, Name: "lodash", Version: "4.17.20", Locations: []inventory.Location{{Path: "a/node_modules/lodash/package.json"}}},
		{Ecosystem: inventory.NPM, Name: "lodash", Version: "4.17.20", Locations: []inventory.Location{{Path: "b/node_modules/lodash/package.json"}}},
		{Ecosystem: inventory.NPM, Name: "semver", Version: "7.5.2", Locations: []inventory.Location{{Path: "a/node_modules/semver/package.json"}}},
	}}
	fs, _, err := (&match.Matcher{Store: cs}).Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	var allowed []string
	for _, f := range fs {
		allowed = append(allowed, f.ID)
		allowed = append(allowed, f.AdvisoryIDs...)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2 (GHSA-35jh-r3h4-6jhm for each lodash)", len(fs))
	}
	seen := map[string]bool{}
	for _, id := range cs.details {
		if !slices.Contains(allowed, id) {
			t.Errorf("details of %s were read, but it is no finding's ID or advisory", id)
		}
		if seen[id] {
			t.Errorf("details of %s were read twice", id)
		}
		seen[id] = true
	}
	if len(cs.details) == 0 {
		t.Error("no details were read for the findings")
	}
}
