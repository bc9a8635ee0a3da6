package layerfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
)

// pkgExtractor reads "*.pkg" files of "name version" lines as npm packages,
// "*.own" files as a deb package "owner" owning the listed paths, and
// "os-release" as a distro. It panics on a file reading "PANIC".
type pkgExtractor struct{ calls atomic.Int32 } // layers are walked in parallel

func (*pkgExtractor) Name() string { return "test" }
func (*pkgExtractor) Version() int { return 1 }
func (*pkgExtractor) Wants(p string, fi fs.FileInfo) bool {
	return strings.HasSuffix(p, ".pkg") || strings.HasSuffix(p, ".own") || strings.HasSuffix(p, "os-release")
}
func (e *pkgExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	e.calls.Add(1)
	b, err := io.ReadAll(io.NewSectionReader(in.Reader, 0, in.Size))
	if err != nil {
		return nil, err
	}
	if string(b) == "PANIC" {
		panic("boom")
	}
	if string(b) == "ERROR" {
		return nil, errors.New("bad file")
	}
	res := &extract.Result{}
	switch {
	case strings.HasSuffix(in.Path, "os-release"):
		res.Distro = &inventory.Distro{Family: strings.TrimSpace(string(b))}
		return res, nil
	case strings.HasSuffix(in.Path, ".own"):
		p := inventory.Package{Ecosystem: inventory.Deb, Name: "owner", Version: "1"}
		p.Files = strings.Fields(string(b))
		res.Packages = append(res.Packages, p)
		return res, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			res.Packages = append(res.Packages, inventory.Package{Ecosystem: inventory.NPM, Name: f[0], Version: f[1]})
		}
	}
	return res, nil
}

type tEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func file(name, body string) tEntry { return tEntry{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) tEntry        { return tEntry{name: name, typ: tar.TypeDir} }
func symlink(name, target string) tEntry {
	return tEntry{name: name, link: target, typ: tar.TypeSymlink}
}
func hardlink(name, target string) tEntry {
	return tEntry{name: name, link: target, typ: tar.TypeLink}
}

func mkTar(t testing.TB, entries ...tEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func diffID(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func mkImage(layers ...[]byte) *image.Image {
	img := &image.Image{}
	for i, b := range layers {
		b := b
		img.Layers = append(img.Layers, image.Layer{
			DiffID:  diffID(b),
			Size:    int64(len(b)),
			History: &image.History{CreatedBy: "step " + string(rune('A'+i))},
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(b)), nil
			},
		})
	}
	return img
}

type got struct {
	Name, Version string
	Path          string
	Layer, At     int
	OwnedBy       string
}

func summarize(inv *inventory.Inventory) []got {
	var out []got
	for _, p := range inv.Packages {
		out = append(out, got{p.Name, p.Version, p.Locations[0].Path, p.Layer, p.Locations[0].Layer, p.OwnedBy})
	}
	return out
}

func walk(t *testing.T, img *image.Image, mod ...func(*Options)) (*Result, error) {
	t.Helper()
	opts := Options{Registry: extract.NewRegistry(&pkgExtractor{}), Verify: VerifyAll, TempDir: t.TempDir()}
	for _, m := range mod {
		m(&opts)
	}
	return Walk(context.Background(), img, opts)
}

func TestWalkVisibilityAndAttribution(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]tEntry
		want   []got
	}{
		{
			name:   "single layer",
			layers: [][]tEntry{{dir("app/"), file("app/a.pkg", "lodash 4.17.15\n")}},
			want:   []got{{"lodash", "4.17.15", "app/a.pkg", 0, 0, ""}},
		},
		{
			name: "whiteout deletes file",
			layers: [][]tEntry{
				{file("app/a.pkg", "lodash 1\n"), file("app/b.pkg", "axios 2\n")},
				{file("app/.wh.a.pkg", "")},
			},
			want: []got{{"axios", "2", "app/b.pkg", 0, 0, ""}},
		},
		{
			name: "whiteout of an ancestor directory",
			layers: [][]tEntry{
				{file("app/node_modules/minimist/x.pkg", "minimist 1.2.0\n"), file("app/node_modules/optimist/node_modules/minimist/x.pkg", "minimist 0.0.10\n")},
				{file("app/node_modules/.wh.minimist", "")},
			},
			want: []got{{"minimist", "0.0.10", "app/node_modules/optimist/node_modules/minimist/x.pkg", 0, 0, ""}},
		},
		{
			name: "opaque directory hides lower contents but not its own",
			layers: [][]tEntry{
				{file("opt/old.pkg", "old 1\n"), file("keep/k.pkg", "keep 1\n")},
				{dir("opt/"), file("opt/.wh..wh..opq", ""), file("opt/new.pkg", "new 1\n")},
			},
			want: []got{{"keep", "1", "keep/k.pkg", 0, 0, ""}, {"new", "1", "opt/new.pkg", 1, 1, ""}},
		},
		{
			name: "rewritten database keeps each package's introducing layer",
			layers: [][]tEntry{
				{file("var/db.pkg", "a 1\n")},
				{file("var/db.pkg", "a 1\nb 1\n")},
				{file("x/other", "")},
				{file("var/db.pkg", "a 1\nb 2\nc 1\n")},
			},
			want: []got{
				{"a", "1", "var/db.pkg", 0, 3, ""},
				{"b", "2", "var/db.pkg", 3, 3, ""},
				{"c", "1", "var/db.pkg", 3, 3, ""},
			},
		},
		{
			name: "deleted then re-added is credited to the re-adding layer",
			layers: [][]tEntry{
				{file("var/db.pkg", "a 1\n")},
				{file("var/.wh.db.pkg", "")},
				{file("var/db.pkg", "a 1\n")},
			},
			want: []got{{"a", "1", "var/db.pkg", 2, 2, ""}},
		},
		{
			name: "ancestor replaced by a symlink hides the file",
			layers: [][]tEntry{
				{file("lib/x.pkg", "x 1\n"), file("usr/lib/y.pkg", "y 1\n")},
				{symlink("lib", "usr/lib")},
			},
			want: []got{{"y", "1", "usr/lib/y.pkg", 0, 0, ""}},
		},
		{
			name: "absolute and dot-prefixed names are taken inside the root",
			layers: [][]tEntry{
				{file("/abs/a.pkg", "a 1\n"), file("./rel/b.pkg", "b 1\n")},
			},
			want: []got{{"a", "1", "abs/a.pkg", 0, 0, ""}, {"b", "1", "rel/b.pkg", 0, 0, ""}},
		},
		{
			name: "hard link to a wanted file",
			layers: [][]tEntry{
				{file("data/blob", "h 1\n"), hardlink("app/h.pkg", "data/blob")},
			},
			want: []got{{"h", "1", "app/h.pkg", 0, 0, ""}},
		},
		{
			name: "language package owned by an OS package",
			layers: [][]tEntry{
				{file("var/lib/owner.own", "/usr/lib/py/yaml.pkg /usr/bin/x"), file("usr/lib/py/yaml.pkg", "pyyaml 6\n"), file("srv/app.pkg", "flask 2\n")},
			},
			want: []got{
				{"owner", "1", "var/lib/owner.own", 0, 0, ""},
				{"flask", "2", "srv/app.pkg", 0, 0, ""},
				{"pyyaml", "6", "usr/lib/py/yaml.pkg", 0, 0, "deb:owner"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var layers [][]byte
			for _, l := range tc.layers {
				layers = append(layers, mkTar(t, l...))
			}
			res, err := walk(t, mkImage(layers...))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summarize(res.Inventory)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(res.Inventory.Layers) != len(layers) || res.Inventory.Layers[0].CreatedBy != "step A" {
				t.Errorf("layers = %+v", res.Inventory.Layers)
			}
		})
	}
}

func TestWalkDistroPrefersLowestRankAndTopLayer(t *testing.T) {
	img := mkImage(
		mkTar(t, file("etc/os-release", "debian")),
		mkTar(t, file("etc/os-release", "ubuntu")),
	)
	res, err := walk(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inventory.Distro == nil || res.Inventory.Distro.Family != "ubuntu" {
		t.Fatalf("distro = %+v, want ubuntu from the top layer", res.Inventory.Distro)
	}
}

func TestWalkBadInput(t *testing.T) {
	good := mkTar(t, file("a.pkg", "a 1\n"+strings.Repeat("x", 2000)))
	tests := []struct {
		name    string
		img     *image.Image
		opts    func(*Options)
		wantErr string
		is      error
	}{
		// Cut inside the file body. (A stream cut exactly between entries reads
		// as a tar without its end marker, which archive/tar accepts; the
		// diffID check catches that case.)
		{name: "truncated tar", img: mkImage(good[:1200]), wantErr: "truncated or corrupt"},
		{name: "garbage", img: mkImage(bytes.Repeat([]byte{0xff}, 1024)), wantErr: "layer 0"},
		{
			name: "diffID mismatch",
			img: func() *image.Image {
				img := mkImage(good)
				img.Layers[0].DiffID = "sha256:" + strings.Repeat("0", 64)
				return img
			}(),
			is: ErrDiffIDMismatch,
		},
		{
			name:    "too many entries",
			img:     mkImage(mkTar(t, file("a", ""), file("b", ""), file("c", ""))),
			opts:    func(o *Options) { o.MaxEntries = 2 },
			wantErr: "tar bomb",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mods := []func(*Options){}
			if tc.opts != nil {
				mods = append(mods, tc.opts)
			}
			_, err := walk(t, tc.img, mods...)
			if err == nil {
				t.Fatal("want an error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestWalkWarningsAreLocated(t *testing.T) {
	img := mkImage(mkTar(t,
		file("../../etc/evil.pkg", "evil 1\n"),
		file("a/panic.pkg", "PANIC"),
		file("a/err.pkg", "ERROR"),
		file("a/ok.pkg", "ok 1\n"),
		hardlink("a/link.pkg", "../outside"),
	))
	res, err := walk(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]got{{"ok", "1", "a/ok.pkg", 0, 0, ""}}, summarize(res.Inventory)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	var paths []string
	for _, w := range res.Inventory.Warnings {
		paths = append(paths, w.Path)
	}
	want := []string{"../../etc/evil.pkg", "a/err.pkg", "a/link.pkg", "a/panic.pkg"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("warning paths (-want +got):\n%s\n%+v", diff, res.Inventory.Warnings)
	}
}

func TestWalkSpoolsLargeFiles(t *testing.T) {
	body := "big 1\n" + strings.Repeat("#", 4096)
	img := mkImage(mkTar(t, file("big.pkg", body)))
	tmp := t.TempDir()
	res, err := walk(t, img, func(o *Options) { o.MemFileLimit = 100; o.TempDir = tmp })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inventory.Packages) != 1 || res.Inventory.Packages[0].Name != "big" {
		t.Fatalf("packages = %+v", res.Inventory.Packages)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	// Over the extractor cap: skipped with a warning.
	res, err = walk(t, img, func(o *Options) { o.MaxFileSize = 100 })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inventory.Packages) != 0 || len(res.Inventory.Warnings) != 1 {
		t.Errorf("want the file skipped with one warning, got %+v / %+v", res.Inventory.Packages, res.Inventory.Warnings)
	}
}

type memCache struct {
	mu   sync.Mutex
	m    map[string]*LayerResult
	hits int
}

func (c *memCache) Get(_ context.Context, k string) (*LayerResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lr, ok := c.m[k]
	if ok {
		c.hits++
	}
	return lr, ok
}
func (c *memCache) Put(_ context.Context, k string, lr *LayerResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = lr
	return nil
}

func TestWalkCache(t *testing.T) {
	base := mkTar(t, file("var/db.pkg", "a 1\n"))
	top1 := mkTar(t, file("var/db.pkg", "a 1\nb 1\n"))
	top2 := mkTar(t, file("app/x.pkg", "x 1\n"))
	cache := &memCache{m: map[string]*LayerResult{}}
	ex := &pkgExtractor{}
	run := func(img *image.Image) []got {
		res, err := Walk(context.Background(), img, Options{Registry: extract.NewRegistry(ex), Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		return summarize(res.Inventory)
	}
	first := run(mkImage(base, top1))
	if ex.calls.Load() != 2 || cache.hits != 0 {
		t.Fatalf("calls=%d hits=%d", ex.calls.Load(), cache.hits)
	}
	if diff := cmp.Diff(first, run(mkImage(base, top1))); diff != "" {
		t.Errorf("warm result differs:\n%s", diff)
	}
	if ex.calls.Load() != 2 || cache.hits != 2 {
		t.Errorf("warm walk: calls=%d hits=%d, want 2/2", ex.calls.Load(), cache.hits)
	}
	// A rebuilt image on the same base only walks its new layer.
	rebuilt := run(mkImage(base, top2))
	if ex.calls.Load() != 3 || cache.hits != 3 {
		t.Errorf("rebuilt image: calls=%d hits=%d, want 3/3", ex.calls.Load(), cache.hits)
	}
	want := []got{{"a", "1", "var/db.pkg", 0, 0, ""}, {"x", "1", "app/x.pkg", 1, 1, ""}}
	if diff := cmp.Diff(want, rebuilt); diff != "" {
		t.Errorf("rebuilt (-want +got):\n%s", diff)
	}
}

func TestWalkDir(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "app", "sub"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "proc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "app", "sub", "a.pkg"), []byte("a 1\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "proc", "p.pkg"), []byte("p 1\n"), 0o644))
	must(os.Symlink("/etc/shadow", filepath.Join(root, "app", "link.pkg")))
	res, err := Walk(context.Background(), &image.Image{RootDir: root}, Options{Registry: extract.NewRegistry(&pkgExtractor{}), KeepIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]got{{"a", "1", "app/sub/a.pkg", 0, 0, ""}}, summarize(res.Inventory)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var kinds []string
	for _, e := range res.Layers[0].Entries {
		kinds = append(kinds, e.Path+":"+string(e.Type))
	}
	want := []string{"app:d", "app/link.pkg:l", "app/sub:d", "app/sub/a.pkg:f"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if _, err := Walk(context.Background(), &image.Image{RootDir: filepath.Join(root, "missing")}, Options{Registry: extract.NewRegistry()}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing root: err = %v", err)
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"a/b", "a/b", ""},
		{"./a//b/", "a/b", ""},
		{"/etc/passwd", "etc/passwd", ""},
		{"a/../b", "", "climbs"},
		{"../x", "", "climbs"},
		{".", "", ""},
		{"a\x00b", "", "NUL"},
		{"./usr/bin/ls", "usr/bin/ls", ""},
		{"./", "", ""},
		{"./.", "", ""},
		{"././a", "a", ""},
		{"./a/./b", "a/b", ""},
		{"a/.", "a", ""},
		{"a/./..", "", "climbs"},
		{"./..", "", "climbs"},
		{"...", "...", ""},
		{".a/b.", ".a/b.", ""},
		{"//a", "a", ""},
		{"", "", ""},
	}
	for _, tc := range tests {
		got, err := cleanPath(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("cleanPath(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzCleanPath: the path is what path.Clean makes of it, relative to the
// root, unless a ".." segment would climb out.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"a/b", "./a//b/", "/etc/passwd", "a/../b", ".", "./", "././a", "a/.", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := cleanPath(name)
		climbs := slices.Contains(strings.Split(name, "/"), "..")
		if strings.IndexByte(name, 0) >= 0 || len(name) > maxPathLen || climbs {
			if err == nil {
				t.Fatalf("cleanPath(%q) = %q, want an error", name, got)
			}
			return
		}
		want := strings.TrimPrefix(path.Clean("/"+name), "/")
		if err != nil || got != want {
			t.Fatalf("cleanPath(%q) = %q, %v; want %q", name, got, err, want)
		}
	})
}

func FuzzWalkTar(f *testing.F) {
	f.Add(mkTar(f, file("a.pkg", "a 1\n"), file(".wh.b", ""), hardlink("c.pkg", "a.pkg")))
	f.Add(mkTar(f, dir("x/"), file("x/.wh..wh..opq", ""), symlink("y", "../../z")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		img := mkImage(b)
		img.Layers = append(img.Layers, mkImage(b).Layers...)
		res, err := Walk(context.Background(), img, Options{Registry: extract.NewRegistry(&pkgExtractor{}), MaxEntries: 10000, MemFileLimit: 1 << 10, TempDir: t.TempDir()})
		if err == nil && res.Inventory == nil {
			t.Fatal("nil inventory without error")
		}
	})
}

// TestWalkMutatedLayers runs the walk over thousands of deterministic
// mutations of real layer tars (bit flips, truncations, spliced blocks): it
// must return a result or an error, never panic, and never leave a
// temporary file. It complements FuzzWalkTar in CI, where no fuzzing runs.
func TestWalkMutatedLayers(t *testing.T) {
	seeds := [][]byte{
		mkTar(t, dir("app/"), file("app/a.pkg", "a 1\nb 2\n"), file(".wh.gone", ""), hardlink("app/h.pkg", "app/a.pkg"), symlink("l", "../../x")),
		mkTar(t, dir("x/"), file("x/.wh..wh..opq", ""), file("x/big.pkg", "big 1\n"+strings.Repeat("#", 3000))),
	}
	rng := rand.New(rand.NewSource(7))
	tmp := t.TempDir()
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), seeds[i%len(seeds)]...)
		switch i % 4 {
		case 0: // flip bytes
			for k := 0; k < 1+rng.Intn(8); k++ {
				b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
			}
		case 1: // truncate
			b = b[:rng.Intn(len(b))]
		case 2: // splice a block from elsewhere
			from, to := rng.Intn(len(b)-512), rng.Intn(len(b)-512)
			copy(b[to:to+512], b[from:from+512])
		case 3: // corrupt a header's size or type field
			hdr := 512 * rng.Intn(len(b)/512)
			b[hdr+124+rng.Intn(12)] = byte('0' + rng.Intn(10))
			b[hdr+156] = byte(rng.Intn(128))
		}
		img := mkImage(b, seeds[0])
		res, err := Walk(context.Background(), img, Options{Registry: extract.NewRegistry(&pkgExtractor{}), MaxEntries: 1000, MemFileLimit: 512, TempDir: tmp, Verify: VerifyAll})
		if err == nil && res.Inventory == nil {
			t.Fatalf("mutation %d: nil inventory without an error", i)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %d", len(left))
	}
}

// TestRewrittenFilesKeepAttribution: a file rewritten by an upper layer is
// dropped by the merge (TestMergeHoldsOneCopyOfRewrittenFiles), but its
// packages still credit the layer that introduced them.
func TestRewrittenFilesKeepAttribution(t *testing.T) {
	img := mkImage(
		mkTar(t, file("var/lib/owner.own", "/a /b /c"), file("var/db.pkg", "a 1\n")),
		mkTar(t, file("var/lib/owner.own", "/a /b"), file("var/db.pkg", "a 1\nb 1\n")),
	)
	res, err := walk(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if res.Layers != nil {
		t.Errorf("per-layer results kept without KeepIndex: %d", len(res.Layers))
	}
	sum := summarize(res.Inventory)
	want := []got{
		{"owner", "1", "var/lib/owner.own", 0, 1, ""},
		{"a", "1", "var/db.pkg", 0, 1, ""},
		{"b", "1", "var/db.pkg", 1, 1, ""},
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var owner *inventory.Package
	for i := range res.Inventory.Packages {
		if res.Inventory.Packages[i].Name == "owner" {
			owner = &res.Inventory.Packages[i]
		}
	}
	if owner == nil || len(owner.Files) != 2 {
		t.Errorf("visible owner package lost its files: %+v", owner)
	}
}

func TestWalkOrder(t *testing.T) {
	tests := []struct {
		name    string
		sizes   []int64
		workers int
		want    []int
	}{
		{"one worker: bottom up", []int64{1, 9, 5}, 1, []int{0, 1, 2}},
		{"the largest is the walk's length: first", []int64{95, 146, 2, 3, 1}, 2, []int{1, 0, 2, 3, 4}},
		{"even layers: bottom up", []int64{10, 10, 10, 10}, 2, []int{0, 1, 2, 3}},
		{"sizes unknown: bottom up", []int64{0, 0, 0}, 4, []int{0, 1, 2}},
		{"a large top layer starts once it is more than the rest", []int64{10, 10, 10, 10, 25}, 2, []int{0, 1, 4, 2, 3}},
		{"three workers: more than half the rest", []int64{10, 10, 10, 10, 10, 14}, 3, []int{0, 1, 2, 5, 3, 4}},
		{"ten copies of a stack", []int64{92, 139, 2, 3, 1, 92, 139, 2, 3, 1, 92, 139, 2, 3, 1}, 2,
			[]int{0, 1, 2, 3, 4, 5, 6, 11, 10, 7, 8, 9, 12, 13, 14}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, walkOrder(tc.sizes, tc.workers)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
