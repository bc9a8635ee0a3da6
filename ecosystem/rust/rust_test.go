package rust

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
)

// demoTree is a dependency tree in the cargo-auditable JSON form: a local
// root with a local path dependency, build-only crates, a git crate, and
// crates with RustSec advisories (regex 1.5.4, time 0.1.43, smallvec 0.6.13).
const demoTree = `{"packages":[
 {"name":"demo-cli","version":"0.1.0","source":"local","dependencies":[1,2,5,8],"root":true},
 {"name":"serde","version":"1.0.152","source":"crates.io","dependencies":[3]},
 {"name":"regex","version":"1.5.4","source":"crates.io","dependencies":[4,7]},
 {"name":"serde_derive","version":"1.0.152","source":"crates.io","kind":"build"},
 {"name":"aho-corasick","version":"0.7.18","source":"crates.io"},
 {"name":"helper","version":"0.1.0","source":"local","dependencies":[6]},
 {"name":"time","version":"0.1.43","source":"crates.io"},
 {"name":"smallvec","version":"0.6.13","source":"git"},
 {"name":"cc","version":"1.0.73","source":"crates.io","kind":"build"}
],"format":1}`

var demoWant = []inventory.Package{
	{Ecosystem: inventory.Cargo, Name: "serde", Version: "1.0.152"},
	{Ecosystem: inventory.Cargo, Name: "regex", Version: "1.5.4"},
	{Ecosystem: inventory.Cargo, Name: "aho-corasick", Version: "0.7.18", Indirect: true},
	{Ecosystem: inventory.Cargo, Name: "time", Version: "0.1.43"},
	{Ecosystem: inventory.Cargo, Name: "smallvec", Version: "0.6.13", Indirect: true},
}

func deflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		want      []inventory.Package
		wantWarns int
		wantErr   bool
	}{
		{name: "demo tree", json: demoTree, want: demoWant},
		{
			name: "no root marker (older writers): nothing is indirect",
			json: `{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1]},
				{"name":"libc","version":"0.2.139","source":"crates.io"},
				{"name":"log","version":"0.4.17","source":"registry"}]}`,
			want: []inventory.Package{
				{Ecosystem: inventory.Cargo, Name: "libc", Version: "0.2.139"},
				{Ecosystem: inventory.Cargo, Name: "log", Version: "0.4.17"},
			},
		},
		{
			name: "root from crates.io (cargo install) is reported",
			json: `{"packages":[{"name":"ripgrep","version":"13.0.0","source":"crates.io","dependencies":[1],"root":true},
				{"name":"grep","version":"0.2.11","source":"crates.io","dependencies":[2]},
				{"name":"memchr","version":"2.5.0","source":"crates.io"}]}`,
			want: []inventory.Package{
				{Ecosystem: inventory.Cargo, Name: "ripgrep", Version: "13.0.0"},
				{Ecosystem: inventory.Cargo, Name: "grep", Version: "0.2.11"},
				{Ecosystem: inventory.Cargo, Name: "memchr", Version: "2.5.0", Indirect: true},
			},
		},
		{
			name: "Other source object and runtime kind spelled out",
			json: `{"packages":[{"name":"x","version":"1.0.0","source":{"Other":"sparse+https://example.com"},"kind":"runtime"}]}`,
			want: []inventory.Package{{Ecosystem: inventory.Cargo, Name: "x", Version: "1.0.0"}},
		},
		{
			name: "dependency index out of range and entry without version",
			json: `{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,7,-1],"root":true},
				{"name":"a","version":"1.0.0","source":"crates.io"},
				{"name":"b","source":"crates.io"}]}`,
			want:      []inventory.Package{{Ecosystem: inventory.Cargo, Name: "a", Version: "1.0.0"}},
			wantWarns: 3,
		},
		{
			name: "dependency cycle terminates",
			json: `{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},
				{"name":"w","version":"0.1.0","source":"local","dependencies":[0,2]},
				{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[1]}]}`,
			want: []inventory.Package{{Ecosystem: inventory.Cargo, Name: "a", Version: "1.0.0"}},
		},
		{name: "empty packages", json: `{"packages":[]}`},
		{name: "no packages key", json: `{"format":1}`, wantErr: true},
		{name: "not json", json: `packages`, wantErr: true},
		{name: "wrong type", json: `{"packages":{"name":"x"}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warns, err := parse([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parse() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parse() mismatch (-want +got):\n%s", diff)
			}
			if len(warns) != tt.wantWarns {
				t.Errorf("parse() warnings = %q, want %d", warns, tt.wantWarns)
			}
		})
	}
}

func TestInflateLimits(t *testing.T) {
	if _, err := inflate(deflate(t, bytes.Repeat([]byte(" "), maxJSON+1))); err == nil {
		t.Error("inflate of a stream larger than maxJSON succeeded")
	}
	if _, err := inflate([]byte("not zlib at all")); err == nil {
		t.Error("inflate of garbage succeeded")
	}
	full := deflate(t, []byte(demoTree))
	if _, err := inflate(full[:len(full)-6]); err == nil {
		t.Error("inflate of a truncated stream succeeded")
	}
	got, err := inflate(full)
	if err != nil || string(got) != demoTree {
		t.Errorf("inflate round trip = %q, %v", got, err)
	}
}

// objcopyAdd writes a copy of bin with the payload as a .dep-v0 section.
func objcopyAdd(t *testing.T, bin, out string, payload []byte) {
	t.Helper()
	pf := out + ".payload"
	if err := os.WriteFile(pf, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("objcopy", "--add-section", sectionName+"="+pf, "--set-section-flags", sectionName+"=contents,readonly,data", bin, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, b)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
}

// carriers builds, once per toolchain and cached, the executables the
// section is added to: a real Rust binary (rustc) for ELF and a Go
// binary cross-compiled for Windows for PE.
func carriers(t *testing.T) (elfBin, peBin string) {
	t.Helper()
	rustc, err := exec.Command("rustc", "--version").Output()
	if err != nil {
		t.Fatalf("rustc --version: %v (rustc is needed to build the test binary)", err)
	}
	gover, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	const rs = "fn main() { println!(\"hello from rust\"); }\n"
	const gosrc = "package main\n\nfunc main() { println(\"hello\") }\n"
	h := sha256.Sum256([]byte(string(rustc) + string(gover) + rs + gosrc))
	dir := filepath.Join(testutil.CacheDir(t, "rust-carriers"), hex.EncodeToString(h[:8]))
	elfBin, peBin = filepath.Join(dir, "hello-rust"), filepath.Join(dir, "hello-go.exe")
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return elfBin, peBin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(cmd *exec.Cmd) {
		t.Helper()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
		}
	}
	run(exec.Command("rustc", "-C", "opt-level=1", "-C", "debuginfo=0", "-o", elfBin, write("main.rs", rs)))
	write("go.mod", "module example.com/hello\n\ngo 1.21\n")
	write("main.go", gosrc)
	gb := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", peBin, ".")
	gb.Dir = work
	gb.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=")
	run(gb)
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return elfBin, peBin
}

// machO returns a minimal 64-bit Mach-O executable whose __DATA segment
// holds one section with the payload.
func machO(payload []byte) []byte {
	const hdr, seg, sect = 32, 72, 80
	off := uint32(hdr + seg + sect)
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) { _ = binary.Write(&b, le, v) }
	name16 := func(s string) (n [16]byte) { copy(n[:], s); return n }
	// mach_header_64: magic, cputype x86_64, subtype, MH_EXECUTE, ncmds,
	// sizeofcmds, flags, reserved.
	w([]uint32{0xfeedfacf, 0x01000007, 3, 2, 1, seg + sect, 0, 0})
	// segment_command_64 for __DATA.
	w(uint32(0x19))
	w(uint32(seg + sect))
	w(name16("__DATA"))
	w([]uint64{0x100000000, uint64(len(payload)), uint64(off), uint64(len(payload))})
	w([]uint32{3, 3, 1, 0})
	// section_64 .dep-v0.
	w(name16(sectionName))
	w(name16("__DATA"))
	w([]uint64{0x100000000, uint64(len(payload))})
	w([]uint32{off, 0, 0, 0, 0, 0, 0, 0})
	b.Write(payload)
	for b.Len() < minSize {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// fatMachO wraps a thin Mach-O into a universal binary with one arch.
func fatMachO(thin []byte) []byte {
	var b bytes.Buffer
	be := binary.BigEndian
	_ = binary.Write(&b, be, []uint32{0xcafebabe, 1, 0x01000007, 3, 4096, uint32(len(thin)), 12})
	b.Write(make([]byte, 4096-b.Len()))
	b.Write(thin)
	return b.Bytes()
}

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

func extractBytes(t *testing.T, name string, data []byte) (*extract.Result, error) {
	t.Helper()
	fi := fakeInfo{name: name, size: int64(len(data)), mode: 0o755}
	e := New()
	if !e.Wants(name, fi) {
		t.Fatalf("Wants(%s) = false", name)
	}
	return e.Extract(context.Background(), &extract.Input{Path: name, Info: fi, Reader: bytes.NewReader(data), Size: int64(len(data))})
}

func TestExecutables(t *testing.T) {
	elfBin, peBin := carriers(t)
	payload := deflate(t, []byte(demoTree))
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	objcopyAdd(t, elfBin, filepath.Join(dir, "app"), payload)
	objcopyAdd(t, peBin, filepath.Join(dir, "app.exe"), payload)
	// A PE section's raw size is padded to the file alignment: the zlib
	// stream ends before the section does, as in real binaries.
	thin := machO(payload)
	tests := []struct {
		name string
		data []byte
		want *extract.Result
	}{
		{"ELF rust binary with section", read(filepath.Join(dir, "app")), &extract.Result{Packages: demoWant}},
		{"PE binary with section", read(filepath.Join(dir, "app.exe")), &extract.Result{Packages: demoWant}},
		{"Mach-O with section", thin, &extract.Result{Packages: demoWant}},
		{"universal Mach-O with section", fatMachO(thin), &extract.Result{Packages: demoWant}},
		{"ELF reduced to the section (fuzz seed)", read(filepath.Join("testdata", "small.elf")), &extract.Result{Packages: demoWant}},
		{"ELF rust binary without section", read(elfBin), &extract.Result{}},
		{"PE binary without section", read(peBin), &extract.Result{}},
		{"not an executable", bytes.Repeat([]byte("#!/bin/sh\n"), 200), &extract.Result{}},
		{"truncated ELF", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 2000)...), &extract.Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extractBytes(t, "bin", tt.data)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Extract mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecutableErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{"section is not zlib", []byte("plain text, not compressed")},
		{"section inflates to non-JSON", deflate(t, []byte("<xml/>"))},
		{"zlib bomb", deflate(t, bytes.Repeat([]byte(" "), maxJSON+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := extractBytes(t, "bin", machO(tt.payload))
			if err == nil {
				t.Fatal("Extract succeeded, want error")
			}
			if !strings.Contains(err.Error(), "rust: ") || !strings.Contains(err.Error(), "bin") {
				t.Errorf("error %q does not name the package and file", err)
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		size int64
		mode fs.FileMode
		want bool
	}{
		{"usr/local/bin/rg", 5 << 20, 0o755, true},
		{"app/server.exe", 5 << 20, 0o644, true},
		{"usr/share/doc/rg", 5 << 20, 0o644, false},
		{"usr/local/bin/run.sh", 5 << 20, 0o755, false},
		{"usr/lib/libfoo.rlib", 5 << 20, 0o755, false},
		{"tiny", 100, 0o755, false},
		{"dir", 4096, fs.ModeDir | 0o755, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := New().Wants(tt.path, fakeInfo{size: tt.size, mode: tt.mode}); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(demoTree))
	f.Add([]byte(`{"packages":[{"name":"a","version":"1","source":{"Other":"x"},"dependencies":[0,0,1]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _, err := parse(data)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Ecosystem != inventory.Cargo {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	f.Add(machO(deflate(f, []byte(demoTree))))
	f.Add(fatMachO(machO(deflate(f, []byte(demoTree)))))
	// small.elf is an ELF with only a .dep-v0 section holding demoTree
	// ("objcopy --only-section=.dep-v0" of the test's Rust binary).
	if b, err := os.ReadFile(filepath.Join("testdata", "small.elf")); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
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
			if p.Name == "" || p.Version == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
