package match_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/osv"
	"github.com/vigilsec/vigil/vulndb/update"
)

var updateGolden = flag.Bool("update", false, "rewrite the want and warnings sections of match/testdata/*.txtar")

// A case file (testdata/*.txtar) holds:
//
//	-- db --          one directive a line:
//	                    fixture <path>   a file or folder under the shared
//	                                     fixtures, imported as it is
//	                    option nolist    hide the store's ecosystem list
//	-- records/... -- inline records or feed files, imported like fixtures
//	-- inventory --   "distro <family> <version> [codename=...]" and one
//	                  package a line: "<ecosystem> <name> <version|-> [key=value...]"
//	                  with keys src=<name>[@<version>], group=, owned=,
//	                  toolchain, layer=, path=, arch=
//	-- want --        one finding a line, as formatFinding writes it
//	-- warnings --    one warning a line, as formatWarning writes it
//
// The harness builds a database from the records with update.Import, runs
// the matcher and compares. go test ./match -update rewrites want and
// warnings (review the diff like code).
func TestCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test cases in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runCase(t, file)
		})
	}
}

func runCase(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string][]byte{}
	tmp := t.TempDir()
	var imports []string
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "records/") {
			p := filepath.Join(tmp, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		sections[f.Name] = f.Data
	}
	if _, err := os.Stat(filepath.Join(tmp, "records")); err == nil {
		imports = append(imports, filepath.Join(tmp, "records"))
	}
	nolist := false
	for _, line := range lines(sections["db"]) {
		verb, arg, _ := strings.Cut(line, " ")
		switch verb {
		case "fixture":
			imports = append(imports, testutil.Fixtures(t, filepath.FromSlash(arg)))
		case "option":
			if arg != "nolist" {
				t.Fatalf("unknown option %q", arg)
			}
			nolist = true
		default:
			t.Fatalf("db: unknown directive %q", line)
		}
	}
	inv := parseInventory(t, sections["inventory"])
	store := openDB(t, imports...)
	var s vulndb.Store = store
	if nolist {
		s = hideList{store}
	}
	m := &match.Matcher{Store: s}
	findings, warns, err := m.Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	checkRefs(t, inv, findings)
	var gotF, gotW []string
	for i := range findings {
		gotF = append(gotF, formatFinding(&findings[i]))
	}
	for _, w := range warns {
		gotW = append(gotW, formatWarning(w))
	}
	if *updateGolden {
		rewrite(t, file, ar, gotF, gotW)
		return
	}
	if diff := cmp.Diff(lines(sections["want"]), gotF); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(lines(sections["warnings"]), gotW); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// checkRefs holds every finding to its package: the reference is the
// package at that index, the layer is the package's.
func checkRefs(t *testing.T, inv *inventory.Inventory, fs []report.Finding) {
	t.Helper()
	for _, f := range fs {
		i := f.Package.Index
		if i < 0 || i >= len(inv.Packages) {
			t.Errorf("%s: package index %d out of range", f.ID, i)
			continue
		}
		p := &inv.Packages[i]
		if diff := cmp.Diff(report.RefTo(p, i), f.Package); diff != "" {
			t.Errorf("%s: package reference (-want +got):\n%s", f.ID, diff)
		}
		if f.Layer != p.Layer {
			t.Errorf("%s: layer %d, package's is %d", f.ID, f.Layer, p.Layer)
		}
	}
}

// hideList hides the database's ecosystem list, to test the matcher's
// fallback to the ecosystem forms it knows.
type hideList struct{ vulndb.Store }

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// openDB builds a database from fixture files and folders: OSV records
// through osv.Parse, osv.Convert and a vulndb.Builder, every other feed file
// (Debian tracker JSON, Alpine secdb, KEV, EPSS) through update.Import on
// top. (update.Import alone refuses a set of OSV records whose "modified"
// times are all zero, as the Go database's are in the fixtures.)
func openDB(t testing.TB, paths ...string) *vulndb.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	b, err := vulndb.NewBuilder(path, vulndb.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var feeds []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(p) {
			case ".json", ".yaml", ".yml", ".csv", ".gz":
			default:
				return nil
			}
			if strings.HasSuffix(p, "_schema.json") {
				return nil // the KEV catalog's JSON schema, not data
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rec, err := osv.Parse(data)
			if err != nil {
				feeds = append(feeds, p)
				return nil
			}
			doc, _ := osv.Convert(rec, "osv/test")
			_, err = b.Put(doc)
			return err
		})
		if err != nil {
			b.Abort()
			t.Fatal(err)
		}
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if len(feeds) > 0 {
		rep, err := update.Import(ctx, path, feeds...)
		if err != nil {
			t.Fatal(err)
		}
		if f := rep.Failures(); len(f) > 0 {
			t.Fatalf("import: %v", f)
		}
	}
	db, err := vulndb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// parseInventory reads the compact inventory form.
func parseInventory(t testing.TB, b []byte) *inventory.Inventory {
	t.Helper()
	inv := &inventory.Inventory{}
	for _, line := range lines(b) {
		f := strings.Fields(line)
		if f[0] == "distro" {
			if len(f) < 2 {
				t.Fatalf("inventory: %q: want distro <family> [version]", line)
			}
			d := &inventory.Distro{Family: f[1], Source: "etc/os-release"}
			for _, kv := range f[2:] {
				if k, v, ok := strings.Cut(kv, "="); ok && k == "codename" {
					d.Codename = v
				} else {
					d.Version = kv
				}
			}
			inv.Distro = d
			continue
		}
		if len(f) < 3 {
			t.Fatalf("inventory: %q: want <ecosystem> <name> <version> [key=value...]", line)
		}
		p := inventory.Package{Ecosystem: inventory.Ecosystem(f[0]), Name: f[1], Version: f[2]}
		if p.Version == "-" {
			p.Version = ""
		}
		path := ""
		for _, kv := range f[3:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "src":
				p.SourceName, p.SourceVersion, _ = strings.Cut(v, "@")
			case "group":
				p.Group = v
			case "owned":
				p.OwnedBy = v
			case "toolchain":
				p.Toolchain = true
			case "arch":
				p.Arch = v
			case "path":
				path = v
			case "layer":
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("inventory: %q: %v", line, err)
				}
				p.Layer = n
			default:
				t.Fatalf("inventory: %q: unknown key %q", line, k)
			}
		}
		if path == "" {
			path = defaultPath(p.Ecosystem)
		}
		p.Locations = []inventory.Location{{Path: path, Layer: p.Layer}}
		inv.Packages = append(inv.Packages, p)
	}
	return inv
}

func defaultPath(e inventory.Ecosystem) string {
	switch e {
	case inventory.Deb:
		return "var/lib/dpkg/status"
	case inventory.APK:
		return "lib/apk/db/installed"
	case inventory.RPM:
		return "var/lib/rpm/rpmdb.sqlite"
	}
	return "app/" + string(e)
}

// formatFinding writes the fields a case checks on one line:
//
//	[<package index>] <ID> installed=<v> [fixed=<v,...>] status=<s>
//	severity=<s>[/<source>] [advisories=<id,...>] [aliases=<id,...>]
//	[kev] [epss=<score>] [note]
//
// where note says the description carries a vendor status.
func formatFinding(f *report.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s installed=%s", f.Package.Index, f.ID, f.InstalledVersion)
	if len(f.FixedVersions) > 0 {
		fmt.Fprintf(&b, " fixed=%s", strings.Join(f.FixedVersions, ","))
	}
	fmt.Fprintf(&b, " status=%s severity=%s", f.FixStatus, f.Severity)
	if f.SeveritySource != "" {
		fmt.Fprintf(&b, "/%s", f.SeveritySource)
	}
	if len(f.AdvisoryIDs) > 0 {
		fmt.Fprintf(&b, " advisories=%s", strings.Join(f.AdvisoryIDs, ","))
	}
	if len(f.Aliases) > 0 {
		fmt.Fprintf(&b, " aliases=%s", strings.Join(f.Aliases, ","))
	}
	if f.KEV {
		b.WriteString(" kev")
	}
	if f.EPSS != nil {
		fmt.Fprintf(&b, " epss=%g", f.EPSS.Score)
	}
	if strings.HasPrefix(f.Description, "Vendor status: ") {
		status, _, _ := strings.Cut(strings.TrimPrefix(f.Description, "Vendor status: "), " (")
		fmt.Fprintf(&b, " note=%s", status)
	}
	return b.String()
}

func formatWarning(w inventory.Warning) string {
	return fmt.Sprintf("%d %s %s: %s", w.Layer, w.Path, w.Component, w.Message)
}

func rewrite(t *testing.T, file string, ar *txtar.Archive, want, warns []string) {
	t.Helper()
	set := func(name string, ls []string) {
		data := []byte(strings.Join(ls, "\n"))
		if len(ls) > 0 {
			data = append(data, '\n')
		}
		for i := range ar.Files {
			if ar.Files[i].Name == name {
				ar.Files[i].Data = data
				return
			}
		}
		if len(ls) > 0 {
			ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
		}
	}
	set("want", want)
	set("warnings", warns)
	out := txtar.Format(ar)
	old, _ := os.ReadFile(file)
	if !bytes.Equal(old, out) {
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", file)
	}
}
