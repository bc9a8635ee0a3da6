package match_test

import (
	"context"
	"testing"

	"github.com/vigilsec/vigil/ecosystem/dpkg"
	"github.com/vigilsec/vigil/ecosystem/golang"
	"github.com/vigilsec/vigil/ecosystem/npm"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/vulndb"
)

// benchInventory is a realistic ~300-package inventory: 220 packages of the
// real Debian 12.11 status file, the 76 npm packages of the node-demo-api
// lock file, and the Go modules and toolchain of the demo-worker binary.
func benchInventory(tb testing.TB) *inventory.Inventory {
	tb.Helper()
	inv := &inventory.Inventory{Distro: &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm"}}
	deb := extractFile(tb, dpkg.New(), testutil.Fixtures(tb, "vulndata", "Debian", "bookworm-installed", "dpkg-status"), "var/lib/dpkg/status")
	for i, p := range deb.Packages {
		if i == 220 {
			break
		}
		p.Locations = []inventory.Location{{Path: "var/lib/dpkg/status"}}
		inv.Packages = append(inv.Packages, p)
	}
	lock := extractFile(tb, npm.NewLockfiles(), testutil.Fixtures(tb, "apps", "node-demo-api", "package-lock.json"), "app/package-lock.json")
	for _, p := range lock.Packages {
		p.Locations = []inventory.Location{{Path: "app/package-lock.json", Layer: 1}}
		p.Layer = 1
		inv.Packages = append(inv.Packages, p)
	}
	bin := extractFile(tb, golang.New(), testutil.Fixtures(tb, "apps", "go-demo-worker", "demo-worker.bin"), "usr/local/bin/demo-worker")
	for _, p := range bin.Packages {
		p.Locations = []inventory.Location{{Path: "usr/local/bin/demo-worker", Layer: 2}}
		p.Layer = 2
		inv.Packages = append(inv.Packages, p)
	}
	return inv
}

// fullDB builds a database from all the advisory fixtures: vulndata (OSV
// records of every ecosystem, Alpine secdb, the Debian tracker sample, KEV,
// EPSS) and the derived Debian records.
func fullDB(tb testing.TB) *vulndb.DB {
	tb.Helper()
	return openDB(tb, testutil.Fixtures(tb, "vulndata"), testutil.Fixtures(tb, "derived-debian", "Debian"))
}

// TestBenchInventory keeps the benchmark honest: its inventory is the
// size it claims and the matcher finds the demo apps' known vulnerabilities
// in it (lodash 4.17.15, minimist 1.2.0, the Go toolchain's stdlib, x/net,
// x/text), with no warning.
func TestBenchInventory(t *testing.T) {
	inv := benchInventory(t)
	if n := len(inv.Packages); n < 280 || n > 320 {
		t.Fatalf("benchmark inventory has %d packages, want about 300", n)
	}
	db := fullDB(t)
	fs, warns, err := (&match.Matcher{Store: db}).Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	found := map[string]bool{}
	for _, f := range fs {
		found[inv.Packages[f.Package.Index].Name] = true
	}
	for _, name := range []string{"lodash", "minimist", "golang.org/x/net", "golang.org/x/text"} {
		if !found[name] {
			t.Errorf("no finding for %s", name)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	inv := benchInventory(b)
	db := fullDB(b)
	m := &match.Matcher{Store: db}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for b.Loop() {
		fs, _, err := m.Match(ctx, inv)
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
	}
	b.ReportMetric(float64(len(inv.Packages)), "packages")
	b.ReportMetric(float64(n), "findings")
}
