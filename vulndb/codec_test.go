package vulndb

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

func TestCodecRoundTrip(t *testing.T) {
	es := []entry{
		{Scope: "v3.20/main", A: Affected{ID: "CVE-1", Aliases: []string{"XSA-1"}, Ecosystem: "Alpine:v3.20", Package: "musl", Source: SourceAlpineSecdb, Status: StatusNotAffected}},
		{A: Affected{ID: "GHSA-1", Aliases: []string{"CVE-2", "PYSEC-3"}, Ecosystem: "Alpine:v3.20", Package: "Musl", Source: "other-source",
			Ranges: []Range{
				{Type: RangeSemver, Events: []Event{{Introduced: "0"}, {LastAffected: "1.2"}, {Introduced: "2.0"}, {Limit: "3.0"}}},
				{Type: "CUSTOM", Events: []Event{{Fixed: "9"}}},
			},
			Versions: []string{"1.0", "1.1"}, Severity: "high"}},
		{A: Affected{ID: "USN-1", Ecosystem: "Alpine:v3.20", Package: "musl", Source: SourceOSV,
			Versions: []string{"1.0.1e-3ubuntu1", "1.0.1e-4ubuntu1", "1.0.1e-4ubuntu1", "1.0.1e-4ubuntu1.1", "1.0", "", "2", "2é", "2ü"}}},
	}
	raw := encodeEntries(nil, "musl", es)
	got, err := decodeEntries(raw, "Alpine:v3.20", "musl")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(es, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	split, err := splitEntries(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(split) != 3 || split[0].id != "CVE-1" || split[0].scope != "v3.20/main" || split[1].source != "other-source" {
		t.Errorf("splitEntries: %+v", split)
	}
	if d := cmp.Diff(raw, joinEntries(nil, split)); d != "" {
		t.Errorf("joinEntries(splitEntries(v)) != v:\n%s", d)
	}

	det := &Details{ID: "X", Summary: "s", Details: "d", Aliases: []string{"a"}, Related: []string{"r"},
		Published: time.Unix(1, 5).UTC(), Modified: time.Unix(-100, 0).UTC(), References: []string{"u"},
		CVSS: []CVSS{{Version: "4.0", Vector: "v", Score: 9.3}}, Severity: "HIGH"}
	gotDet, err := decodeDetails(encodeDetails(nil, det), "X")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(det, gotDet); d != "" {
		t.Errorf("details (-want +got):\n%s", d)
	}

	rec := &record{Hash: 0xdeadbeef, Feed: 3, Ecos: []uint16{1, 700}, PkgKeys: []string{"\x00\x01a", "\x02\xbcb"}}
	gotRec, err := decodeRecord(encodeRecord(nil, rec))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, gotRec); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}

	kev := &KEV{CVE: "CVE-1", VendorProject: "v ", Product: "p", Name: "n", DateAdded: time.Date(2025, 2, 18, 0, 0, 0, 0, time.UTC),
		ShortDescription: "sd", RequiredAction: "ra", DueDate: time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC), KnownRansomwareCampaignUse: "Known", Notes: "no", CWEs: []string{"CWE-306"}}
	gotKEV, err := decodeKEV(encodeKEV(nil, kev), "CVE-1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(kev, gotKEV); d != "" {
		t.Errorf("KEV (-want +got):\n%s", d)
	}
	for _, s := range []EPSS{{CVE: "CVE-1", Score: 0.00383, Percentile: 0.73075}, {CVE: "CVE-2", Score: 1, Percentile: 0.123456789}} {
		got, err := decodeEPSS(encodeEPSS(nil, &s), s.CVE)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(&s, got); d != "" {
			t.Errorf("EPSS (-want +got):\n%s", d)
		}
	}
	blk := []kv{{[]byte("a\x00osv\x00"), []byte("1")}, {[]byte("b\x00osv\x00"), nil}}
	gotBlk, err := decodeBlock(encodeBlock(nil, blk))
	if err != nil {
		t.Fatal(err)
	}
	if len(gotBlk) != 2 || string(gotBlk[0].k) != "a\x00osv\x00" || string(gotBlk[0].v) != "1" || len(gotBlk[1].v) != 0 {
		t.Errorf("block: %q", gotBlk)
	}
}

// FuzzDecode: the decoders read a database file that may come from a
// registry; no input makes them panic or allocate without bound.
func FuzzDecode(f *testing.F) {
	es := []entry{{Scope: "s", A: Affected{ID: "CVE-1", Aliases: []string{"X"}, Package: "p", Source: SourceOSV,
		Ranges: []Range{{Type: RangeEcosystem, Events: []Event{{Introduced: "0"}, {Fixed: "1"}}}}, Versions: []string{"0.5"}}}}
	f.Add(encodeEntries(nil, "p", es))
	f.Add(encodeDetails(nil, &Details{Summary: "s", CVSS: []CVSS{{Version: "3.1", Vector: "v", Score: 1}}, Published: time.Unix(5, 0)}))
	f.Add(encodeRecord(nil, &record{Hash: 1, Feed: 2, Ecos: []uint16{1}, PkgKeys: []string{"\x00\x01p"}}))
	f.Add(encodeKEV(nil, &KEV{CVE: "CVE-1", CWEs: []string{"CWE-1"}}))
	f.Add(encodeBlock(nil, []kv{{[]byte("k"), []byte("v")}}))
	f.Add([]byte{valS2, 0x80, 0x80, 0x80, 0x80, 0x10})
	f.Add(encodeEntries(nil, "p", []entry{{A: Affected{ID: "U", Package: "p", Source: SourceOSV, Versions: []string{"1.0-1", "1.0-2", "1.0-2.1"}}}}))
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxValueSize))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeAffected(b, "eco", "name")
		decodeEntries(b, "eco", "name")
		splitEntries(b)
		decodeDetails(b, "id")
		decodeRecord(b)
		decodeKEV(b, "CVE-1")
		decodeEPSS(b, "CVE-1")
		decodeBlock(b)
		decompressValue(dec, b, nil)
	})
}

// FuzzFrontCoded: any list of strings decodes to itself, through the
// allocating decoder and the visitor alike.
func FuzzFrontCoded(f *testing.F) {
	f.Add("1.0.1e-3ubuntu1\n1.0.1e-4ubuntu1\n1.0.1e-4ubuntu1.1")
	f.Add("\n\na\nab\na\n")
	f.Fuzz(func(t *testing.T, joined string) {
		vs := strings.Split(joined, "\n")
		es := []entry{{A: Affected{ID: "X", Ecosystem: "e", Package: "p", Source: SourceOSV, Versions: vs}}}
		raw := encodeEntries(nil, "p", es)
		got, err := decodeAffected(raw, "e", "p")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(vs, got[0].Versions); d != "" {
			t.Errorf("decodeAffected (-want +got):\n%s", d)
		}
		var sc visitScratch
		err, _ = visitEntries(raw, "e", "p", &sc, func(a *Affected) error {
			if d := cmp.Diff(vs, a.Versions); d != "" {
				t.Errorf("visitEntries (-want +got):\n%s", d)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestFrontCodedCorrupt: a front-coded list whose prefix lengths or total
// disagree with its strings is an error, not a panic or a wrong string.
func TestFrontCodedCorrupt(t *testing.T) {
	list := func(total int, pairs ...any) []byte {
		e := encoder{}
		e.uvarint(uint64(len(pairs) / 2))
		e.uvarint(uint64(total))
		for i := 0; i < len(pairs); i += 2 {
			e.uvarint(uint64(pairs[i].(int)))
			e.str(pairs[i+1].(string))
		}
		return e.b
	}
	for name, b := range map[string][]byte{
		"prefix longer than the string before": list(5, 0, "ab", 3, "c"),
		"total too small":                      list(3, 0, "ab", 1, "c"),
		"total too large":                      list(9, 0, "ab", 1, "c"),
		"total past the bound":                 list(1<<20, 0, "ab"),
	} {
		d := fastDecoder{s: string(b)}
		if got := d.frontCoded(); d.err == nil {
			t.Errorf("%s: decoded %q, want an error", name, got)
		}
	}
	d := fastDecoder{s: string(list(5, 0, "ab", 1, "bc"))}
	if got := d.frontCoded(); d.err != nil || len(got) != 2 || got[0] != "ab" || got[1] != "abc" {
		t.Errorf("valid list: %q, %v", got, d.err)
	}
}
