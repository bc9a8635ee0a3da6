package golang

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
)

type fakeInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		size int64
		mode fs.FileMode
		want bool
	}{
		{"executable", "usr/local/bin/app", 5 << 20, 0o755, true},
		{"owner exec only", "app", 4096, 0o700, true},
		{"shared object", "usr/lib/libgo.so", 5 << 20, 0o755, true},
		{"windows exe without exec bit", "Windows/app.exe", 5 << 20, 0o644, true},
		{"no exec bit", "usr/share/doc/app", 5 << 20, 0o644, false},
		{"too small", "bin/true", 512, 0o755, false},
		{"too large", "bin/huge", maxSize + 1, 0o755, false},
		{"shell script", "usr/local/bin/entrypoint.sh", 4096, 0o755, false},
		{"python script", "opt/tool.py", 4096, 0o755, false},
		{"directory", "usr/bin", 4096, fs.ModeDir | 0o755, false},
		{"symlink", "usr/bin/app", 4096, fs.ModeSymlink | 0o777, false},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Wants(tt.path, fakeInfo{name: filepath.Base(tt.path), size: tt.size, mode: tt.mode})
			if got != tt.want {
				t.Errorf("Wants(%q, size %d, mode %v) = %v, want %v", tt.path, tt.size, tt.mode, got, tt.want)
			}
		})
	}
}

func TestStdlibVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"go1.26.8", "v1.26.8"},
		{"go1.21.0", "v1.21.0"},
		{"go1.21", "v1.21.0"},
		{"go1.20", "v1.20.0"},
		{"go1.9.2", "v1.9.2"},
		{"go1", "v1.0.0"},
		{"go1.22rc1", "v1.22.0-rc.1"},
		{"go1.19beta2", "v1.19.0-beta.2"},
		{"go1.9.2rc2", "v1.9.2-rc.2"},
		{"go1.21.0 X:boringcrypto", "v1.21.0"},
		{"go1.22.1 X:loopvar,rangefunc", "v1.22.1"},
		{"go1.21.5-bcryptofips", "v1.21.5"},
		{"devel go1.23-5e4da8670b Tue Apr 23 18:45:06 2024 +0000", ""},
		{"devel +b7a85e0003 Tue Jan 1 00:00:00 2019", ""},
		{"", ""},
		{"gox", ""},
		{"1.21.0", ""},
		{"go2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := StdlibVersion(tt.in); got != tt.want {
				t.Errorf("StdlibVersion(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPackages(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []inventory.Package
	}{
		{
			name: "devel main, plain and replaced deps",
			bi: &debug.BuildInfo{
				GoVersion: "go1.22.3",
				Path:      "example.com/app/cmd/app",
				Main:      debug.Module{Path: "example.com/app", Version: "(devel)"},
				Deps: []*debug.Module{
					{Path: "golang.org/x/net", Version: "v0.0.0-20210405180319-a5a99cb37ef4", Sum: "h1:x"},
					{Path: "github.com/old/lib", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/fork/lib", Version: "v1.0.1-fixed"}},
					{Path: "golang.org/x/text", Version: "v0.3.5", Replace: &debug.Module{Path: "golang.org/x/text", Version: "v0.3.8"}},
					{Path: "example.com/local", Version: "v1.2.3", Replace: &debug.Module{Path: "../local", Version: "(devel)"}},
					{Path: "example.com/vendored", Version: "v0.1.0", Replace: &debug.Module{Path: "/src/vendored"}},
					{Path: "", Version: "(devel)"},
					nil,
				},
			},
			want: []inventory.Package{
				{Ecosystem: inventory.Go, Name: "example.com/app"},
				{Ecosystem: inventory.Go, Name: "golang.org/x/net", Version: "v0.0.0-20210405180319-a5a99cb37ef4"},
				{Ecosystem: inventory.Go, Name: "github.com/fork/lib", Version: "v1.0.1-fixed", SourceName: "github.com/old/lib", SourceVersion: "v1.0.0"},
				{Ecosystem: inventory.Go, Name: "golang.org/x/text", Version: "v0.3.8", SourceName: "golang.org/x/text", SourceVersion: "v0.3.5"},
				{Ecosystem: inventory.Go, Name: "example.com/local", SourceName: "example.com/local", SourceVersion: "v1.2.3"},
				{Ecosystem: inventory.Go, Name: "example.com/vendored", SourceName: "example.com/vendored", SourceVersion: "v0.1.0"},
				{Ecosystem: inventory.Go, Name: "stdlib", Version: "v1.22.3", Toolchain: true},
			},
		},
		{
			name: "stamped main version and boringcrypto toolchain",
			bi: &debug.BuildInfo{
				GoVersion: "go1.24.2 X:boringcrypto",
				Path:      "example.com/svc",
				Main:      debug.Module{Path: "example.com/svc", Version: "v1.4.0"},
			},
			want: []inventory.Package{
				{Ecosystem: inventory.Go, Name: "example.com/svc", Version: "v1.4.0"},
				{Ecosystem: inventory.Go, Name: "stdlib", Version: "v1.24.2", Toolchain: true},
			},
		},
		{
			name: "go build file.go has no main module",
			bi:   &debug.BuildInfo{GoVersion: "go1.21rc2", Path: "command-line-arguments"},
			want: []inventory.Package{
				{Ecosystem: inventory.Go, Name: "stdlib", Version: "v1.21.0-rc.2", Toolchain: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, packages(tt.bi)); diff != "" {
				t.Errorf("packages() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// extractFile runs the extractor on a file on disk the way the walk does.
func extractFile(t *testing.T, e extract.Extractor, path string) *extract.Result {
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
	if !e.Wants(filepath.Base(path), fi) {
		t.Fatalf("Wants(%s) = false, want true", path)
	}
	res, err := e.Extract(context.Background(), &extract.Input{Path: filepath.Base(path), Info: fi, Reader: f, Size: fi.Size()})
	if err != nil {
		t.Fatalf("Extract(%s): %v", path, err)
	}
	return res
}

// goVersionM runs `go version -m` on a binary and converts its output with
// the rules the package documents; it is the oracle for what the binary
// holds.
func goVersionM(t *testing.T, bin string) []inventory.Package {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m %s: %v", bin, err)
	}
	var pkgs []inventory.Package
	var stdlib inventory.Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			_, gov, _ := strings.Cut(line, ": ")
			stdlib = inventory.Package{Ecosystem: inventory.Go, Name: "stdlib", Version: "v" + strings.TrimPrefix(gov, "go"), Toolchain: true}
			continue
		}
		f := strings.Split(strings.TrimPrefix(line, "\t"), "\t")
		ver := func(i int) string {
			if i < len(f) && f[i] != "(devel)" {
				return f[i]
			}
			return ""
		}
		switch f[0] {
		case "mod":
			pkgs = append(pkgs, inventory.Package{Ecosystem: inventory.Go, Name: f[1], Version: ver(2)})
		case "dep":
			pkgs = append(pkgs, inventory.Package{Ecosystem: inventory.Go, Name: f[1], Version: ver(2)})
		case "=>":
			last := &pkgs[len(pkgs)-1]
			last.SourceName, last.SourceVersion = last.Name, last.Version
			if ver(2) == "" {
				last.Version = ""
			} else {
				last.Name, last.Version = f[1], ver(2)
			}
		}
	}
	return append(pkgs, stdlib)
}

func TestDemoWorker(t *testing.T) {
	bin := testutil.Fixtures(t, "apps", "go-demo-worker", "demo-worker.bin")
	got := extractFile(t, New(), bin)
	// The fixture's README states what the binary was built from.
	want := []inventory.Package{
		{Ecosystem: inventory.Go, Name: "example.com/demo-worker"},
		{Ecosystem: inventory.Go, Name: "github.com/dgrijalva/jwt-go", Version: "v3.2.0+incompatible"},
		{Ecosystem: inventory.Go, Name: "golang.org/x/net", Version: "v0.0.0-20210405180319-a5a99cb37ef4"},
		{Ecosystem: inventory.Go, Name: "golang.org/x/text", Version: "v0.3.5"},
		{Ecosystem: inventory.Go, Name: "gopkg.in/yaml.v2", Version: "v2.2.2"},
		{Ecosystem: inventory.Go, Name: "stdlib", Version: "v1.26.8", Toolchain: true},
	}
	if diff := cmp.Diff(&extract.Result{Packages: want}, got); diff != "" {
		t.Errorf("demo-worker.bin mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(goVersionM(t, bin), got.Packages); diff != "" {
		t.Errorf("demo-worker.bin disagrees with go version -m (-go +vigil):\n%s", diff)
	}
	// The fuzz seed is the same binary cut down to its build info.
	seed := extractFile(t, New(), filepath.Join("testdata", "buildinfo-only.elf"))
	if diff := cmp.Diff(&extract.Result{Packages: want}, seed); diff != "" {
		t.Errorf("buildinfo-only.elf mismatch (-want +got):\n%s", diff)
	}
}

func TestNotGo(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("#!/bin/sh\necho hello\n"), 200)
	tests := []struct {
		name string
		data []byte
	}{
		{"shell script without extension", big},
		{"truncated ELF", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 2000)...)},
		{"truncated PE", append([]byte("MZ"), make([]byte, 2000)...)},
		{"truncated Mach-O", append([]byte("\xcf\xfa\xed\xfe"), make([]byte, 2000)...)},
	}
	if cc, err := exec.LookPath("cc"); err == nil {
		// A real C executable: an ELF without Go build information.
		src := filepath.Join(dir, "hello.c")
		if err := os.WriteFile(src, []byte("int main(void){return 0;}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "hello-c")
		if b, err := exec.Command(cc, "-o", out, src).CombinedOutput(); err != nil {
			t.Fatalf("cc: %v\n%s", err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name string
			data []byte
		}{"C executable", data})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(p, tt.data, 0o755); err != nil {
				t.Fatal(err)
			}
			got := extractFile(t, New(), p)
			if diff := cmp.Diff(&extract.Result{}, got); diff != "" {
				t.Errorf("non-Go file yielded something (-want +got):\n%s", diff)
			}
		})
	}
}

const tinyMain = `package main

import (
	"example.com/lib"
	"example.com/old"
)

func main() { println(lib.Name(), old.Name()) }
`

const tinyGoMod = `module example.com/tiny

go 1.21

require (
	example.com/lib v1.2.3
	example.com/old v1.0.0
)

replace example.com/lib v1.2.3 => ./lib

replace example.com/old => example.com/new v1.1.0
`

// tinyVariant is one way of building the tiny module.
type tinyVariant struct {
	name, goos, goarch, ldflags string
}

var tinyVariants = []tinyVariant{
	{name: "linux", goos: "linux", goarch: "amd64"},
	{name: "linux-stripped", goos: "linux", goarch: "amd64", ldflags: "-s -w"},
	{name: "linux-arm64-stripped", goos: "linux", goarch: "arm64", ldflags: "-s -w"},
	{name: "windows", goos: "windows", goarch: "amd64"},
	{name: "darwin", goos: "darwin", goarch: "arm64"},
}

// writeModuleProxy writes a file-based GOPROXY holding example.com/new
// v1.1.0, so that a module-to-module replacement builds without a network.
func writeModuleProxy(t *testing.T, dir string) {
	t.Helper()
	src := filepath.Join(dir, "src")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(src, 0o755))
	gomod := "module example.com/new\n\ngo 1.21\n"
	must(os.WriteFile(filepath.Join(src, "go.mod"), []byte(gomod), 0o644))
	must(os.WriteFile(filepath.Join(src, "new.go"), []byte("package old\n\nfunc Name() string { return \"new\" }\n"), 0o644))
	vdir := filepath.Join(dir, "proxy", "example.com", "new", "@v")
	must(os.MkdirAll(vdir, 0o755))
	must(os.WriteFile(filepath.Join(vdir, "list"), []byte("v1.1.0\n"), 0o644))
	must(os.WriteFile(filepath.Join(vdir, "v1.1.0.info"), []byte(`{"Version":"v1.1.0","Time":"2024-01-01T00:00:00Z"}`), 0o644))
	must(os.WriteFile(filepath.Join(vdir, "v1.1.0.mod"), []byte(gomod), 0o644))
	zf, err := os.Create(filepath.Join(vdir, "v1.1.0.zip"))
	must(err)
	defer zf.Close()
	must(modzip.CreateFromDir(zf, module.Version{Path: "example.com/new", Version: "v1.1.0"}, src))
}

// buildTiny builds the tiny module (a directory replacement and a module
// replacement) for each variant, caching the binaries by source and
// toolchain version.
func buildTiny(t *testing.T) map[string]string {
	t.Helper()
	gover, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	h := sha256.New()
	h.Write(gover)
	h.Write([]byte(tinyMain + tinyGoMod))
	for _, v := range tinyVariants {
		h.Write([]byte(v.name + v.goos + v.goarch + v.ldflags))
	}
	cache := filepath.Join(testutil.CacheDir(t, "golang-tiny"), hex.EncodeToString(h.Sum(nil))[:16])
	bins := map[string]string{}
	for _, v := range tinyVariants {
		bins[v.name] = filepath.Join(cache, "tiny-"+v.name)
	}
	if _, err := os.Stat(filepath.Join(cache, "done")); err == nil {
		return bins
	}
	work := t.TempDir()
	writeModuleProxy(t, work)
	mod := filepath.Join(work, "tiny")
	files := map[string]string{
		"go.mod":     tinyGoMod,
		"main.go":    tinyMain,
		"lib/go.mod": "module example.com/lib\n\ngo 1.21\n",
		"lib/lib.go": "package lib\n\nfunc Name() string { return \"lib\" }\n",
	}
	for name, body := range files {
		p := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range tinyVariants {
		args := []string{"build", "-trimpath", "-buildvcs=false", "-o", bins[v.name]}
		if v.ldflags != "" {
			args = append(args, "-ldflags="+v.ldflags)
		}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(),
			"GOOS="+v.goos, "GOARCH="+v.goarch, "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local",
			"GOFLAGS=-mod=mod -modcacherw", "GOPROXY=file://"+filepath.ToSlash(filepath.Join(work, "proxy")),
			"GOSUMDB=off", "GOMODCACHE="+filepath.Join(work, "modcache"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s (%s): %v\n%s", strings.Join(args, " "), v.name, err, out)
		}
		if err := os.Chmod(bins[v.name], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(cache, "done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return bins
}

func TestBuiltBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	bins := buildTiny(t)
	gover, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	stdlib := ""
	if m := regexp.MustCompile(`^go(\d+\.\d+\.\d+)$`).FindStringSubmatch(strings.TrimSpace(string(gover))); m != nil {
		stdlib = "v" + m[1]
	} else {
		t.Logf("toolchain %q is not a release; checking stdlib against StdlibVersion", gover)
		stdlib = StdlibVersion(string(gover))
	}
	want := &extract.Result{Packages: []inventory.Package{
		{Ecosystem: inventory.Go, Name: "example.com/tiny"},
		{Ecosystem: inventory.Go, Name: "example.com/lib", SourceName: "example.com/lib", SourceVersion: "v1.2.3"},
		{Ecosystem: inventory.Go, Name: "example.com/new", Version: "v1.1.0", SourceName: "example.com/old", SourceVersion: "v1.0.0"},
		{Ecosystem: inventory.Go, Name: "stdlib", Version: stdlib, Toolchain: true},
	}}
	for _, v := range tinyVariants {
		t.Run(v.name, func(t *testing.T) {
			got := extractFile(t, New(), bins[v.name])
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", v.name, diff)
			}
			if diff := cmp.Diff(goVersionM(t, bins[v.name]), got.Packages); diff != "" {
				t.Errorf("%s disagrees with go version -m (-go +vigil):\n%s", v.name, diff)
			}
		})
	}
}

func TestContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := make([]byte, 4096)
	_, err := New().Extract(ctx, &extract.Input{Path: "x", Reader: bytes.NewReader(data), Size: int64(len(data))})
	if err == nil {
		t.Fatal("Extract with a canceled context succeeded")
	}
}

func FuzzExtract(f *testing.F) {
	// buildinfo-only.elf is demo-worker.bin reduced by
	// "objcopy --only-section=.go.buildinfo": real headers and build info in
	// 5 KiB, small enough to mutate.
	seed, err := os.ReadFile(filepath.Join("testdata", "buildinfo-only.elf"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("MZ" + strings.Repeat("\x00", 2000)))
	f.Add([]byte("\xcf\xfa\xed\xfe" + strings.Repeat("\x00", 2000)))
	f.Add([]byte("\xca\xfe\xba\xbe" + strings.Repeat("\x00", 2000)))
	e := New()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < minSize {
			data = append(data, make([]byte, minSize-len(data))...)
		}
		res, err := e.Extract(context.Background(), &extract.Input{Path: "fuzz", Reader: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil {
			return
		}
		for _, p := range res.Packages {
			if p.Ecosystem != inventory.Go || (p.Name == "" && !p.Toolchain) {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

// BenchmarkExtract measures reading the build information of the 5 MB
// demo-worker binary, held in memory as the walk holds a wanted file.
func BenchmarkExtract(b *testing.B) {
	data, err := os.ReadFile(testutil.Fixtures(b, "apps", "go-demo-worker", "demo-worker.bin"))
	if err != nil {
		b.Fatal(err)
	}
	e := New()
	in := &extract.Input{Path: "demo-worker.bin", Reader: bytes.NewReader(data), Size: int64(len(data))}
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.Extract(context.Background(), in)
		if err != nil || len(res.Packages) != 6 {
			b.Fatalf("Extract: %v, %d packages", err, len(res.Packages))
		}
	}
}
