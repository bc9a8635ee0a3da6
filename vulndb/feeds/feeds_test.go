package feeds

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/vulndb"
)

// vunnelOS is the part of a vunnel OS-namespace snapshot the oracle
// comparisons use.
type vunnelOS struct {
	Item struct {
		Vulnerability struct {
			Name, NamespaceName, Severity string
			FixedIn                       []struct{ Name, Version, NamespaceName string }
		}
	} `json:"item"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// fixState reduces an entry to vunnel's FixedIn.Version: the fixed
// version, "0" for never affected, "None" for not fixed.
func fixState(a vulndb.Affected) string {
	if a.Status == vulndb.StatusNotAffected {
		return "0"
	}
	for _, r := range a.Ranges {
		for _, e := range r.Events {
			if e.Fixed != "" {
				return e.Fixed
			}
		}
	}
	return "None"
}

// vunnelSeverity maps a Debian urgency to vunnel's severity names.
func vunnelSeverity(s string) string {
	switch s {
	case "high":
		return "High"
	case "medium":
		return "Medium"
	case "low":
		return "Low"
	case "unimportant":
		return "Negligible"
	}
	return "Unknown"
}

// TestDebianTrackerVunnel compares the adapter with vunnel's normalised
// snapshots of the same tracker input, both ways: every snapshot drawn
// from the input has a matching entry, every entry has a snapshot.
func TestDebianTrackerVunnel(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "vunnel", "debian")
	res, err := ParseDebianTracker(openFile(t, filepath.Join(dir, "input", "debian.json")))
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ ns, cve, pkg string }
	got := map[key]string{}
	inInput := map[string]bool{}
	for _, d := range res.Docs {
		inInput[d.ID] = true
		for _, a := range d.Affected {
			ns := strings.ToLower(strings.Replace(a.Ecosystem, "Debian:sid", "Debian:unstable", 1))
			got[key{ns, d.ID, a.Package}] = fixState(a) + " " + vunnelSeverity(a.Severity)
		}
	}
	want := map[key]string{}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "debian_*", "*.json"))
	for _, p := range snaps {
		var s vunnelOS
		readJSON(t, p, &s)
		v := s.Item.Vulnerability
		if !inInput[v.Name] || strings.HasSuffix(v.NamespaceName, ":7") {
			// debian:7 comes from vunnel's legacy input and CVE-2012-0833
			// from data this input does not have.
			continue
		}
		for _, f := range v.FixedIn {
			want[key{v.NamespaceName, v.Name, f.Name}] = f.Version + " " + v.Severity
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d oracle rows", len(want))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("adapter vs vunnel snapshots (-vunnel +ours):\n%s", d)
	}
	// chromium-browser's "releases": [] is reported, not silently dropped.
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "chromium-browser") {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

func TestDebianTrackerSample(t *testing.T) {
	res, err := ParseDebianTracker(openFile(t, testutil.Fixtures(t, "vulndata", "Debian", "security-tracker", "tracker-json-sample.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	byID := map[string]*vulndb.Doc{}
	for _, d := range res.Docs {
		byID[d.ID] = d
	}
	find := func(id, eco string) vulndb.Affected {
		t.Helper()
		for _, a := range byID[id].Affected {
			if a.Ecosystem == eco {
				return a
			}
		}
		t.Fatalf("%s: no %s entry", id, eco)
		return vulndb.Affected{}
	}
	open := []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}}}}
	for _, tt := range []struct {
		id, eco string
		want    vulndb.Affected
	}{
		{"CVE-2014-1424", "Debian:12", vulndb.Affected{ID: "CVE-2014-1424", Ecosystem: "Debian:12", Package: "apparmor", Status: "not-affected", Severity: "unimportant", Source: "debian-tracker"}},
		{"CVE-2016-1585", "Debian:12", vulndb.Affected{ID: "CVE-2016-1585", Ecosystem: "Debian:12", Package: "apparmor", Status: "unimportant", Severity: "unimportant", Source: "debian-tracker", Ranges: open}},
		{"CVE-2016-1585", "Debian:sid", vulndb.Affected{ID: "CVE-2016-1585", Ecosystem: "Debian:sid", Package: "apparmor", Severity: "unimportant", Source: "debian-tracker",
			Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "3.0.12-1"}}}}}},
	} {
		if d := cmp.Diff(tt.want, find(tt.id, tt.eco)); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.id, tt.eco, d)
		}
	}
	if d := byID["CVE-2016-1585"].Details; d.Details != "In all versions of AppArmor mount rules are accidentally widened when compiled." ||
		d.References[0] != "https://security-tracker.debian.org/tracker/CVE-2016-1585" {
		t.Errorf("details: %+v", d)
	}
}

func TestDebianTrackerStatuses(t *testing.T) {
	res, err := ParseDebianTracker(openFile(t, filepath.Join("testdata", "tracker-quirks.json")))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Eco, Pkg, Fix, Status, Severity string }
	var got []row
	for _, d := range res.Docs {
		for _, a := range d.Affected {
			got = append(got, row{d.ID, a.Ecosystem, a.Package, fixState(a), a.Status, a.Severity})
		}
	}
	// Releases in code-name order.
	want := []row{
		{"CVE-2024-0001", "Debian:12", "pkg-a", "None", "no-dsa", "low"},
		{"CVE-2024-0001", "Debian:11", "pkg-a", "None", "postponed", "low"},
		{"CVE-2024-0001", "Debian:10", "pkg-a", "None", "end-of-life", ""},
		{"CVE-2024-0001", "Debian:2.0", "pkg-a", "None", "open", "low"},
		{"CVE-2024-0001", "Debian:sid", "pkg-a", "1.1-1", "", "medium"},
		{"CVE-2024-0001", "Debian:13", "pkg-a", "None", "ignored", "low"},
		{"CVE-2024-0001", "Debian:12", "pkg-c", "0", "not-affected", "unimportant"},
		{"TEMP-0000000-ABCDEF", "Debian:12", "pkg-a", "None", "open", ""},
	}
	sort.SliceStable(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	var kinds []WarningKind
	for _, w := range res.Warnings {
		kinds = append(kinds, w.Kind)
	}
	// atlantis (unknown release), bad id, CVE-2024-0002's non-object
	// release, TEMP's resolved without version and unknown status, pkg-b.
	wantKinds := []WarningKind{UnknownEcosystem, Malformed, Malformed, Malformed, Malformed, Malformed}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] > kinds[j] })
	if d := cmp.Diff(wantKinds, kinds); d != "" {
		t.Errorf("warning kinds (-want +got):\n%s\n%v", d, res.Warnings)
	}
	if res.Packages != 3 {
		t.Errorf("packages = %d, want 3", res.Packages)
	}
}

func TestDebianTrackerBroken(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"a": {}`, `{"a": {}} {}`, `{"a": {"CVE-1": {"releases": {}}}, `} {
		if _, err := ParseDebianTracker(strings.NewReader(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestAlpineSecdbVunnel(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "vunnel", "alpine")
	got := map[string]string{}
	for _, repo := range []string{"main", "community"} {
		res, err := ParseAlpineSecdb(openFile(t, filepath.Join(dir, "input", "secdb", "v3.15", repo+".yaml")))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 0 {
			t.Errorf("%s: warnings %v", repo, res.Warnings)
		}
		if res.Scope() != "v3.15/"+repo {
			t.Errorf("scope %q", res.Scope())
		}
		for _, d := range res.Docs {
			for _, a := range d.Affected {
				got[d.ID+" "+a.Ecosystem+" "+a.Package] = fixState(a)
			}
		}
	}
	want := map[string]string{}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "3.15", "*.json"))
	for _, p := range snaps {
		var s vunnelOS
		readJSON(t, p, &s)
		v := s.Item.Vulnerability
		for _, f := range v.FixedIn {
			eco := "Alpine:v" + strings.TrimPrefix(f.NamespaceName, "alpine:")
			want[v.Name+" "+eco+" "+f.Name] = f.Version
		}
	}
	if len(want) != 16 {
		t.Fatalf("%d oracle rows, want 16", len(want))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("adapter vs vunnel snapshots (-vunnel +ours):\n%s", d)
	}
}

// TestAlpineSecdbReal parses every real secdb file of the fixtures and
// checks the README's hand-checked fixes.
func TestAlpineSecdbReal(t *testing.T) {
	files, _ := filepath.Glob(testutil.Fixtures(t, "vulndata", "Alpine", "alpine-secdb", "*", "*.yaml"))
	if len(files) != 18 {
		t.Fatalf("%d secdb files, want 18", len(files))
	}
	fixes := map[string]string{}
	docs := 0
	for _, p := range files {
		res, err := ParseAlpineSecdb(openFile(t, p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, w := range res.Warnings {
			t.Logf("%s: %s", filepath.Base(p), w)
		}
		docs += len(res.Docs)
		for _, d := range res.Docs {
			for _, a := range d.Affected {
				fixes[a.Ecosystem+" "+a.Package+" "+d.ID] = fixState(a)
			}
		}
	}
	for k, want := range map[string]string{
		"Alpine:v3.11 openssl CVE-2019-1551": "1.1.1d-r3",
		"Alpine:v3.11 musl CVE-2019-14697":   "1.1.23-r2",
		// "CVE_2019-2426" in the file.
		"Alpine:v3.9 openjdk7 CVE-2019-2426": "7.211.2.6.17-r0",
		// "CVE 2018-16859" in the file.
		"Alpine:v3.9 ansible CVE-2018-16859": "2.7.3-r0",
	} {
		if got := fixes[k]; got != want {
			t.Errorf("%s: fixed %q, want %q", k, got, want)
		}
	}
	if docs < 5000 {
		t.Errorf("only %d documents from 18 files", docs)
	}
}

func TestAlpineSecdbQuirks(t *testing.T) {
	res, err := ParseAlpineSecdb(openFile(t, filepath.Join("testdata", "secdb-quirks.json")))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Pkg, Fix string }
	var got []row
	for _, d := range res.Docs {
		for _, a := range d.Affected {
			got = append(got, row{d.ID, a.Package, fixState(a)})
		}
	}
	want := []row{
		{"CVE-2024-5535", "openssl", "3.3.1-r1"},
		{"CVE-2022-1292", "openssl", "0"},
		{"CVE-2023-5678", "openssl", "3.1.4-r0"},
		{"CVE-2023-1111", "openssl", "3.1.4-r0"},
		{"CVE-2023-2222", "openssl", "3.1.4-r0"},
		{"CVE-2023-3333", "openssl", "3.1.4-r0"},
		{"XSA-446", "xen", "4.18.0-r1"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, d := range res.Docs {
		if d.ID == "CVE-2023-5678" {
			if d.Affected[0].Aliases == nil || d.Affected[0].Aliases[0] != "XSA-444" {
				t.Errorf("aliases: %v", d.Affected[0].Aliases)
			}
			if d.Scope != "v3.20/main" || d.Feed != "alpine-secdb/v3.20/main" || d.Affected[0].Ecosystem != "Alpine:v3.20" {
				t.Errorf("scope %q feed %q eco %q", d.Scope, d.Feed, d.Affected[0].Ecosystem)
			}
		}
	}
	// Not strings, no ID in "not an id", the nameless package.
	if len(res.Warnings) != 3 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	for _, in := range []string{`{"distroversion": "v3.20", "packages": []}`, `{"distroversion": "../x", "reponame": "main"}`, `{`, "packages: [\n"} {
		if _, err := ParseAlpineSecdb(strings.NewReader(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestKEVVunnel(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "vunnel", "kev")
	res, err := ParseKEV(openFile(t, filepath.Join(dir, "valid-catalog-1.json")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]vulndb.KEV{}
	for _, k := range res.Entries {
		got[k.CVE] = k
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "valid-catalog-1", "*.json"))
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	for _, p := range snaps {
		var s struct {
			Item struct {
				CveID, VendorProject, Product, VulnerabilityName, DateAdded, ShortDescription, RequiredAction, DueDate, KnownRansomwareCampaignUse, Notes string
				Cwes                                                                                                                                      []string
			}
		}
		readJSON(t, p, &s)
		v := s.Item
		day := func(d string) time.Time {
			tm, err := time.Parse(time.DateOnly, d)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}
		want := vulndb.KEV{CVE: v.CveID, VendorProject: v.VendorProject, Product: v.Product, Name: v.VulnerabilityName, DateAdded: day(v.DateAdded),
			ShortDescription: v.ShortDescription, RequiredAction: v.RequiredAction, DueDate: day(v.DueDate), KnownRansomwareCampaignUse: v.KnownRansomwareCampaignUse,
			Notes: v.Notes, CWEs: v.Cwes}
		if d := cmp.Diff(want, got[v.CveID]); d != "" {
			t.Errorf("%s (-vunnel +ours):\n%s", v.CveID, d)
		}
	}
	// A single entry is not a catalog.
	if _, err := ParseKEV(openFile(t, filepath.Join(dir, "single-entry", "example1.json"))); err == nil {
		t.Error("a single KEV entry was taken for a catalog")
	}
}

func TestKEVFullCatalog(t *testing.T) {
	res, err := ParseKEV(openFile(t, testutil.Fixtures(t, "vulndata", "feeds", "CISA-KEV", "known_exploited_vulnerabilities.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1404 || len(res.Warnings) != 0 || res.CatalogVersion != "2025.08.25" {
		t.Errorf("%d entries, warnings %v, version %q", len(res.Entries), res.Warnings, res.CatalogVersion)
	}
	for _, k := range res.Entries {
		if k.DateAdded.IsZero() || k.DueDate.IsZero() || k.VendorProject == "" {
			t.Errorf("incomplete entry %+v", k)
			break
		}
	}
	bad := `{"catalogVersion": "1", "count": 3, "vulnerabilities": [{"cveID": "nope"}, {"cveID": "CVE-2024-1234", "dateAdded": "yesterday"}, 7]}`
	res, err = ParseKEV(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || len(res.Warnings) != 3 {
		t.Errorf("entries %v warnings %v", res.Entries, res.Warnings)
	}
}

func TestEPSSVunnel(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "vunnel", "epss")
	res, err := ParseEPSS(openFile(t, filepath.Join(dir, "example-1.csv")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]vulndb.EPSS{}
	for _, e := range res.Entries {
		got[e.CVE] = e
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "example-1", "*.json"))
	if len(snaps) != 5 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	for _, p := range snaps {
		var s struct {
			Item struct {
				CVE, Date        string
				EPSS, Percentile float64
			}
		}
		readJSON(t, p, &s)
		date, _ := time.Parse(time.DateOnly, s.Item.Date)
		want := vulndb.EPSS{CVE: s.Item.CVE, Score: s.Item.EPSS, Percentile: s.Item.Percentile, Date: date}
		if d := cmp.Diff(want, got[s.Item.CVE]); d != "" {
			t.Errorf("%s (-vunnel +ours):\n%s", s.Item.CVE, d)
		}
	}
	if res.ModelVersion != "v2023.03.01" {
		t.Errorf("model version %q", res.ModelVersion)
	}
	for _, name := range []string{"invalid-header.csv", "missing-date.csv"} {
		if _, err := ParseEPSS(openFile(t, filepath.Join(dir, name))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	real, err := ParseEPSS(openFile(t, testutil.Fixtures(t, "vulndata", "feeds", "EPSS", "epss_scores-current.head.csv")))
	if err != nil {
		t.Fatal(err)
	}
	if len(real.Entries) != 10 || !real.Date.Equal(time.Date(2026, 9, 29, 12, 0, 22, 0, time.UTC)) {
		t.Errorf("real excerpt: %d rows, date %v", len(real.Entries), real.Date)
	}
	res, err = ParseEPSS(strings.NewReader("#score_date:2025-01-01T00:00:00+0000\ncve,epss,percentile\nCVE-2020-0001,0.5,0.5\nCVE-x,0.1,0.1\nCVE-2020-0002,2,0.1\nCVE-2020-0003,0.1\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || len(res.Warnings) != 3 {
		t.Errorf("entries %v warnings %v", res.Entries, res.Warnings)
	}
}

func TestSniff(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("A-1.json")
	w.Write([]byte(`{}`))
	zw.Close()
	read := func(elem ...string) []byte {
		b, err := os.ReadFile(testutil.Fixtures(t, elem...))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	epss := read("vulndata", "feeds", "EPSS", "epss_scores-current.head.csv")
	tests := []struct {
		name string
		data []byte
		want Kind
	}{
		{"zip", zbuf.Bytes(), KindOSVZip},
		{"epss", epss, KindEPSS},
		{"epss.gz", gz(epss), KindEPSS},
		{"kev", read("vulndata", "feeds", "CISA-KEV", "known_exploited_vulnerabilities.json"), KindKEV},
		{"secdb yaml", read("vulndata", "Alpine", "alpine-secdb", "v3.11", "main.yaml"), KindAlpineSecdb},
		{"secdb json", mustRead(t, filepath.Join("testdata", "secdb-quirks.json")), KindAlpineSecdb},
		{"tracker", read("vulndata", "Debian", "security-tracker", "tracker-json-sample.json"), KindDebianTracker},
		{"osv json", read("vulndata", "Ubuntu", "USN-5570-1.json"), KindOSVRecord},
		{"osv yaml", read("vulndata", "PyPI", "PYSEC-2023-74.yaml"), KindOSVRecord},
		{"nvd", read("vulndata", "feeds", "NVD", "CVE-2020-0001.json"), KindUnknown},
		{"empty", nil, KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, r, err := Sniff(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.want {
				t.Errorf("kind %q, want %q", kind, tt.want)
			}
			all, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "epss.gz" {
				tt.data = epss
			}
			if !bytes.Equal(all, tt.data) {
				t.Error("the returned reader does not yield the whole content")
			}
		})
	}
	if _, _, err := Sniff(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Error("broken gzip accepted")
	}
}

func TestLimitReader(t *testing.T) {
	r := newLimitReader(strings.NewReader("0123456789"), 10)
	if b, err := io.ReadAll(r); err != nil || len(b) != 10 {
		t.Errorf("exactly at the limit: %q, %v", b, err)
	}
	r = newLimitReader(strings.NewReader("0123456789x"), 10)
	if _, err := io.ReadAll(r); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fuzzSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		f.Add(data)
	}
}

func FuzzDebianTracker(f *testing.F) {
	fuzzSeeds(f, filepath.Join("testdata", "tracker-quirks.json"),
		testutil.Fixtures(f, "peer-suites", "vunnel", "debian", "input", "debian.json"),
		testutil.Fixtures(f, "vulndata", "Debian", "security-tracker", "tracker-json-sample.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseDebianTracker(bytes.NewReader(data))
		if err == nil {
			for _, d := range res.Docs {
				if d.ID == "" || d.Source != vulndb.SourceDebianTracker {
					t.Fatalf("bad document %+v", d)
				}
			}
		}
	})
}

func FuzzAlpineSecdb(f *testing.F) {
	fuzzSeeds(f, filepath.Join("testdata", "secdb-quirks.json"),
		testutil.Fixtures(f, "peer-suites", "vunnel", "alpine", "input", "secdb", "v3.15", "community.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseAlpineSecdb(bytes.NewReader(data))
		if err == nil && (res.Release == "" || res.Repo == "") {
			t.Fatalf("accepted without release or repository: %+v", res)
		}
	})
}

func FuzzKEV(f *testing.F) {
	fuzzSeeds(f, testutil.Fixtures(f, "peer-suites", "vunnel", "kev", "valid-catalog-1.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseKEV(bytes.NewReader(data))
		if err == nil {
			for _, k := range res.Entries {
				if !vulndb.IsCVE(k.CVE) {
					t.Fatalf("entry without a CVE: %+v", k)
				}
			}
		}
	})
}

func FuzzEPSS(f *testing.F) {
	fuzzSeeds(f, testutil.Fixtures(f, "peer-suites", "vunnel", "epss", "example-1.csv"),
		testutil.Fixtures(f, "peer-suites", "vunnel", "epss", "missing-date.csv"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseEPSS(bytes.NewReader(data))
		if err == nil {
			for _, e := range res.Entries {
				if !(e.Score >= 0 && e.Score <= 1 && e.Percentile >= 0 && e.Percentile <= 1) {
					t.Fatalf("score out of range: %+v", e)
				}
			}
		}
	})
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte(`{"vulnerabilities": [], "catalogVersion": "1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, r, err := Sniff(bytes.NewReader(data))
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(r, 1<<20))
		}
	})
}
