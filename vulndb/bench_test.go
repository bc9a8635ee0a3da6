package vulndb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkAdvisories times lookups in a database of 20,000 documents
// over 5,000 packages (the whole-export numbers come from bench/vulndb).
func BenchmarkAdvisories(b *testing.B) {
	path := filepath.Join(b.TempDir(), "vigil.db")
	bl, err := NewBuilder(path, BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 20000 {
		id := fmt.Sprintf("GHSA-%05d", i)
		d := &Doc{Source: SourceOSV, ID: id, Feed: "osv/npm", Details: &Details{Summary: "s"},
			Affected: []Affected{{Ecosystem: "npm", Package: fmt.Sprintf("pkg-%d", i%5000), Aliases: []string{fmt.Sprintf("CVE-2024-%05d", i)},
				Ranges: []Range{{Type: RangeSemver, Events: []Event{{Introduced: "0"}, {Fixed: fmt.Sprintf("1.%d.0", i)}}}}}}}
		if _, err := bl.Put(d); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bl.Commit(context.Background()); err != nil {
		b.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("pkg-%d", i%5000)
		if i%3 == 0 {
			name += "-absent"
		}
		if _, err := db.Advisories(ctx, "npm", name); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVisitEntries decodes one package value shaped like the p99 of
// bench/vulndb's lookups: 80 entries, each with an alias, a range of two
// events and five listed versions.
func BenchmarkVisitEntries(b *testing.B) {
	var es []entry
	for i := range 80 {
		es = append(es, entry{Scope: "", A: Affected{ID: fmt.Sprintf("GHSA-abcd-%04d-wxyz", i), Source: SourceOSV, Package: "org.example:artifact",
			Aliases:  []string{fmt.Sprintf("CVE-2024-%05d", i)},
			Ranges:   []Range{{Type: RangeEcosystem, Events: []Event{{Introduced: "0"}, {Fixed: fmt.Sprintf("2.%d.1", i)}}}},
			Versions: []string{"1.0.0", "1.1.0", fmt.Sprintf("1.2.%d", i), "2.0.0", "2.0.1"}}})
	}
	raw := encodeEntries(nil, "org.example:artifact", es)
	var sc visitScratch
	n := 0
	fn := func(a *Affected) error { n += len(a.Versions); return nil }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err, _ := visitEntries(raw, "Maven", "org.example:artifact", &sc, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVisitUbuntu decompresses and decodes a package value shaped
// like the heaviest keys of bench/vulndb (Ubuntu): 100 entries, each
// listing 25 versions that share long prefixes.
func BenchmarkVisitUbuntu(b *testing.B) {
	var es []entry
	for i := range 100 {
		var vs []string
		for j := range 25 {
			vs = append(vs, fmt.Sprintf("1.0.1f-%dubuntu2.%d", i%7, j))
		}
		es = append(es, entry{A: Affected{ID: fmt.Sprintf("UBUNTU-CVE-2024-%05d", i), Source: SourceOSV, Package: "openssl",
			Aliases:  []string{fmt.Sprintf("CVE-2024-%05d", i)},
			Ranges:   []Range{{Type: RangeEcosystem, Events: []Event{{Introduced: "0"}, {Fixed: fmt.Sprintf("1.0.1f-%dubuntu2.25", i%7)}}}},
			Versions: vs, Severity: "medium"}})
	}
	raw := encodeEntries(nil, "openssl", es)
	stored := compressS2(raw)
	var sc visitScratch
	n := 0
	fn := func(a *Affected) error { n += len(a.Versions); return nil }
	b.ReportMetric(float64(len(raw)), "raw-bytes")
	b.ReportMetric(float64(len(stored)), "stored-bytes")
	b.ReportAllocs()
	for b.Loop() {
		// What a lookup does with the stored value: decompress, visit.
		v, err := decompressValue(nil, stored, sc.buf)
		if err != nil {
			b.Fatal(err)
		}
		sc.buf = v
		if err, _ := visitEntries(v, "Ubuntu:22.04:LTS", "openssl", &sc, fn); err != nil {
			b.Fatal(err)
		}
	}
}
