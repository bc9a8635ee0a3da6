package synth

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/osv"
	"github.com/vigilsec/vigil/vulndb/update"
)

// TestGenerate: the synthetic export is valid OSV in the upstream layout,
// deterministic for a seed, and imports without a single bad record.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	m, err := Generate(filepath.Join(dir, "a"), Options{Records: 400, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if m.Records != 400 || m.JSONBytes == 0 || len(m.PerEco) != len(Mix) {
		t.Fatalf("manifest: %+v", m)
	}
	total := 0
	for _, mx := range Mix {
		folder := filepath.Join(dir, "a", mx.Folder)
		zr, err := zip.OpenReader(filepath.Join(folder, "all.zip"))
		if err != nil {
			t.Fatal(err)
		}
		csv, err := os.ReadFile(filepath.Join(folder, "modified_id.csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
		if m.PerEco[mx.Folder] > 0 && len(lines) != len(zr.File) {
			t.Errorf("%s: %d index lines for %d records", mx.Folder, len(lines), len(zr.File))
		}
		var prev time.Time
		for i, l := range lines {
			if l == "" {
				continue
			}
			ts, _, _ := strings.Cut(l, ",")
			tm, err := osv.ParseTime(ts)
			if err != nil {
				t.Fatalf("%s line %d: %v", mx.Folder, i+1, err)
			}
			if i > 0 && tm.After(prev) {
				t.Errorf("%s: modified_id.csv not newest first at line %d", mx.Folder, i+1)
			}
			prev = tm
		}
		total += len(zr.File)
		zr.Close()
	}
	if total != 400 {
		t.Errorf("%d records in the archives, want 400", total)
	}
	zips, _ := filepath.Glob(filepath.Join(dir, "a", "*", "all.zip"))
	rep, err := update.Import(context.Background(), filepath.Join(dir, "vigil.db"), zips...)
	if err != nil {
		t.Fatal(err)
	}
	if tot := rep.Total(); tot.Added != 400 || tot.Malformed != 0 || tot.Skipped != 0 || tot.UnknownEcosystem != 0 {
		t.Errorf("import: %+v %v", tot, rep.Failures())
	}
	db, err := vulndb.Open(filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, k := range m.Keys {
		as, err := db.Advisories(context.Background(), k[0], k[1])
		if err != nil || len(as) == 0 {
			t.Errorf("manifest key %v: %d entries, %v", k, len(as), err)
		}
	}
	// Same seed, same bytes.
	if _, err := Generate(filepath.Join(dir, "b"), Options{Records: 400, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a", "npm", "all.zip"))
	b, _ := os.ReadFile(filepath.Join(dir, "b", "npm", "all.zip"))
	if string(a) != string(b) {
		t.Error("generation is not deterministic")
	}
}
