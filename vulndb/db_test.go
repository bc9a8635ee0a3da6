package vulndb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func osvDoc(id, feed string, aff ...Affected) *Doc {
	for i := range aff {
		aff[i].ID, aff[i].Source = id, SourceOSV
	}
	return &Doc{Source: SourceOSV, ID: id, Feed: feed, Modified: t0, Affected: aff,
		Details: &Details{ID: id, Summary: "summary of " + id, Details: "details of " + id, Modified: t0}}
}

func fixed(intro, fix string) []Range {
	return []Range{{Type: RangeEcosystem, Events: []Event{{Introduced: intro}, {Fixed: fix}}}}
}

// build writes a database at path (from base when set) with fn's changes.
func build(t *testing.T, path, base string, opts BuildOptions, fn func(b *Builder)) Meta {
	t.Helper()
	opts.Base = base
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	b, err := NewBuilder(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	fn(b)
	m, err := b.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustPut(t *testing.T, b *Builder, d *Doc, want Outcome) {
	t.Helper()
	got, err := b.Put(d)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Put(%s) = %v, want %v", d.ID, got, want)
	}
}

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func lookupIDs(t *testing.T, db *DB, eco, pkg string) []string {
	t.Helper()
	as, err := db.Advisories(context.Background(), eco, pkg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.Source+":"+a.ID)
	}
	return ids
}

func TestBuildAndLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db", "vigil.db")
	meta := build(t, path, "", BuildOptions{}, func(b *Builder) {
		mustPut(t, b, osvDoc("GHSA-1", "osv/PyPI", Affected{Ecosystem: "PyPI", Package: "Zope.Interface", Ranges: fixed("0", "5.0"), Aliases: []string{"CVE-2020-1111"}}), Added)
		mustPut(t, b, osvDoc("PYSEC-1", "osv/PyPI", Affected{Ecosystem: "PyPI", Package: "zope-interface", Versions: []string{"4.0", "4.1"}}), Added)
		mustPut(t, b, osvDoc("DEBIAN-CVE-2020-1111", "osv/Debian",
			Affected{Ecosystem: "Debian:12", Package: "zlib", Ranges: fixed("0", "1:1.2.13.dfsg-1"), Severity: "high"},
			Affected{Ecosystem: "Debian:11", Package: "zlib", Ranges: fixed("0", "1:1.2.11.dfsg-2+deb11u2")}), Added)
		mustPut(t, b, &Doc{Source: SourceDebianTracker, ID: "CVE-2020-1111", Feed: SourceDebianTracker,
			Affected: []Affected{{Ecosystem: "Debian:12", Package: "zlib", Status: StatusNotAffected}},
			Details:  &Details{Details: "tracker description", References: []string{"https://security-tracker.debian.org/tracker/CVE-2020-1111"}}}, Added)
		mustPut(t, b, &Doc{Source: SourceOSV, ID: "CVE-2020-1111", Feed: "osv/Ubuntu",
			Affected: []Affected{{Ecosystem: "Ubuntu:22.04:LTS", Package: "zlib", Ranges: fixed("0", "1:1.2.11.dfsg-2ubuntu9.2")}},
			Details: &Details{Summary: "zlib overflow", Published: t0, References: []string{"https://ubuntu.com/security/CVE-2020-1111"},
				CVSS: []CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}}}}, Added)
		b.SetKEV([]KEV{{CVE: "CVE-2020-1111", VendorProject: "zlib", DateAdded: t0}, {CVE: "CVE-2021-2222", Product: "x"}})
		b.SetEPSS([]EPSS{{CVE: "CVE-2020-1111", Score: 0.00383, Percentile: 0.73075}}, t0)
		b.SetFeed("osv/PyPI", FeedState{URL: "https://example.invalid/PyPI/all.zip", Updated: t0, Watermark: t0})
	})
	db := open(t, path)
	ctx := context.Background()

	// One normalised key for both spellings of the PyPI name.
	for _, name := range []string{"zope.interface", "Zope_Interface", "ZOPE-INTERFACE"} {
		got, err := db.Advisories(ctx, "PyPI", name)
		if err != nil {
			t.Fatal(err)
		}
		want := []Affected{
			{ID: "GHSA-1", Aliases: []string{"CVE-2020-1111"}, Ecosystem: "PyPI", Package: "Zope.Interface", Ranges: fixed("0", "5.0"), Source: SourceOSV},
			{ID: "PYSEC-1", Ecosystem: "PyPI", Package: "zope-interface", Versions: []string{"4.0", "4.1"}, Source: SourceOSV},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("PyPI %s (-want +got):\n%s", name, d)
		}
	}
	got, err := db.Advisories(ctx, "Debian:12", "zlib")
	if err != nil {
		t.Fatal(err)
	}
	want := []Affected{
		{ID: "CVE-2020-1111", Ecosystem: "Debian:12", Package: "zlib", Status: StatusNotAffected, Source: SourceDebianTracker},
		{ID: "DEBIAN-CVE-2020-1111", Ecosystem: "Debian:12", Package: "zlib", Ranges: fixed("0", "1:1.2.13.dfsg-1"), Severity: "high", Source: SourceOSV},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Debian:12 zlib (-want +got):\n%s", d)
	}
	for _, q := range [][2]string{{"Debian:13", "zlib"}, {"Nope", "zlib"}, {"PyPI", "zope"}} {
		if ids := lookupIDs(t, db, q[0], q[1]); len(ids) != 0 {
			t.Errorf("%v: %v, want nothing", q, ids)
		}
	}

	det, err := db.Details(ctx, "CVE-2020-1111")
	if err != nil {
		t.Fatal(err)
	}
	wantDet := &Details{
		ID: "CVE-2020-1111", Summary: "zlib overflow", Details: "tracker description", Published: t0,
		References: []string{"https://ubuntu.com/security/CVE-2020-1111", "https://security-tracker.debian.org/tracker/CVE-2020-1111"},
		CVSS:       []CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}},
		Sources:    []string{SourceOSV, SourceDebianTracker},
		KEV:        &KEV{CVE: "CVE-2020-1111", VendorProject: "zlib", DateAdded: t0},
		EPSS:       &EPSS{CVE: "CVE-2020-1111", Score: 0.00383, Percentile: 0.73075, Date: t0},
	}
	if d := cmp.Diff(wantDet, det); d != "" {
		t.Errorf("merged details (-want +got):\n%s", d)
	}
	det, err = db.Details(ctx, "GHSA-1")
	if err != nil {
		t.Fatal(err)
	}
	if det.Summary != "summary of GHSA-1" || det.KEV != nil {
		t.Errorf("GHSA-1 details: %+v", det)
	}
	// A CVE only KEV knows still has details; an unknown ID does not.
	if det, err := db.Details(ctx, "CVE-2021-2222"); err != nil || det.KEV == nil || det.KEV.Product != "x" {
		t.Errorf("CVE-2021-2222: %+v, %v", det, err)
	}
	if _, err := db.Details(ctx, "GHSA-none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown ID: %v, want ErrNotFound", err)
	}
	if _, err := db.EPSS(ctx, "CVE-2021-2222"); !errors.Is(err, ErrNotFound) {
		t.Errorf("EPSS of unscored CVE: %v, want ErrNotFound", err)
	}

	m := db.Meta()
	if m.Schema != SchemaVersion || !m.Built.Equal(t0) || m.Docs != 5 || m.KEV != 2 || m.EPSS != 1 || !m.EPSSDate.Equal(t0) {
		t.Errorf("meta: %+v", m)
	}
	if d := cmp.Diff(map[string]int{"PyPI": 2, "Debian:12": 2, "Debian:11": 1, "Ubuntu:22.04:LTS": 1}, m.Ecosystems); d != "" {
		t.Errorf("ecosystem counts (-want +got):\n%s", d)
	}
	if st := m.Feeds["osv/PyPI"]; st.Docs != 2 || !st.Watermark.Equal(t0) || st.URL == "" {
		t.Errorf("feed state: %+v", st)
	}
	if d := cmp.Diff(meta, m); d != "" {
		t.Errorf("Commit's meta and Open's differ:\n%s", d)
	}
	if d := cmp.Diff([]string{"Debian:11", "Debian:12", "PyPI", "Ubuntu:22.04:LTS"}, db.Ecosystems()); d != "" {
		t.Errorf("Ecosystems (-want +got):\n%s", d)
	}
}

// TestIncrementalUpdates: a build from a base keeps what it does not
// touch, replaces changed documents wherever their entries were, removes
// withdrawn and deleted ones, and keeps the counts right.
func TestIncrementalUpdates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		mustPut(t, b, osvDoc("A-1", "osv/npm", Affected{Ecosystem: "npm", Package: "left-pad", Ranges: fixed("0", "1.0.0")}), Added)
		mustPut(t, b, osvDoc("A-2", "osv/npm", Affected{Ecosystem: "npm", Package: "left-pad", Ranges: fixed("0", "2.0.0")}), Added)
		mustPut(t, b, osvDoc("A-3", "osv/npm", Affected{Ecosystem: "npm", Package: "lodash", Ranges: fixed("0", "4.17.21")}), Added)
		mustPut(t, b, osvDoc("A-4", "osv/Go", Affected{Ecosystem: "Go", Package: "golang.org/x/net", Ranges: fixed("0", "0.7.0")}), Added)
		for i := range 3 {
			mustPut(t, b, &Doc{Source: SourceAlpineSecdb, Scope: "v3.20/main", ID: fmt.Sprintf("CVE-2024-000%d", i), Feed: "alpine-secdb/v3.20/main",
				Affected: []Affected{{Ecosystem: "Alpine:v3.20", Package: "musl", Ranges: fixed("0", fmt.Sprintf("1.2.%d-r0", i))}}}, Added)
		}
	})
	old := open(t, path)

	m := build(t, path, path, BuildOptions{}, func(b *Builder) {
		// Same content: nothing to do.
		mustPut(t, b, osvDoc("A-1", "osv/npm", Affected{Ecosystem: "npm", Package: "left-pad", Ranges: fixed("0", "1.0.0")}), Unchanged)
		// Moved to another package.
		mustPut(t, b, osvDoc("A-2", "osv/npm", Affected{Ecosystem: "npm", Package: "right-pad", Ranges: fixed("0", "2.0.1")}), Updated)
		// Withdrawn: its entries go, its details stay (marked).
		w := osvDoc("A-3", "osv/npm", Affected{Ecosystem: "npm", Package: "lodash", Ranges: fixed("0", "4.17.21")})
		w.Withdrawn = true
		mustPut(t, b, w, Removed)
		// Put twice in one build: the last version wins, wherever the
		// first one put entries.
		mustPut(t, b, osvDoc("A-5", "osv/npm", Affected{Ecosystem: "npm", Package: "first", Ranges: fixed("0", "1")}), Added)
		mustPut(t, b, osvDoc("A-5", "osv/npm", Affected{Ecosystem: "npm", Package: "second", Ranges: fixed("0", "2")}), Updated)
		if ok, err := b.Delete(SourceOSV, "", "A-4"); err != nil || !ok {
			t.Errorf("Delete A-4 = %v, %v", ok, err)
		}
		if ok, err := b.Delete(SourceOSV, "", "A-404"); err != nil || ok {
			t.Errorf("Delete A-404 = %v, %v; want false", ok, err)
		}
		// A snapshot source that now lists only CVE-2024-0001.
		mustPut(t, b, &Doc{Source: SourceAlpineSecdb, Scope: "v3.20/main", ID: "CVE-2024-0001", Feed: "alpine-secdb/v3.20/main",
			Affected: []Affected{{Ecosystem: "Alpine:v3.20", Package: "musl", Ranges: fixed("0", "1.2.1-r0")}}}, Unchanged)
		if n, err := b.DeleteMissing(SourceAlpineSecdb, "v3.20/main"); err != nil || n != 2 {
			t.Errorf("DeleteMissing = %d, %v; want 2", n, err)
		}
	})
	db := open(t, path)
	for _, tt := range []struct {
		eco, pkg string
		want     []string
	}{
		{"npm", "left-pad", []string{"osv:A-1"}},
		{"npm", "right-pad", []string{"osv:A-2"}},
		{"npm", "lodash", nil},
		{"npm", "first", nil},
		{"npm", "second", []string{"osv:A-5"}},
		{"Go", "golang.org/x/net", nil},
		{"Alpine:v3.20", "musl", []string{"alpine-secdb:CVE-2024-0001"}},
	} {
		if d := cmp.Diff(tt.want, lookupIDs(t, db, tt.eco, tt.pkg)); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.eco, tt.pkg, d)
		}
	}
	ctx := context.Background()
	if det, err := db.Details(ctx, "A-3"); err != nil || det.Withdrawn.IsZero() {
		t.Errorf("withdrawn A-3 details: %+v, %v; want kept with the withdrawn time", det, err)
	}
	if _, err := db.Details(ctx, "A-4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted A-4 details: %v, want ErrNotFound", err)
	}
	if _, err := db.Details(ctx, "CVE-2024-0002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CVE-2024-0002 dropped from the snapshot: %v, want ErrNotFound", err)
	}
	if d := cmp.Diff(map[string]int{"npm": 3, "Alpine:v3.20": 1}, m.Ecosystems); d != "" {
		t.Errorf("ecosystem counts (-want +got):\n%s", d)
	}
	if m.Docs != 5 || m.Feeds["osv/Go"].Docs != 0 || m.Feeds["osv/npm"].Docs != 4 {
		t.Errorf("doc counts: %d total, feeds %+v", m.Docs, m.Feeds)
	}
	// The reader that opened the old file before the swap still reads the
	// old data.
	if d := cmp.Diff([]string{"osv:A-3"}, lookupIDs(t, old, "npm", "lodash")); d != "" {
		t.Errorf("old reader after swap (-want +got):\n%s", d)
	}
	// DeleteFeed drops a feed's documents.
	build(t, path, path, BuildOptions{}, func(b *Builder) {
		if n, err := b.DeleteFeed("osv/npm"); err != nil || n != 4 {
			t.Errorf("DeleteFeed = %d, %v; want 4", n, err)
		}
	})
	db2 := open(t, path)
	if ids := lookupIDs(t, db2, "npm", "left-pad"); len(ids) != 0 {
		t.Errorf("after DeleteFeed: %v", ids)
	}
	if m := db2.Meta(); m.Docs != 1 || len(m.Ecosystems) != 1 {
		t.Errorf("after DeleteFeed: %d docs, ecosystems %v", m.Docs, m.Ecosystems)
	}
}

func TestAbortLeavesDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		mustPut(t, b, osvDoc("A-1", "osv/npm", Affected{Ecosystem: "npm", Package: "x", Ranges: fixed("0", "1")}), Added)
	})
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(path, BuildOptions{Base: path, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, b, osvDoc("A-2", "osv/npm", Affected{Ecosystem: "npm", Package: "x", Ranges: fixed("0", "1")}), Added)
	b.Abort()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("aborted build changed the database")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files left behind: %v", names)
	}
	if _, err := b.Put(osvDoc("A-3", "osv/npm")); err == nil {
		t.Error("Put after Abort succeeded")
	}
}

// manyDocs returns n documents with details large enough to fill many
// details blocks, spread over a few packages and sources.
func manyDocs(n int, variant string) []*Doc {
	var out []*Doc
	for i := range n {
		id := fmt.Sprintf("GHSA-%05d", i)
		d := osvDoc(id, "osv/npm", Affected{Ecosystem: "npm", Package: fmt.Sprintf("pkg-%d", i%97), Ranges: fixed("0", fmt.Sprintf("1.%d.0", i))})
		d.Details.Details = strings.Repeat(fmt.Sprintf("advisory %d %s text; ", i, variant), 20+i%50)
		out = append(out, d)
		if i%7 == 0 {
			out = append(out, &Doc{Source: SourceDebianTracker, ID: id, Feed: SourceDebianTracker,
				Affected: []Affected{{Ecosystem: "Debian:12", Package: "src" + fmt.Sprint(i%13), Ranges: fixed("0", "1-1")}},
				Details:  &Details{Details: "tracker " + variant + " " + id}})
		}
	}
	return out
}

func exportString(t *testing.T, path string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Export(path, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestSpillAndBlocks: a build that spills its changes to many run files
// and writes many details blocks gives the same database as one held in
// memory; an incremental build that edits, adds and deletes inside blocks
// gives the same database as a fresh build of the result.
func TestSpillAndBlocks(t *testing.T) {
	dir := t.TempDir()
	docs := manyDocs(1500, "v1")
	mem, spilled := filepath.Join(dir, "mem.db"), filepath.Join(dir, "spill.db")
	for _, c := range []struct {
		path  string
		limit int
	}{{mem, 0}, {spilled, 16 << 10}} {
		build(t, c.path, "", BuildOptions{MemoryLimit: c.limit}, func(b *Builder) {
			for _, d := range docs {
				mustPut(t, b, d, Added)
			}
		})
	}
	want := exportString(t, mem)
	if got := exportString(t, spilled); got != want {
		t.Error("spilled build differs from the in-memory one")
	}
	var blocks int
	bdb, err := bolt.Open(mem, 0, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	bdb.View(func(tx *bolt.Tx) error { blocks = tx.Bucket(bucketDet).Stats().KeyN; return nil })
	bdb.Close()
	if blocks < 10 {
		t.Fatalf("only %d details blocks: the test does not exercise block edits", blocks)
	}

	// Final state: every third document changed, every fifth deleted, new
	// documents added (some sorting between existing ones).
	var final []*Doc
	changed := manyDocs(1500, "v2")
	for i, d := range docs {
		switch {
		case i%5 == 0:
		case i%3 == 0:
			final = append(final, changed[i])
		default:
			final = append(final, d)
		}
	}
	extra := manyDocs(1600, "v3")[1500:]
	for _, d := range extra {
		d.ID += "a"
		d.Details.ID = d.ID
		final = append(final, d)
	}
	inc := filepath.Join(dir, "inc.db")
	if err := os.Link(mem, inc); err != nil {
		t.Fatal(err)
	}
	build(t, inc, inc, BuildOptions{MemoryLimit: 64 << 10}, func(b *Builder) {
		for i, d := range docs {
			switch {
			case i%5 == 0:
				if _, err := b.Delete(d.Source, d.Scope, d.ID); err != nil {
					t.Fatal(err)
				}
			case i%3 == 0:
				if _, err := b.Put(changed[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, d := range extra {
			mustPut(t, b, d, Added)
		}
	})
	fresh := filepath.Join(dir, "fresh.db")
	build(t, fresh, "", BuildOptions{}, func(b *Builder) {
		for _, d := range final {
			mustPut(t, b, d, Added)
		}
	})
	if d := cmp.Diff(exportLines(t, fresh), exportLines(t, inc)); d != "" {
		t.Errorf("incremental build differs from a fresh build of the same documents (-fresh +inc):\n%.3000s", d)
	}
	db := open(t, inc)
	for _, d := range final {
		det, err := db.Details(context.Background(), d.ID)
		if err != nil {
			t.Fatalf("%s: %v", d.ID, err)
		}
		if !strings.Contains(det.Details+det.Summary, d.ID) && !strings.Contains(det.Details, "advisory") {
			t.Fatalf("%s: wrong details %q", d.ID, det.Details)
		}
	}
}

// TestCompaction: rewriting every document of a file leaves most of its
// pages free; Commit then writes a compact file.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	docs := manyDocs(1500, "v1")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		for _, d := range docs {
			mustPut(t, b, d, Added)
		}
	})
	changed := manyDocs(1500, "v2")
	build(t, path, path, BuildOptions{}, func(b *Builder) {
		for _, d := range changed {
			mustPut(t, b, d, Updated)
		}
	})
	fresh := filepath.Join(dir, "fresh.db")
	build(t, fresh, "", BuildOptions{}, func(b *Builder) {
		for _, d := range changed {
			mustPut(t, b, d, Added)
		}
	})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ff, _ := os.Stat(fresh)
	if float64(fi.Size()) > 1.1*float64(ff.Size()) {
		t.Errorf("rewritten file is %d bytes, a fresh build %d: not compacted", fi.Size(), ff.Size())
	}
	if d := cmp.Diff(exportLines(t, fresh), exportLines(t, path)); d != "" {
		t.Errorf("compacted file differs from a fresh build (-fresh +compacted):\n%.2000s", d)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// exportLines is the export minus the meta line (build times and feed
// states differ between the two builds compared).
func exportLines(t *testing.T, path string) []string {
	lines := strings.Split(strings.TrimSpace(exportString(t, path)), "\n")
	return lines[1:]
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "vigil db update") {
		t.Errorf("missing file: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 1000), 0o644)
	if _, err := Open(garbage); err == nil {
		t.Error("garbage file opened")
	}
	path := filepath.Join(dir, "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {})
	bdb, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error {
		var m map[string]any
		json.Unmarshal(tx.Bucket(bucketMeta).Get(keyMeta), &m)
		m["schema"] = SchemaVersion + 1
		raw, _ := json.Marshal(m)
		return tx.Bucket(bucketMeta).Put(keyMeta, raw)
	})
	bdb.Close()
	if _, err := Open(path); !errors.Is(err, ErrSchema) {
		t.Errorf("other schema: %v, want ErrSchema", err)
	}
	if _, err := NewBuilder(filepath.Join(dir, "new.db"), BuildOptions{Base: path}); !errors.Is(err, ErrSchema) {
		t.Errorf("builder on a base of another schema: %v, want ErrSchema", err)
	}
}

// TestCorruptValues: damaged values inside a valid file are errors, never
// panics or wrong answers.
func TestCorruptValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		mustPut(t, b, osvDoc("A-1", "osv/npm", Affected{Ecosystem: "npm", Package: "x", Ranges: fixed("0", "1")}), Added)
		b.SetKEV([]KEV{{CVE: "CVE-2020-0001"}})
	})
	bdb, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketPkg, bucketDet, bucketKEV} {
			bk := tx.Bucket(name)
			var keys [][]byte
			bk.ForEach(func(k, v []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
			for _, k := range keys {
				if err := bk.Put(k, []byte{valS2, 0xff, 0xff, 0xff}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, path)
	ctx := context.Background()
	if _, err := db.Advisories(ctx, "npm", "x"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Advisories: %v, want ErrCorrupt", err)
	}
	if err := db.EachAdvisory(ctx, "npm", "x", func(*Affected) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("EachAdvisory: %v, want ErrCorrupt", err)
	}
	if _, err := db.Details(ctx, "A-1"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Details: %v, want ErrCorrupt", err)
	}
	if _, err := db.KEV(ctx, "CVE-2020-0001"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("KEV: %v, want ErrCorrupt", err)
	}
}

func TestPutRejects(t *testing.T) {
	b, err := NewBuilder(filepath.Join(t.TempDir(), "vigil.db"), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	for _, d := range []*Doc{
		{Source: SourceOSV},
		{ID: "X-1"},
		{Source: SourceOSV, ID: "X\x00-1"},
		{Source: SourceOSV, ID: "X-1", Affected: []Affected{{Ecosystem: "npm"}}},
		{Source: SourceOSV, ID: "X-1", Affected: []Affected{{Ecosystem: "npm", Package: "a\nb"}}},
	} {
		if _, err := b.Put(d); err == nil {
			t.Errorf("Put(%+v) accepted", d)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {})
	db := open(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Advisories(ctx, "npm", "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Advisories: %v", err)
	}
	if _, err := db.Details(ctx, "X"); !errors.Is(err, context.Canceled) {
		t.Errorf("Details: %v", err)
	}
	b, err := NewBuilder(path, BuildOptions{Base: path})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, b, osvDoc("A-1", "osv/npm", Affected{Ecosystem: "npm", Package: "x", Ranges: fixed("0", "1")}), Added)
	if _, err := b.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit: %v", err)
	}
	if ids := lookupIDs(t, open(t, path), "npm", "x"); len(ids) != 0 {
		t.Errorf("canceled commit changed the database: %v", ids)
	}
}

// TestEachAdvisory: the visitor yields what Advisories returns, entry for
// entry, for packages of every size; Clones taken across many lookups stay
// intact although the scratch memory is reused; an error from the
// callback stops the walk; and a warm visit's allocations do not grow with
// the entry count.
func TestEachAdvisory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	var keys [][2]string
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		for p := range 40 {
			name := fmt.Sprintf("pkg-%d", p)
			keys = append(keys, [2]string{"npm", name})
			for i := range p * p / 4 {
				a := Affected{Ecosystem: "npm", Package: name, Aliases: []string{fmt.Sprintf("CVE-2024-%d%d", p, i)}}
				switch i % 3 {
				case 0:
					a.Ranges = fixed("0", fmt.Sprintf("1.%d.0", i))
				case 1:
					a.Ranges = []Range{{Type: RangeSemver, Events: []Event{{Introduced: "2.0.0"}, {LastAffected: fmt.Sprintf("2.%d.%d", i, p)}}},
						{Type: RangeEcosystem, Events: []Event{{Introduced: "0"}, {Limit: "9"}, {Introduced: "10"}, {Fixed: "11"}}}}
				case 2:
					a.Versions = []string{"1.0.0", fmt.Sprintf("1.0.%d", i), "1.1.0"}
					a.Severity = "high"
				}
				mustPut(t, b, osvDoc(fmt.Sprintf("GHSA-%d-%d", p, i), "osv/npm", a), Added)
			}
			mustPut(t, b, &Doc{Source: SourceDebianTracker, ID: fmt.Sprintf("CVE-2024-%d", p), Feed: SourceDebianTracker,
				Affected: []Affected{{Ecosystem: "Debian:12", Package: "src" + name, Status: StatusNoDSA}}}, Added)
			keys = append(keys, [2]string{"Debian:12", "src" + name})
		}
		keys = append(keys, [2]string{"npm", "absent"}, [2]string{"PyPI", "absent"})
	})
	db := open(t, path)
	ctx := context.Background()
	kept := map[[2]string][]Affected{}
	for round := range 2 {
		for _, k := range keys {
			var got []Affected
			err := db.EachAdvisory(ctx, k[0], k[1], func(a *Affected) error {
				got = append(got, a.Clone())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want, err := db.Advisories(ctx, k[0], k[1])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%v: EachAdvisory gave\n%+v\nAdvisories gave\n%+v", k, got, want)
			}
			if round == 0 {
				kept[k] = got
			} else if !reflect.DeepEqual(kept[k], want) {
				t.Fatalf("%v: a clone kept from the first round changed", k)
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	err := db.EachAdvisory(ctx, "npm", "pkg-30", func(*Affected) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("callback error: EachAdvisory returned %v after %d calls, want the callback's error after 1", err, n)
	}
	events := 0
	visit := func(a *Affected) error {
		for _, r := range a.Ranges {
			events += len(r.Events)
		}
		return nil
	}
	// bbolt's read transaction allocates a few small objects; the
	// decoding itself allocates nothing, whatever the entry count.
	db.EachAdvisory(ctx, "npm", "pkg-39", visit)
	big := testing.AllocsPerRun(100, func() { db.EachAdvisory(ctx, "npm", "pkg-39", visit) })
	small := testing.AllocsPerRun(100, func() { db.EachAdvisory(ctx, "npm", "pkg-2", visit) })
	if (big > small || big > 10) && !raceEnabled {
		t.Errorf("a warm EachAdvisory allocated %.1f times for %d entries and %.1f times for 1, want the same few", big, 39*39/4, small)
	}
}

// TestPrefetch: the page walk finds every leaf page of the package index
// in a file large enough for several branch levels, Prefetch uses it, and
// a damaged page gives an error, not a panic.
func TestPrefetch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		for i := range 30000 {
			mustPut(t, b, osvDoc(fmt.Sprintf("GHSA-%d", i), "osv/npm",
				Affected{Ecosystem: "npm", Package: fmt.Sprintf("package-with-a-long-name-%d", i), Ranges: fixed("0", "1")}), Added)
		}
	})
	db := open(t, path)
	var root uint64
	var leaves int
	db.bolt.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketPkg)
		root = uint64(bk.Root())
		st := bk.Stats()
		leaves = st.LeafPageN
		if st.Depth < 3 {
			t.Errorf("package index of depth %d: the test wants several branch levels", st.Depth)
		}
		return nil
	})
	ctx := context.Background()
	n, err := prefetchPages(ctx, db.file, root, db.bolt.Info().PageSize)
	if err != nil || n != leaves {
		t.Fatalf("prefetchPages found %d leaf pages (err %v), bbolt counts %d", n, err, leaves)
	}
	for _, mode := range []PrefetchMode{PrefetchRead, PrefetchMap} {
		if err := db.Prefetch(ctx, mode); err != nil {
			t.Fatalf("Prefetch(%d): %v", mode, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.Prefetch(cctx, PrefetchMap); !errors.Is(err, context.Canceled) {
		t.Errorf("Prefetch with a canceled context: %v", err)
	}
	// A page that names another ID, read through a copy of the file.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := db.bolt.Info().PageSize
	binary.NativeEndian.PutUint64(raw[int(root)*ps:], root+1)
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := prefetchPages(ctx, f, root, ps); !errors.Is(err, ErrCorrupt) {
		t.Errorf("prefetchPages of a damaged page: %v, want ErrCorrupt", err)
	}
	if _, err := prefetchPages(ctx, f, 1<<40, ps); !errors.Is(err, ErrCorrupt) {
		t.Errorf("prefetchPages of a page past the end: %v, want ErrCorrupt", err)
	}
}

// TestConcurrentLookupsAndClose: lookups from many goroutines share the
// DB's read transactions and agree with each other; Close after them
// returns (it would hang on a transaction left open), and a lookup after
// Close is an error.
func TestConcurrentLookupsAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		for i := range 50 {
			a := Affected{Ecosystem: "npm", Package: fmt.Sprintf("pkg-%d", i%10), Ranges: fixed("0", fmt.Sprintf("1.%d.0", i))}
			mustPut(t, b, osvDoc(fmt.Sprintf("GHSA-%d", i), "osv/npm", a), Added)
		}
	})
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				name := fmt.Sprintf("pkg-%d", (g+i)%10)
				n := 0
				if err := db.EachAdvisory(ctx, "npm", name, func(a *Affected) error { n++; return nil }); err != nil {
					errs <- err
					return
				}
				if n != 5 {
					errs <- fmt.Errorf("%s: %d entries, want 5", name, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- db.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs after concurrent lookups")
	}
	if _, err := db.Advisories(ctx, "npm", "pkg-1"); err == nil {
		t.Error("a lookup after Close succeeded")
	}
}

// TestTruncatedFile: a database cut short (a copy interrupted, a full disk)
// is ErrCorrupt for Open and for a Builder that would start from it; bbolt
// maps past the end of such a file, and reading there would crash.
func TestTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	build(t, path, "", BuildOptions{}, func(b *Builder) {
		for i := range 2000 {
			mustPut(t, b, osvDoc(fmt.Sprintf("GHSA-%d", i), "osv/npm", Affected{Ecosystem: "npm", Package: fmt.Sprintf("pkg-%d", i), Ranges: fixed("0", "1")}), Added)
		}
	})
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		if err == nil {
			db.Close()
		}
		t.Errorf("Open of a truncated file: %v, want ErrCorrupt", err)
	}
	if _, err := NewBuilder(filepath.Join(dir, "new.db"), BuildOptions{Base: path}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("builder on a truncated base: %v, want ErrCorrupt", err)
	}
}
