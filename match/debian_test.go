package match_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/ecosystem/dpkg"
	"github.com/vigilsec/vigil/ecosystem/osrelease"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/report"
)

// TestDebianExpectedTables reproduces the derived Debian fixtures'
// expected-match tables (derived-debian/README.md), computed there with
// `dpkg --compare-versions` on source versions: every (binary package,
// record) row marked "yes" is a finding of that binary naming the record,
// with the table's fixed version and the binary's installed version; every
// row marked "no" is no finding. The inventories come from the real status
// files, parsed with ecosystem/dpkg: the 720-package Debian 12.11 status of
// the fixtures, and a debootstrap'd bookworm minbase.
func TestDebianExpectedTables(t *testing.T) {
	db := openDB(t, testutil.Fixtures(t, "derived-debian", "Debian"))
	for _, tc := range []struct {
		name   string
		table  string
		status func(t *testing.T) (status, osRelease string)
		rows   int
		yes    int
	}{
		{
			name:  "bookworm-12.11-installed",
			table: "expected-bookworm-12.11-installed.tsv",
			status: func(t *testing.T) (string, string) {
				return testutil.Fixtures(t, "vulndata", "Debian", "bookworm-installed", "dpkg-status"), ""
			},
			rows: 1242, yes: 261,
		},
		{
			name:  "minbase",
			table: "expected-minbase.tsv",
			status: func(t *testing.T) (string, string) {
				root := debroot.Minbase(t)
				return filepath.Join(root, "var", "lib", "dpkg", "status"), filepath.Join(root, "usr", "lib", "os-release")
			},
			rows: 237, yes: 58,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			statusPath, osRelease := tc.status(t)
			inv := debianInventory(t, statusPath, osRelease)
			yes, no := readTable(t, testutil.Fixtures(t, "derived-debian", tc.table))
			if len(yes)+len(no) != tc.rows || len(yes) != tc.yes {
				t.Fatalf("table has %d rows, %d yes; the README says %d and %d", len(yes)+len(no), len(yes), tc.rows, tc.yes)
			}
			fs, warns, err := (&match.Matcher{Store: db}).Match(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != 0 {
				t.Errorf("warnings: %v", warns)
			}
			got := map[[2]string]string{}
			for _, f := range fs {
				p := &inv.Packages[f.Package.Index]
				for _, id := range f.AdvisoryIDs {
					if strings.HasPrefix(id, "DEBIAN-CVE-") {
						got[[2]string{p.Name, id}] = p.Version + "\t" + strings.Join(f.FixedVersions, ",")
					}
				}
				checkDebianFinding(t, p, &f)
			}
			if diff := cmp.Diff(yes, got); diff != "" {
				t.Errorf("affected (binary, record) -> installed, fixed (-want +got):\n%s", diff)
			}
			for k := range no {
				if _, ok := got[k]; ok {
					t.Errorf("%s x %s: the table says not affected", k[0], k[1])
				}
			}
		})
	}
}

// checkDebianFinding checks what the tables do not say: findings compare
// the source version, and a record without a fix is not-fixed (wont-fix
// for the synthetic records whose urgency is unimportant).
func checkDebianFinding(t *testing.T, p *inventory.Package, f *report.Finding) {
	t.Helper()
	if want := cmpOr(p.SourceVersion, p.Version); f.InstalledVersion != want {
		t.Errorf("%s %s: installed version %q, want the source version %q", p.Name, f.ID, f.InstalledVersion, want)
	}
	switch {
	case len(f.FixedVersions) > 0 && f.FixStatus != report.Fixed,
		len(f.FixedVersions) == 0 && f.FixStatus != report.NotFixed && f.FixStatus != report.WontFix:
		t.Errorf("%s %s: fix status %q with fixed versions %v", p.Name, f.ID, f.FixStatus, f.FixedVersions)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// readTable reads an expected-*.tsv table: binary_pkg, source_pkg,
// installed_version, record_id, fixed_version, affected.
func readTable(t *testing.T, path string) (yes map[[2]string]string, no map[[2]string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	yes, no = map[[2]string]string{}, map[[2]string]bool{}
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header {
			if !slices.Equal(cols, []string{"binary_pkg", "source_pkg", "installed_version", "record_id", "fixed_version", "affected"}) {
				t.Fatalf("%s: unexpected header %q", path, cols)
			}
			header = false
			continue
		}
		if len(cols) != 6 {
			t.Fatalf("%s: row %q has %d columns", path, sc.Text(), len(cols))
		}
		k := [2]string{cols[0], cols[3]}
		switch cols[5] {
		case "yes":
			yes[k] = cols[2] + "\t" + cols[4]
		case "no":
			no[k] = true
		default:
			t.Fatalf("%s: row %q: affected is %q", path, sc.Text(), cols[5])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return yes, no
}

// debianInventory parses a dpkg status file with the dpkg extractor, and
// the release from an os-release file (Debian 12 when none is given).
func debianInventory(t *testing.T, statusPath, osReleasePath string) *inventory.Inventory {
	t.Helper()
	inv := &inventory.Inventory{Distro: &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm"}}
	res := extractFile(t, dpkg.New(), statusPath, "var/lib/dpkg/status")
	if len(res.Warnings) != 0 {
		t.Fatalf("dpkg: %v", res.Warnings)
	}
	for _, p := range res.Packages {
		p.Locations = []inventory.Location{{Path: "var/lib/dpkg/status"}}
		inv.Packages = append(inv.Packages, p)
	}
	if osReleasePath != "" {
		r := extractFile(t, osrelease.New(), osReleasePath, "usr/lib/os-release")
		if r.Distro == nil {
			t.Fatalf("osrelease: no release in %s", osReleasePath)
		}
		inv.Distro = r.Distro
	}
	return inv
}

func extractFile(t testing.TB, ex extract.Extractor, path, inImage string) *extract.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(context.Background(), &extract.Input{Path: inImage, Info: fi, Reader: f, Size: fi.Size()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
