package osv

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/vulndb"
)

// fixtureRecords returns every OSV record among the shared fixtures: the
// real records of vulndata (JSON and YAML, both Ubuntu layouts, MAL, GIT
// ranges) and the derived DEBIAN-CVE records.
func fixtureRecords(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	roots := []string{testutil.Fixtures(t, "vulndata"), testutil.Fixtures(t, "derived-debian", "Debian")}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "feeds", "security-tracker", "Alpine", "bookworm-installed":
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(p); ext != ".json" && ext != ".yaml" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Dir(root), p)
			out[rel] = data
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 500 {
		t.Fatalf("found only %d fixture records", len(out))
	}
	return out
}

func TestParseEveryFixture(t *testing.T) {
	recs := fixtureRecords(t)
	var yamlN, entries int
	for name, data := range recs {
		r, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.HasSuffix(name, ".yaml") {
			yamlN++
		} else {
			// The fast reader must give what encoding/json gives.
			var fast, std Record
			if err := fastRecord(data, &fast); err != nil {
				t.Errorf("%s: fast reader declined a real record: %v", name, err)
			}
			if err := json.Unmarshal(data, &std); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d := cmp.Diff(std, fast); d != "" {
				t.Errorf("%s: fast reader differs from encoding/json (-std +fast):\n%s", name, d)
			}
		}
		doc, warns := Convert(r, "osv/test")
		for _, w := range warns {
			t.Errorf("%s: unexpected warning: %s", name, w)
		}
		if len(doc.Affected) == 0 {
			t.Errorf("%s: no affected entries", name)
		}
		for _, a := range doc.Affected {
			if a.ID != r.ID || a.Source != vulndb.SourceOSV || a.Ecosystem == "" || a.Package == "" {
				t.Errorf("%s: bad entry %+v", name, a)
			}
			for _, rg := range a.Ranges {
				if rg.Type == "GIT" {
					t.Errorf("%s: GIT range kept", name)
				}
			}
		}
		entries += len(doc.Affected)
	}
	if yamlN < 30 {
		t.Errorf("parsed %d YAML records, want the 34 PYSEC ones", yamlN)
	}
	t.Logf("%d records, %d YAML, %d affected entries", len(recs), yamlN, entries)
}

func TestConvert(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file      string // under vulndata, or testdata/ for ours
		eco, pkg  string // which entry to compare
		want      vulndb.Affected
		versions  int // when set, the count of versions (not compared one by one)
		withdrawn bool
		severity  string
		cvss      []vulndb.CVSS
		modified  time.Time
	}{
		{
			// GIT range next to an ECOSYSTEM range: the GIT one is dropped.
			file: "vulndata/PyPI/PYSEC-2023-74.yaml", eco: "PyPI", pkg: "requests",
			want: vulndb.Affected{ID: "PYSEC-2023-74", Aliases: []string{"CVE-2023-32681", "GHSA-j8r2-6x86-q33q"}, Ecosystem: "PyPI", Package: "requests", Source: "osv",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "2.3.0"}, {Fixed: "2.31.0"}}}}},
			versions: 66,
			modified: ts("2023-06-05T01:13:00.534973Z"),
		},
		{
			// Malicious-package record with versions only.
			file: "vulndata/crates.io/MAL-2025-49350.json", eco: "crates.io", pkg: "replit_ruspty",
			want:     vulndb.Affected{ID: "MAL-2025-49350", Ecosystem: "crates.io", Package: "replit_ruspty", Source: "osv", Versions: []string{"1.0.0"}},
			modified: ts("2025-11-04T04:53:00Z"),
		},
		{
			// Ubuntu schema 1.6.3 layout: binaries as a map, priority in
			// ecosystem_specific.
			file: "vulndata/Ubuntu/CVE-2023-0286.json", eco: "Ubuntu:22.04:LTS", pkg: "openssl",
			want: vulndb.Affected{ID: "CVE-2023-0286", Ecosystem: "Ubuntu:22.04:LTS", Package: "openssl", Source: "osv", Severity: "high",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "3.0.2-0ubuntu1.8"}}}},
				Versions: []string{"1.1.1l-1ubuntu1", "3.0.0-1ubuntu1", "3.0.1-0ubuntu1", "3.0.2-0ubuntu1", "3.0.2-0ubuntu1.1", "3.0.2-0ubuntu1.2",
					"3.0.2-0ubuntu1.4", "3.0.2-0ubuntu1.5", "3.0.2-0ubuntu1.6", "3.0.2-0ubuntu1.7"}},
			cvss:     []vulndb.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", Score: 7.4}},
			modified: ts("2024-08-23T16:30:36Z"),
		},
		{
			// Ubuntu schema 1.7.0 layout: binaries as a list, upstream.
			file: "vulndata/Ubuntu/USN-5570-1.json", eco: "Ubuntu:18.04:LTS", pkg: "zlib",
			want: vulndb.Affected{ID: "USN-5570-1", Aliases: []string{"CVE-2022-37434", "UBUNTU-CVE-2022-37434"}, Ecosystem: "Ubuntu:18.04:LTS", Package: "zlib", Source: "osv",
				Ranges:   []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1:1.2.11.dfsg-0ubuntu2.2"}}}},
				Versions: []string{"1:1.2.11.dfsg-0ubuntu2", "1:1.2.11.dfsg-0ubuntu2.1"}},
			modified: ts("2025-07-16T04:43:41Z"),
		},
		{
			// Derived DEBIAN-CVE record: urgency without a meaning dropped.
			file: "derived-debian/Debian/DEBIAN-CVE-2018-25032.json", eco: "Debian:12", pkg: "zlib",
			want: vulndb.Affected{ID: "DEBIAN-CVE-2018-25032", Aliases: []string{"CVE-2018-25032"}, Ecosystem: "Debian:12", Package: "zlib", Source: "osv",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1:1.2.11.dfsg-4"}}}}},
			modified: ts("2022-03-25T23:32:05Z"),
		},
		{
			file: "derived-debian/Debian/DEBIAN-CVE-2099-0001.json", eco: "Debian:12", pkg: "util-linux",
			want: vulndb.Affected{ID: "DEBIAN-CVE-2099-0001", Aliases: []string{"CVE-2099-0001"}, Ecosystem: "Debian:12", Package: "util-linux", Source: "osv", Severity: "unimportant",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}}}}},
			modified: ts("2025-01-01T00:00:00Z"),
		},
		{
			// Withdrawn Go record; its modified time is the zero time.
			file: "vulndata/Go/GO-2025-3543.json", eco: "Go", pkg: "github.com/opencontainers/runc", withdrawn: true,
			want: vulndb.Affected{ID: "GO-2025-3543", Aliases: []string{"CVE-2025-27612"}, Ecosystem: "Go", Package: "github.com/opencontainers/runc", Source: "osv", Withdrawn: true,
				Ranges: []vulndb.Range{{Type: "SEMVER", Events: []vulndb.Event{{Introduced: "0"}}}}},
			modified: ts("0001-01-01T00:00:00Z"),
		},
		{
			file: "vulndata/Debian/DSA-3029-1.json", eco: "Debian:7", pkg: "nginx",
			want: vulndb.Affected{ID: "DSA-3029-1", Aliases: []string{"CVE-2014-3616"}, Ecosystem: "Debian:7", Package: "nginx", Source: "osv",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1.2.1-2.2+wheezy3"}}}}},
			modified: ts("2014-09-20T08:18:07Z"),
		},
		{
			file: "vulndata/npm/GHSA-p6mc-m468-83gw.json", eco: "npm", pkg: "lodash", severity: "HIGH",
			want: vulndb.Affected{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Ecosystem: "npm", Package: "lodash", Source: "osv",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "4.17.20"}}}}},
			cvss:     []vulndb.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H", Score: 7.4}},
			modified: ts("2022-02-08T22:04:28Z"),
		},
		{
			// Our own: YAML scalars stay the strings written.
			file: "testdata/yaml-scalars.yaml", eco: "PyPI", pkg: "Example_Pkg.Name",
			want: vulndb.Affected{ID: "TEST-YAML-1", Aliases: []string{"CVE-2024-0001"}, Ecosystem: "PyPI", Package: "Example_Pkg.Name", Source: "osv",
				Ranges:   []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1.10"}}}},
				Versions: []string{"1.0", "1.09", "010"}},
			modified: ts("2024-01-02T03:04:05Z"),
		},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			path := filepath.Join("testdata", filepath.Base(tt.file))
			if !strings.HasPrefix(tt.file, "testdata/") {
				path = testutil.Fixtures(t, filepath.FromSlash(tt.file))
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := Convert(r, "osv/x")
			var got *vulndb.Affected
			for i := range doc.Affected {
				if doc.Affected[i].Ecosystem == tt.eco && doc.Affected[i].Package == tt.pkg {
					got = &doc.Affected[i]
					break
				}
			}
			if got == nil {
				t.Fatalf("no entry for %s %s in %+v", tt.eco, tt.pkg, doc.Affected)
			}
			if tt.versions > 0 {
				if len(got.Versions) != tt.versions {
					t.Errorf("%d versions, want %d", len(got.Versions), tt.versions)
				}
				g := *got
				g.Versions = nil
				got = &g
			}
			if d := cmp.Diff(tt.want, *got); d != "" {
				t.Errorf("entry (-want +got):\n%s", d)
			}
			if doc.Withdrawn != tt.withdrawn {
				t.Errorf("withdrawn = %v, want %v", doc.Withdrawn, tt.withdrawn)
			}
			if !doc.Modified.Equal(tt.modified) {
				t.Errorf("modified = %v, want %v", doc.Modified, tt.modified)
			}
			if doc.Details.Severity != tt.severity {
				t.Errorf("details severity = %q, want %q", doc.Details.Severity, tt.severity)
			}
			if d := cmp.Diff(tt.cvss, doc.Details.CVSS); d != "" {
				t.Errorf("CVSS (-want +got):\n%s", d)
			}
		})
	}
}

// TestConvertWarnings: what Convert leaves out is reported, by kind.
func TestConvertWarnings(t *testing.T) {
	data, err := os.ReadFile("testdata/specific-types.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	doc, warns := Convert(r, "osv/Debian")
	var kinds []WarningKind
	for _, w := range warns {
		kinds = append(kinds, w.Kind)
	}
	if d := cmp.Diff([]WarningKind{BadSeverity, UnknownEcosystem, Unmatchable}, kinds); d != "" {
		t.Errorf("warning kinds (-want +got):\n%s\n%v", d, warns)
	}
	want := []vulndb.Affected{{ID: "TEST-JSON-1", Aliases: []string{"CVE-2024-0002"}, Ecosystem: "Debian:12", Package: "zlib", Source: "osv", Severity: "high",
		Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1:1.2.13.dfsg-1"}}}}}}
	if d := cmp.Diff(want, doc.Affected); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if doc.Details.Severity != "" || len(doc.Details.CVSS) != 0 {
		t.Errorf("details severity %q, CVSS %v: want none (non-string severity, broken vector)", doc.Details.Severity, doc.Details.CVSS)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"not json", `{"id": "X-1", `, "json"},
		{"no id", `{"modified": "2024-01-01T00:00:00Z"}`, "no id"},
		{"id with slash", `{"id": "../x", "modified": "2024-01-01T00:00:00Z"}`, "id"},
		{"no modified", `{"id": "X-1"}`, "modified"},
		{"bad modified", `{"id": "X-1", "modified": "yesterday"}`, "modified"},
		{"bad published", `{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "published": "2024"}`, "published"},
		{"range type", `{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "RANGE", "events": [{"introduced": "0"}]}]}]}`, "type"},
		{"no events", `{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": []}]}]}`, "no events"},
		{"two keys in event", `{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]}`, "want 1"},
		{"number for string", `{"id": 5, "modified": "2024-01-01T00:00:00Z"}`, "json"},
		{"yaml mapping for string", "id:\n  a: b\nmodified: 2024-01-01T00:00:00Z\n", "yaml"},
		{"too large", `{"id": "X-1", "details": "` + strings.Repeat("a", MaxRecordSize) + `"}`, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseCVSS(t *testing.T) {
	tests := []struct {
		typ, vector string
		want        *vulndb.CVSS
		err         bool
	}{
		{"CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P", &vulndb.CVSS{Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", Score: 7.5}, false},
		{"CVSS_V3", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &vulndb.CVSS{Version: "3.0", Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}, false},
		{"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", &vulndb.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10}, false},
		{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", &vulndb.CVSS{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Score: 9.3}, false},
		{"CVSS_V3", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", nil, true},
		{"CVSS_V3", "CVSS:3.1/AV:X", nil, true},
		{"Ubuntu", "medium", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.vector, func(t *testing.T) {
			got, err := ParseCVSS(tt.typ, tt.vector)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestFastReaderFallsBack: records the fast reader declines still parse
// through encoding/json, with the same result.
func TestFastReaderFallsBack(t *testing.T) {
	tests := []struct {
		name, data string
		want       Record
	}{
		{"repeated field", `{"id": "X-1", "id": "X-2", "modified": "2024-01-01T00:00:00Z"}`, Record{ID: "X-2", Modified: "2024-01-01T00:00:00Z"}},
		{"case-folded key", `{"ID": "X-1", "Modified": "2024-01-01T00:00:00Z"}`, Record{ID: "X-1", Modified: "2024-01-01T00:00:00Z"}},
		{"escapes", `{"id": "X-\u0031", "modified": "2024-01-01T00:00:00Z", "summary": "a\ud83d\ude00\ud800b\"\u00e9"}`, Record{ID: "X-1", Modified: "2024-01-01T00:00:00Z", Summary: "a\U0001F600\uFFFDb\"é"}},
		{"nulls", `{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "aliases": null, "affected": [null], "database_specific": null}`, Record{ID: "X-1", Modified: "2024-01-01T00:00:00Z", Affected: []Affected{{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, *r); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzParse: no input panics; the fast JSON reader accepts nothing
// encoding/json rejects and, when it accepts, agrees with encoding/json.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"yaml-scalars.yaml", "specific-types.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	recs := fixtureRecords(f)
	n := 0
	for _, name := range []string{"vulndata/Ubuntu/USN-5570-1.json", "vulndata/PyPI/PYSEC-2023-74.yaml", "vulndata/crates.io/MAL-2025-49350.json",
		"vulndata/Go/GO-2025-3543.json", "vulndata/npm/GHSA-p6mc-m468-83gw.json", "Debian/DEBIAN-CVE-2099-0101.json"} {
		if d, ok := recs[filepath.FromSlash(name)]; ok {
			f.Add(d)
			n++
		}
	}
	if n < 5 {
		f.Fatalf("seed records not found (%d)", n)
	}
	f.Add([]byte(`{"id":"A-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}],"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := Parse(data); err == nil {
			Convert(r, "osv/fuzz")
		}
		var fast, std Record
		ferr := fastRecord(data, &fast)
		serr := json.Unmarshal(data, &std)
		if ferr == nil && serr != nil {
			t.Fatalf("fast reader accepted what encoding/json rejects (%v): %q", serr, data)
		}
		if ferr == nil {
			if d := cmp.Diff(std, fast); d != "" {
				t.Fatalf("fast reader differs from encoding/json (-std +fast):\n%s\ninput %q", d, data)
			}
		}
	})
}

// TestPlainMask: the eight-byte test finds the first byte that ends a plain
// string run, at every position and for every byte value.
func TestPlainMask(t *testing.T) {
	plain := []byte("abcdefgh")
	for pos := range 8 {
		for c := range 256 {
			w := bytes.Clone(plain)
			w[pos] = byte(c)
			if pos < 7 {
				w[7] = '"' // a later special byte must not hide this one
			}
			m := plainMask(binary.LittleEndian.Uint64(w))
			special := c == '"' || c == '\\' || c < 0x20 || c >= 0x80
			first := 8
			if m != 0 {
				first = bits.TrailingZeros64(m) >> 3
			}
			want := 8
			switch {
			case special:
				want = pos
			case pos < 7:
				want = 7
			}
			if first != want {
				t.Fatalf("byte %#x at %d: first special at %d, want %d", c, pos, first, want)
			}
		}
	}
}
