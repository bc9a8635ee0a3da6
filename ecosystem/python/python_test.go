package python

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
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

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		size int64
		mode fs.FileMode
		want bool
	}{
		{"usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", 2000, 0o644, true},
		{"usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", 2000, 0o644, true},
		{"usr/lib/python3/dist-packages/cryptography.egg-info/PKG-INFO", 2000, 0o644, true},
		{"usr/lib/python3/dist-packages/rpm-4.18.0.egg-info", 2000, 0o644, true},
		{"opt/app/lib/simplejson-3.19.1-py3.11.egg", 200000, 0o644, true},
		{"opt/app/lib/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO", 2000, 0o644, true},
		{"usr/lib/python3/dist-packages/cryptography.egg-info", 4096, fs.ModeDir | 0o755, false},
		{"usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD", 2000, 0o644, false},
		{"usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA.bak", 2000, 0o644, false},
		{"usr/lib/python3/dist-packages/x.dist-info/METADATA", maxMetadata + 1, 0o644, false},
		{"opt/big.egg", maxEgg + 1, 0o644, false},
		{"usr/share/doc/METADATA", 2000, 0o644, false},
		{"srv/PKG-INFO", 2000, 0o644, false},
		{"srv/.egg", 2000, 0o644, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := New().Wants(tt.path, fakeInfo{size: tt.size, mode: tt.mode}); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    headers
		wantErr bool
	}{
		{
			name: "continuation lines and body",
			in:   "Metadata-Version: 2.1\nName: demo\nSummary: a\n  longer\n\tsummary\nVersion: 1.0\n\nName: in-the-body\n",
			want: headers{{"Metadata-Version", "2.1"}, {"Name", "demo"}, {"Summary", "a\n  longer\n\tsummary"}, {"Version", "1.0"}},
		},
		{
			name: "CRLF line ends and no final newline",
			in:   "Name: demo\r\nVersion:2.0\r\nLicense:   MIT",
			want: headers{{"Name", "demo"}, {"Version", "2.0"}, {"License", "MIT"}},
		},
		{
			name: "a non-header line starts the body",
			in:   "Name: demo\nVersion: 1\nthis is the description\nLicense: not a header\n",
			want: headers{{"Name", "demo"}, {"Version", "1"}},
		},
		{
			name: "dropped lines: leading continuation, empty name, From line",
			in:   "  stray\nName: demo\n: nameless\nFrom someone\nVersion: 3\n",
			want: headers{{"Name", "demo"}, {"Version", "3"}},
		},
		{name: "empty", in: "", wantErr: true},
		{name: "body only", in: "\nName: x\n", wantErr: true},
		{name: "not metadata", in: "<html>\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHeaders(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseHeaders() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(header{})); diff != "" {
				t.Errorf("parseHeaders() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeaderCap(t *testing.T) {
	// A header block larger than maxHeader is cut at the cap: the fields
	// before it survive, nothing beyond it is read.
	in := "Name: big\nVersion: 1.0\nDescription: x\n" + strings.Repeat(" more text\n", maxHeader/10) + "License: late\n"
	h, err := parseHeaders(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if h.get("Name") != "big" || h.get("Version") != "1.0" || h.get("License") != "" {
		t.Errorf("capped headers: Name %q Version %q License %q", h.get("Name"), h.get("Version"), h.get("License"))
	}
	if n := len(h.get("Description")); n > maxHeader {
		t.Errorf("Description is %d bytes, more than the cap %d", n, maxHeader)
	}
}

// licenseText is a licence pasted into the License field the way setuptools
// writes it: every further line, even an empty one, indented by 8 spaces.
const licenseText = "Copyright (c) 2010 Someone\n        \n        Permission is hereby granted, free of charge, to any person obtaining a copy"

func egg(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExtract(t *testing.T) {
	pkg := func(name, version string, lic ...string) []inventory.Package {
		return []inventory.Package{{Ecosystem: inventory.PyPI, Name: name, Version: version, Licenses: lic}}
	}
	tests := []struct {
		name      string
		path      string
		data      string
		want      []inventory.Package
		wantWarns int
		wantErr   bool
	}{
		{
			name: "dist-info with License field",
			path: "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
			data: "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nYAML\n",
			want: pkg("PyYAML", "6.0", "MIT"),
		},
		{
			name: "License-Expression wins",
			path: "site-packages/attrs-24.2.0.dist-info/METADATA",
			data: "Metadata-Version: 2.4\nName: attrs\nVersion: 24.2.0\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\n",
			want: pkg("attrs", "24.2.0", "MIT OR Apache-2.0"),
		},
		{
			name: "UNKNOWN License falls back to classifiers",
			path: "site-packages/six-1.16.0.dist-info/METADATA",
			data: "Name: six\nVersion: 1.16.0\nLicense: UNKNOWN\nClassifier: Programming Language :: Python\n" +
				"Classifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved\n" +
				"Classifier: License :: OSI Approved :: Apache Software License\nClassifier: License :: OSI Approved :: MIT License\n",
			want: pkg("six", "1.16.0", "MIT License", "Apache Software License"),
		},
		{
			name: "pasted licence text is not a licence name",
			path: "site-packages/foo-1.0.dist-info/METADATA",
			data: "Name: foo\nVersion: 1.0\nLicense: " + licenseText + "\nClassifier: License :: Public Domain\n",
			want: pkg("foo", "1.0", "Public Domain"),
		},
		{
			name: "name kept as written",
			path: "site-packages/zope.interface-5.5.2.dist-info/METADATA",
			data: "Name: zope.interface\nVersion: 5.5.2\n",
			want: pkg("zope.interface", "5.5.2"),
		},
		{
			name: "Debian egg-info file",
			path: "usr/lib/python3/dist-packages/rpm-4.18.0.egg-info",
			data: "Metadata-Version: 1.0\nName: rpm\nVersion: 4.18.0\nSummary: Python bindings for rpm\nLicense: GNU General Public License v2\nDescription: UNKNOWN\n",
			want: pkg("rpm", "4.18.0", "GNU General Public License v2"),
		},
		{
			name: "egg-info directory",
			path: "usr/lib/python3/dist-packages/cryptography.egg-info/PKG-INFO",
			data: "Metadata-Version: 2.1\nName: cryptography\nVersion: 38.0.4\nLicense: BSD-3-Clause OR Apache-2.0\n",
			want: pkg("cryptography", "38.0.4", "BSD-3-Clause OR Apache-2.0"),
		},
		{
			name: "egg zip",
			path: "opt/app/lib/simplejson-3.19.1-py3.11.egg",
			data: string(egg(t, map[string]string{
				"simplejson/__init__.py": "# code\n",
				"EGG-INFO/PKG-INFO":      "Metadata-Version: 1.1\nName: simplejson\nVersion: 3.19.1\nLicense: MIT License\n",
				"EGG-INFO/top_level.txt": "simplejson\n",
			})),
			want: pkg("simplejson", "3.19.1", "MIT License"),
		},
		{
			name:    "egg zip without metadata",
			path:    "opt/app/lib/broken-1.0.egg",
			data:    string(egg(t, map[string]string{"broken/__init__.py": ""})),
			wantErr: true,
		},
		{name: "egg that is no zip", path: "opt/app/lib/x-1.0.egg", data: "PK but not really", wantErr: true},
		{
			name:      "no version",
			path:      "site-packages/bad-0.dist-info/METADATA",
			data:      "Name: bad\nSummary: no version\n",
			wantWarns: 1,
		},
		{name: "not metadata", path: "site-packages/x.dist-info/METADATA", data: "\x00\x01binary", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New()
			fi := fakeInfo{size: int64(len(tt.data)), mode: 0o644}
			if !e.Wants(tt.path, fi) {
				t.Fatalf("Wants(%q) = false", tt.path)
			}
			got, err := e.Extract(context.Background(), &extract.Input{Path: tt.path, Info: fi, Reader: strings.NewReader(tt.data), Size: int64(len(tt.data))})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Extract() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got.Packages); diff != "" {
				t.Errorf("Extract() mismatch (-want +got):\n%s", diff)
			}
			if len(got.Warnings) != tt.wantWarns {
				t.Errorf("warnings = %q, want %d", got.Warnings, tt.wantWarns)
			}
		})
	}
}

// nameVersion is what the oracle and vigil are compared on.
type nameVersion struct{ Name, Version string }

// importlibOracle asks Python's importlib.metadata which distributions a
// directory holds.
func importlibOracle(t *testing.T, dir string) []nameVersion {
	t.Helper()
	const script = `import importlib.metadata as m, json, sys
print(json.dumps(sorted([[(d.metadata['Name'] or '').strip(), (d.version or '').strip()] for d in m.distributions(path=[sys.argv[1]])])))`
	out, err := exec.Command("python3", "-c", script, dir).Output()
	if err != nil {
		t.Fatalf("python3 importlib.metadata on %s: %v", dir, err)
	}
	var raw [][2]string
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("oracle output %q: %v", out, err)
	}
	var nv []nameVersion
	for _, r := range raw {
		nv = append(nv, nameVersion{r[0], r[1]})
	}
	return nv
}

// walkDir offers every file under root, at most depth levels down, to the
// extractor, as the layer walk would.
func walkDir(t *testing.T, root string, depth int) []nameVersion {
	t.Helper()
	e := New()
	var nv []nameVersion
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && rel != "." && strings.Count(rel, string(filepath.Separator)) >= depth {
			return fs.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		ipath := strings.TrimPrefix(filepath.ToSlash(p), "/")
		if !e.Wants(ipath, fi) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		res, err := e.Extract(context.Background(), &extract.Input{Path: ipath, Info: fi, Reader: f, Size: fi.Size()})
		if err != nil {
			t.Errorf("Extract(%s): %v", ipath, err)
			return nil
		}
		for _, pk := range res.Packages {
			nv = append(nv, nameVersion{pk.Name, pk.Version})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(nv, func(a, b nameVersion) int { return strings.Compare(a.Name+"\x00"+a.Version, b.Name+"\x00"+b.Version) })
	return nv
}

func TestImportlibOracleGenerated(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"PyYAML-6.0.1.dist-info/METADATA":         "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\nLicense: MIT\n\nbody\n",
		"zope.interface-5.5.2.dist-info/METADATA": "Metadata-Version: 2.1\r\nName: zope.interface\r\nVersion: 5.5.2\r\n\r\n",
		"Foo_Bar-1.0.dist-info/METADATA":          "Name: Foo_Bar\nSummary: wrapped\n  summary\nVersion: 1.0\nDescription: long\n        text\n",
		"rpm-4.18.0.egg-info":                     "Metadata-Version: 1.0\nName: rpm\nVersion: 4.18.0\n",
		"cryptography.egg-info/PKG-INFO":          "Metadata-Version: 2.1\nName: cryptography\nVersion: 38.0.4\n",
		"odd-2.0.dist-info/METADATA":              "  stray\nName: odd\n: nameless\nVersion: 2.0rc1\nDescription-Content-Type: text/markdown\n",
		"dup-1.0.dist-info/METADATA":              "Name: dup\nVersion: 1.0\nName: second-name\nVersion: 9\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := walkDir(t, dir, 2)
	if len(got) != len(files) {
		t.Errorf("vigil found %d distributions, want %d: %v", len(got), len(files), got)
	}
	if diff := cmp.Diff(importlibOracle(t, dir), got); diff != "" {
		t.Errorf("vigil disagrees with importlib.metadata (-python +vigil):\n%s", diff)
	}
}

// TestImportlibOracleDebian compares with importlib.metadata on the Debian
// python3 packages installed on this machine (dist-info directories,
// egg-info directories and egg-info files).
func TestImportlibOracleDebian(t *testing.T) {
	const dir = "/usr/lib/python3/dist-packages"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no Debian python3 packages here (%v); install python3-yaml python3-rpm", err)
	}
	// Depth 2 reaches <dist>.dist-info/METADATA and <dist>.egg-info/PKG-INFO
	// directly in the directory, which is what importlib looks at; vendored
	// copies deeper down are the extractor's business, not importlib's.
	got := walkDir(t, dir, 2)
	want := importlibOracle(t, dir)
	if len(want) == 0 {
		t.Fatalf("importlib.metadata found no distributions in %s", dir)
	}
	t.Logf("%d distributions in %s", len(want), dir)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vigil disagrees with importlib.metadata (-python +vigil):\n%s", diff)
	}
}

func FuzzParseHeaders(f *testing.F) {
	f.Add([]byte("Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nbody"))
	f.Add([]byte("  x\r\nName:a\r\n: b\r\nFrom c\r\nVersion: 1\r\n wrapped\r\n"))
	f.Add([]byte("Name: x\nLicense-Expression: MIT\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeaders(bytes.NewReader(data))
		if err != nil {
			if len(h) != 0 {
				t.Fatal("headers returned with an error")
			}
			return
		}
		for _, f := range h {
			if strings.ContainsAny(f.name, ": \t\r\n") {
				t.Fatalf("bad field name %q", f.name)
			}
		}
		_ = licenses(h)
	})
}

func FuzzExtractEgg(f *testing.F) {
	f.Add(egg(f, map[string]string{"EGG-INFO/PKG-INFO": "Name: a\nVersion: 1\n"}))
	e := New()
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := e.Extract(context.Background(), &extract.Input{Path: "x-1.egg", Reader: bytes.NewReader(data), Size: int64(len(data))})
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
