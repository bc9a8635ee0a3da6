package npm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
)

type fakeInfo struct {
	size int64
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return "" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func sortPkgs(p []inventory.Package) []inventory.Package {
	p = slices.Clone(p)
	slices.SortFunc(p, func(a, b inventory.Package) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version))
	})
	return p
}

// parseWant reads "name version [licence,licence]" lines.
func parseWant(t *testing.T, data []byte) []inventory.Package {
	t.Helper()
	var out []inventory.Package
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) < 2 {
			t.Fatalf("want line %q: need name and version", line)
		}
		p := npmPackage(f[0], f[1])
		if len(f) == 3 {
			p.Licenses = strings.Split(f[2], ",")
		}
		out = append(out, p)
	}
	return sortPkgs(out)
}

func readTxtar(t *testing.T, path string) (*txtar.Archive, map[string][]byte) {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range ar.Files {
		files[f.Name] = f.Data
	}
	return ar, files
}

func TestInstalledManifest(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"node_modules/lodash/package.json", true},
		{"app/node_modules/@babel/core/package.json", true},
		{"usr/lib/node_modules/npm/node_modules/semver/package.json", true},
		{"node_modules/optimist/node_modules/minimist/package.json", true},
		{"node_modules/@s/b/node_modules/@t/c/package.json", true},
		{"node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json", true},
		{"packages/ws/node_modules/d/package.json", true},
		{"package.json", false},
		{"app/package.json", false},
		{"node_modules/package.json", false},
		{"node_modules/lodash/lib/package.json", false},
		{"node_modules/@babel/core/lib/package.json", false},
		{"node_modules/@babel/package.json", false},
		{"node_modules/.bin/package.json", false},
		{"node_modules/.cache/x/package.json", false},
		{"node_modules/@/x/package.json", false},
		{"node_modules/lodash/package.json.bak", false},
		{"node_modules/lodash/xpackage.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := New().Wants(tt.path, fakeInfo{size: 100, mode: 0o644}); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if New().Wants("node_modules/x/package.json", fakeInfo{size: maxManifest + 1, mode: 0o644}) {
		t.Error("Wants accepted a package.json above the size cap")
	}
	if New().Wants("node_modules/x/package.json", fakeInfo{mode: fs.ModeSymlink | 0o777}) {
		t.Error("Wants accepted a symbolic link")
	}
}

func TestLicenses(t *testing.T) {
	tests := []struct {
		name              string
		license, licenses string
		want              []string
	}{
		{"string", `"MIT"`, ``, []string{"MIT"}},
		{"expression", `"(MIT OR Apache-2.0)"`, ``, []string{"(MIT OR Apache-2.0)"}},
		{"object", `{"type":"BSD-3-Clause","url":"x"}`, ``, []string{"BSD-3-Clause"}},
		{"legacy array", ``, `[{"type":"MIT","url":"x"},{"type":"Apache-2.0"}]`, []string{"MIT", "Apache-2.0"}},
		{"legacy string", ``, `"ISC"`, []string{"ISC"}},
		{"both, deduplicated", `"MIT"`, `[{"type":"MIT"},"GPL-2.0"]`, []string{"MIT", "GPL-2.0"}},
		{"array in license", `["MIT",{"type":"ISC"}]`, ``, []string{"MIT", "ISC"}},
		{"object with name", `{"name":"WTFPL"}`, ``, []string{"WTFPL"}},
		{"nested arrays ignored", `[["MIT"]]`, ``, nil},
		{"wrong types", `42`, `{"type":7}`, nil},
		{"empty string", `"  "`, `null`, nil},
		{"absent", ``, ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := licenses(json.RawMessage(tt.license), json.RawMessage(tt.licenses))
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("licenses() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManifestExtract(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		data      string
		want      []inventory.Package
		wantWarns int
		wantErr   bool
	}{
		{name: "plain", path: "node_modules/ms/package.json", data: `{"name":"ms","version":"2.0.0","license":"MIT"}`,
			want: []inventory.Package{{Ecosystem: inventory.NPM, Name: "ms", Version: "2.0.0", Licenses: []string{"MIT"}}}},
		{name: "name from scoped directory", path: "node_modules/@types/node/package.json", data: `{"version":"20.1.0"}`,
			want: []inventory.Package{{Ecosystem: inventory.NPM, Name: "@types/node", Version: "20.1.0"}}},
		{name: "non-string name falls back to directory", path: "node_modules/x/package.json", data: `{"name":7,"version":"1.0.0"}`,
			want: []inventory.Package{{Ecosystem: inventory.NPM, Name: "x", Version: "1.0.0"}}},
		{name: "no version", path: "node_modules/x/package.json", data: `{"name":"x"}`, wantWarns: 1},
		{name: "not JSON", path: "node_modules/x/package.json", data: `{"name":`, wantErr: true},
		{name: "JSON array", path: "node_modules/x/package.json", data: `[]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Extract(context.Background(), &extract.Input{Path: tt.path, Reader: strings.NewReader(tt.data), Size: int64(len(tt.data))})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Extract() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if diff := gocmp.Diff(tt.want, got.Packages); diff != "" {
				t.Errorf("Extract() mismatch (-want +got):\n%s", diff)
			}
			if len(got.Warnings) != tt.wantWarns {
				t.Errorf("warnings = %q, want %d", got.Warnings, tt.wantWarns)
			}
		})
	}
}

// walk offers every file under root to the extractors, as the layer walk
// does (symbolic links are not followed), and returns what they found.
func walk(t *testing.T, root string, exs ...extract.Extractor) (map[string][]inventory.Package, []string) {
	t.Helper()
	found := map[string][]inventory.Package{}
	var warns []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, e := range exs {
			if !e.Wants(rel, fi) {
				continue
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			res, err := e.Extract(context.Background(), &extract.Input{Path: rel, Info: fi, Reader: f, Size: fi.Size()})
			f.Close()
			if err != nil {
				t.Errorf("%s: Extract(%s): %v", e.Name(), rel, err)
				continue
			}
			found[e.Name()] = append(found[e.Name()], res.Packages...)
			warns = append(warns, res.Warnings...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, warns
}

// npmQuery asks the npm CLI which packages a directory's node_modules tree
// holds: `npm query '*'` loads the actual tree the way npm itself does.
func npmQuery(t *testing.T, dir string) []inventory.Package {
	t.Helper()
	cmd := exec.Command("npm", "query", "*", "--offline")
	cmd.Dir = dir
	cache := t.TempDir()
	cmd.Env = append(os.Environ(), "npm_config_cache="+cache, "npm_config_logs_dir="+cache,
		"npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm query in %s: %v", dir, err)
	}
	var nodes []struct {
		Name     string `json:"name"`
		Version  string `json:"version"`
		Location string `json:"location"`
	}
	if err := json.Unmarshal(out, &nodes); err != nil {
		t.Fatalf("npm query output: %v", err)
	}
	var pkgs []inventory.Package
	for _, n := range nodes {
		// The root and workspace folders are the application itself.
		if strings.Contains(n.Location, "node_modules/") {
			pkgs = append(pkgs, npmPackage(n.Name, n.Version))
		}
	}
	return sortPkgs(pkgs)
}

func namesVersions(p []inventory.Package) []inventory.Package {
	out := make([]inventory.Package, len(p))
	for i := range p {
		out[i] = npmPackage(p[i].Name, p[i].Version)
	}
	return sortPkgs(out)
}

func TestTree(t *testing.T) {
	ar, files := readTxtar(t, filepath.Join("testdata", "trees", "workspace.txtar"))
	dir := t.TempDir()
	for _, f := range ar.Files {
		if f.Name == "want" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// npm links workspace packages into node_modules.
	if err := os.Symlink(filepath.Join("..", "packages", "ws"), filepath.Join(dir, "node_modules", "ws")); err != nil {
		t.Fatal(err)
	}
	found, warns := walk(t, dir, New())
	got := sortPkgs(found["npm"])
	want := parseWant(t, files["want"])
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("tree mismatch (-want +got):\n%s", diff)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	// The npm CLI agrees on names and versions, except that it reports a
	// nameless package under an empty name.
	oracle := npmQuery(t, dir)
	for i := range oracle {
		if oracle[i].Name == "" && oracle[i].Version == "5.0.0" {
			oracle[i].Name = "noname"
		}
	}
	if diff := gocmp.Diff(sortPkgs(oracle), namesVersions(got)); diff != "" {
		t.Errorf("tree disagrees with npm query (-npm +vigil):\n%s", diff)
	}
}

func TestLockfiles(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "lockfiles", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no lock file cases: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ar, files := readTxtar(t, path)
			lock := ar.Files[0]
			e := NewLockfiles()
			fi := fakeInfo{size: int64(len(lock.Data)), mode: 0o644}
			ipath := "srv/app/" + lock.Name
			if !e.Wants(ipath, fi) {
				t.Fatalf("Wants(%q) = false", ipath)
			}
			if e.Wants("srv/app/node_modules/x/"+lock.Name, fi) {
				t.Errorf("Wants accepted %s inside node_modules", lock.Name)
			}
			got, err := e.Extract(context.Background(), &extract.Input{Path: ipath, Reader: bytes.NewReader(lock.Data), Size: int64(len(lock.Data))})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if diff := gocmp.Diff(parseWant(t, files["want"]), sortPkgs(got.Packages)); diff != "" {
				t.Errorf("lock file mismatch (-want +got):\n%s", diff)
			}
			wantWarns := 0
			if w, ok := files["warnings"]; ok {
				if wantWarns, err = strconv.Atoi(strings.TrimSpace(string(w))); err != nil {
					t.Fatal(err)
				}
			}
			if len(got.Warnings) != wantWarns {
				t.Errorf("warnings = %q, want %d", got.Warnings, wantWarns)
			}
			// Output order does not depend on map iteration.
			again, err := e.Extract(context.Background(), &extract.Input{Path: ipath, Reader: bytes.NewReader(lock.Data), Size: int64(len(lock.Data))})
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(got, again); diff != "" {
				t.Errorf("second extraction differs:\n%s", diff)
			}
		})
	}
}

func TestLockfileErrors(t *testing.T) {
	tests := []struct {
		path, data string
	}{
		{"package-lock.json", `{"lockfileVersion": 3, "packages": [`},
		{"package-lock.json", `{"name": "not a lock file"}`},
		{"npm-shrinkwrap.json", `[]`},
		{"yarn.lock", "lodash@^4:\n  version \"4.17.21\"\nstray line without colon\n"},
		{"yarn.lock", "  version \"1.0.0\"\n"},
		{"yarn.lock", "__metadata:\n  version: 6\n\"a@npm:1\": [unclosed\n"},
		{"pnpm-lock.yaml", "packages:\n  /a@1.0.0: {}\n"},
		{"pnpm-lock.yaml", "lockfileVersion: banana\n"},
		{"pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: [\n"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+truncate(tt.data), func(t *testing.T) {
			ipath := "app/" + tt.path
			_, err := NewLockfiles().Extract(context.Background(), &extract.Input{Path: ipath, Reader: strings.NewReader(tt.data), Size: int64(len(tt.data))})
			if err == nil {
				t.Fatal("Extract succeeded, want error")
			}
			if !strings.Contains(err.Error(), ipath) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLockfileWants(t *testing.T) {
	tests := []struct {
		path string
		size int64
		want bool
	}{
		{"package-lock.json", 100, true},
		{"srv/app/npm-shrinkwrap.json", 100, true},
		{"srv/app/yarn.lock", 100, true},
		{"srv/app/pnpm-lock.yaml", 100, true},
		{"srv/app/node_modules/.package-lock.json", 100, false},
		{"node_modules/x/package-lock.json", 100, false},
		{"srv/app/package.json", 100, false},
		{"srv/app/yarn.lock.orig", 100, false},
		{"srv/app/pnpm-lock.yaml", maxLockfile + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := NewLockfiles().Wants(tt.path, fakeInfo{size: tt.size, mode: 0o644}); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// TestFixtureTreeMatchesLockfile checks the real node-demo-api app: the
// installed tree and the package-lock.json npm wrote for it must name the
// same packages with the same versions and licences, and npm itself must
// see the same tree.
func TestFixtureTreeMatchesLockfile(t *testing.T) {
	dir := testutil.Fixtures(t, "apps", "node-demo-api")
	found, warns := walk(t, dir, New(), NewLockfiles())
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	tree, lock := sortPkgs(found["npm"]), sortPkgs(found["npm-lockfile"])
	if len(tree) != 76 {
		t.Errorf("tree has %d packages, want the 76 the fixture installs", len(tree))
	}
	if diff := gocmp.Diff(lock, tree); diff != "" {
		t.Errorf("node_modules disagrees with package-lock.json (-lock +tree):\n%s", diff)
	}
	if diff := gocmp.Diff(npmQuery(t, dir), namesVersions(tree)); diff != "" {
		t.Errorf("node_modules disagrees with npm query (-npm +vigil):\n%s", diff)
	}
	// Known entries, including both copies of minimist.
	for _, want := range []string{"minimist 1.2.0", "minimist 0.0.10", "lodash 4.17.15", "handlebars 4.5.2", "ms 2.0.0", "ms 2.1.1"} {
		name, version, _ := strings.Cut(want, " ")
		if !slices.ContainsFunc(tree, func(p inventory.Package) bool { return p.Name == name && p.Version == version }) {
			t.Errorf("tree lacks %s", want)
		}
	}
}

func lockSeeds(f *testing.F, name string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "lockfiles", "*.txtar"))
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if ar.Files[0].Name == name {
			f.Add(ar.Files[0].Data)
		}
	}
}

func fuzzLock(f *testing.F, name string) {
	e := NewLockfiles()
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := e.Extract(context.Background(), &extract.Input{Path: name, Reader: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil {
			return
		}
		for _, p := range res.Packages {
			if p.Name == "" || p.Version == "" || p.Ecosystem != inventory.NPM {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func FuzzPackageLock(f *testing.F) {
	lockSeeds(f, "package-lock.json")
	fuzzLock(f, "package-lock.json")
}

func FuzzYarnLock(f *testing.F) {
	lockSeeds(f, "yarn.lock")
	fuzzLock(f, "yarn.lock")
}

func FuzzPnpmLock(f *testing.F) {
	lockSeeds(f, "pnpm-lock.yaml")
	fuzzLock(f, "pnpm-lock.yaml")
}

func FuzzManifest(f *testing.F) {
	ar, err := txtar.ParseFile(filepath.Join("testdata", "trees", "workspace.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range ar.Files {
		if strings.HasSuffix(file.Name, "package.json") {
			f.Add(file.Data)
		}
	}
	e := New()
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := e.Extract(context.Background(), &extract.Input{Path: "node_modules/x/package.json", Reader: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil {
			return
		}
		for _, p := range res.Packages {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

// BenchmarkFixture measures extracting the node-demo-api app: its 76
// installed package.json files and its package-lock.json, read from memory.
func BenchmarkFixture(b *testing.B) {
	dir := testutil.Fixtures(b, "apps", "node-demo-api")
	type file struct {
		path string
		data []byte
	}
	var files []file
	tree, lock := New(), NewLockfiles()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi, err := d.Info(); err == nil && (tree.Wants(rel, fi) || lock.Wants(rel, fi)) {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files = append(files, file{rel, data})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, f := range files {
			e := tree
			if lockKind(f.path) != "" {
				e = lock
			}
			res, err := e.Extract(context.Background(), &extract.Input{Path: f.path, Reader: bytes.NewReader(f.data), Size: int64(len(f.data))})
			if err != nil {
				b.Fatal(err)
			}
			n += len(res.Packages)
		}
		if n != 152 {
			b.Fatalf("found %d packages, want 152", n)
		}
	}
}
