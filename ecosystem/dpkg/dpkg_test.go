package dpkg

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/tools/txtar"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/inventory"
)

// queryFormat is what the oracle TSVs were made with:
// dpkg-query -W -f="$queryFormat" --admindir DIR.
const queryFormat = `${binary:Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}\t${db:Status-Abbrev}\n`

// abbrev returns dpkg-query's ${db:Status-Abbrev} ("ii ", "rc ").
func (r *record) abbrev() string {
	want := map[string]string{"unknown": "u", "install": "i", "hold": "h", "deinstall": "r", "purge": "p"}[r.Want]
	state := map[string]string{"not-installed": "n", "config-files": "c", "half-installed": "H", "unpacked": "U",
		"half-configured": "F", "triggers-awaited": "W", "triggers-pending": "t", "installed": "i"}[r.State]
	flag := map[string]string{"ok": " ", "reinstreq": "R"}[r.Flag]
	return want + state + flag
}

func extractBytes(t testing.TB, path string, data []byte) *extract.Result {
	t.Helper()
	ex := New()
	if !ex.Wants(path, nil) {
		t.Fatalf("Wants(%q) = false", path)
	}
	res, err := ex.Extract(context.Background(), &extract.Input{
		Path: path, Reader: bytes.NewReader(data), Size: int64(len(data)),
	})
	if err != nil {
		t.Fatalf("Extract(%s): %v", path, err)
	}
	return res
}

func txtarFile(t testing.TB, archive, name string) []byte {
	t.Helper()
	ar, err := txtar.ParseFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("%s has no %s", archive, name)
	return nil
}

// rows turns dpkg-query -W output, or an oracle TSV, into sorted rows.
// ${binary:Package} names Multi-Arch: same packages "libc6:amd64".
func rows(t testing.TB, out []byte) [][]string {
	t.Helper()
	var rs [][]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 {
			t.Fatalf("oracle row %q has %d fields, want 6", sc.Text(), len(f))
		}
		rs = append(rs, f)
	}
	slices.SortFunc(rs, func(a, b []string) int { return strings.Compare(a[0]+":"+a[4], b[0]+":"+b[4]) })
	return rs
}

func parsedRows(t testing.TB, data []byte) [][]string {
	t.Helper()
	recs, _, err := parseStatus(context.Background(), bytes.NewReader(data), false)
	if err != nil {
		t.Fatal(err)
	}
	var rs [][]string
	for _, r := range recs {
		name := r.Package
		if r.MultiArch == "same" {
			name += ":" + r.Arch // what ${binary:Package} prints
		}
		rs = append(rs, []string{name, r.Version, r.sourceName(), r.sourceVersion(), r.Arch, r.abbrev()})
	}
	slices.SortFunc(rs, func(a, b []string) int { return strings.Compare(a[0]+":"+a[4], b[0]+":"+b[4]) })
	return rs
}

// wantPackages is what a scanner reports from oracle rows: the packages
// whose files are on disk (not "rc" config-files leftovers).
func wantPackages(rs [][]string) []inventory.Package {
	var ps []inventory.Package
	for _, r := range rs {
		if strings.ContainsAny(r[5][1:2], "nc") {
			continue
		}
		name, _, _ := strings.Cut(r[0], ":")
		ps = append(ps, inventory.Package{Ecosystem: inventory.Deb, Name: name, Version: r[1],
			SourceName: r[2], SourceVersion: r[3], Arch: r[4]})
	}
	return ps
}

var sortPackages = cmpopts.SortSlices(func(a, b inventory.Package) bool { return a.Name+":"+a.Arch < b.Name+":"+b.Arch })

// TestOracleTSV reproduces, row for row, what the real dpkg-query printed
// for the fixture status files, and checks that the extractor reports
// exactly the rows whose files are installed.
func TestOracleTSV(t *testing.T) {
	dpkgdir := testutil.Fixtures(t, "peer-suites", "pkgdb", "trivy-fanal", "pkg", "dpkg", "testdata")
	expected := testutil.Fixtures(t, "peer-suites", "pkgdb", "expected")
	tests := []struct {
		name      string
		status    func(t *testing.T) []byte
		tsv       string
		rows, ins int
	}{
		{"trivy-valid", func(t *testing.T) []byte {
			return txtarFile(t, filepath.Join(dpkgdir, "valid.txtar"), "var/lib/dpkg/status")
		}, "trivy-dpkg-valid.dpkg-query.tsv", 91, 90},
		{"debian-bookworm", func(t *testing.T) []byte {
			data, err := os.ReadFile(testutil.Fixtures(t, "vulndata", "Debian", "bookworm-installed", "dpkg-status"))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}, "debian-bookworm-dpkg-status.dpkg-query.tsv", 720, 720},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oracle, err := os.ReadFile(filepath.Join(expected, tc.tsv))
			if err != nil {
				t.Fatal(err)
			}
			want := rows(t, oracle)
			if len(want) != tc.rows {
				t.Fatalf("oracle has %d rows, want %d", len(want), tc.rows)
			}
			status := tc.status(t)
			if diff := cmp.Diff(want, parsedRows(t, status)); diff != "" {
				t.Errorf("parsed rows differ from dpkg-query (-want +got):\n%s", diff)
			}
			res := extractBytes(t, "var/lib/dpkg/status", status)
			if len(res.Packages) != tc.ins {
				t.Errorf("%d packages, want %d", len(res.Packages), tc.ins)
			}
			if diff := cmp.Diff(wantPackages(want), res.Packages, sortPackages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(res.Warnings) != 0 || res.Distro != nil {
				t.Errorf("warnings %q, distro %+v; want none", res.Warnings, res.Distro)
			}
		})
	}
}

// TestMinbaseDpkgQuery is the differential test against the real dpkg on
// a debootstrap'd Debian root: the package list of dpkg-query -W and every
// file list of dpkg-query -L.
func TestMinbaseDpkgQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the debootstrap'd root")
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dpkg-query not found; CI must provide dpkg")
		}
		t.Skip("dpkg-query not found")
	}
	root := debroot.Minbase(t)
	admin := filepath.Join(root, "var", "lib", "dpkg")
	out, err := exec.Command("dpkg-query", "--admindir="+admin, "-W", "-f="+queryFormat).Output()
	if err != nil {
		t.Fatalf("dpkg-query -W: %v", err)
	}
	want := rows(t, out)
	if len(want) < 50 {
		t.Fatalf("dpkg-query lists only %d packages", len(want))
	}
	status, err := os.ReadFile(filepath.Join(admin, "status"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, parsedRows(t, status)); diff != "" {
		t.Errorf("parsed rows differ from dpkg-query (-want +got):\n%s", diff)
	}
	res := extractBytes(t, "var/lib/dpkg/status", status)
	if diff := cmp.Diff(wantPackages(want), res.Packages, sortPackages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}

	lists, err := filepath.Glob(filepath.Join(admin, "info", "*.list"))
	if err != nil || len(lists) != len(want) {
		t.Fatalf("%d .list files for %d packages (%v)", len(lists), len(want), err)
	}
	files := 0
	for _, l := range lists {
		name := strings.TrimSuffix(filepath.Base(l), ".list")
		data, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		res := extractBytes(t, "var/lib/dpkg/info/"+filepath.Base(l), data)
		if len(res.Owned) != 1 || len(res.Warnings) != 0 {
			t.Fatalf("%s: owned %d, warnings %q", name, len(res.Owned), res.Warnings)
		}
		got := res.Owned[0]
		if got.Package+":"+got.Arch != name && got.Package != name {
			t.Errorf("%s: package %q arch %q", name, got.Package, got.Arch)
		}
		out, err := exec.Command("dpkg-query", "--admindir="+admin, "-L", name).Output()
		if err != nil {
			t.Fatalf("dpkg-query -L %s: %v", name, err)
		}
		var wantFiles []string
		for _, line := range strings.Split(string(out), "\n") {
			// Skip "/." and the diversion notes ("package diverts others to: ...").
			if strings.HasPrefix(line, "/") && line != "/." {
				wantFiles = append(wantFiles, strings.TrimPrefix(line, "/"))
			}
		}
		if diff := cmp.Diff(wantFiles, got.Files); diff != "" {
			t.Errorf("%s files (-dpkg-query +got):\n%s", name, diff)
		}
		files += len(got.Files)
	}
	t.Logf("minbase: %d packages, %d owned paths, all equal to dpkg-query", len(res.Packages), files)
}

// TestTrivyTxtars reads the other status files of Trivy's suite. The
// wanted packages were written by reading each file.
func TestTrivyTxtars(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "pkgdb", "trivy-fanal", "pkg", "dpkg", "testdata")
	p := func(name, version, arch, src, srcVer string) inventory.Package {
		return inventory.Package{Ecosystem: inventory.Deb, Name: name, Version: version, Arch: arch, SourceName: src, SourceVersion: srcVer}
	}
	tests := []struct {
		file     string
		want     []inventory.Package
		warnings int
	}{
		{"corrupsed.txtar", []inventory.Package{
			p("libpam-runtime", "1.1.8-3.1ubuntu3", "all", "pam", "1.1.8-3.1ubuntu3"),
			p("libpam-modules-bin", "1.1.8-3.1ubuntu3", "amd64", "pam", "1.1.8-3.1ubuntu3"),
			p("makedev", "2.3.1-93ubuntu1", "all", "makedev", "2.3.1-93ubuntu1"),
			p("libgcc1", "1:5.1.1-12ubuntu1", "amd64", "gcc-5", "5.1.1-12ubuntu1"),
			// brokenPackage...: no Version, no Status: not installed, no warning.
			// invalidpkg: no Status: not installed.
		}, 0},
		{"only-apt.txtar", []inventory.Package{p("apt", "1.6.3ubuntu0.1", "amd64", "apt", "1.6.3ubuntu0.1")}, 0},
		{"third-party.txtar", []inventory.Package{
			p("docker-ce", "5:20.10.7~3-0~debian-buster", "amd64", "docker-ce", "5:20.10.7~3-0~debian-buster"),
			p("apt", "1.6.3ubuntu0.1", "amd64", "apt", "1.6.3ubuntu0.1"),
		}, 0},
		{"digest.txtar", []inventory.Package{
			p("sed", "4.4-2", "amd64", "sed", "4.4-2"),
			p("tar", "1.34+dfsg-1", "amd64", "tar", "1.34+dfsg-1"),
		}, 0},
		{"md5sums.txtar", []inventory.Package{p("tar", "1.29b-2", "amd64", "tar", "1.29b-2")}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := extractBytes(t, "var/lib/dpkg/status", txtarFile(t, filepath.Join(dir, tc.file), "var/lib/dpkg/status"))
			if diff := cmp.Diff(tc.want, res.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(res.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", res.Warnings, tc.warnings)
			}
		})
	}
}

// TestDistroless offers every file of a distroless root (testdata) and
// merges the results as the walk would.
func TestDistroless(t *testing.T) {
	ar, err := txtar.ParseFile(filepath.Join("testdata", "distroless-debian12.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want extract.Result
	for _, f := range ar.Files {
		if f.Name == "want" {
			if err := json.Unmarshal(f.Data, &want); err != nil {
				t.Fatal(err)
			}
			continue
		}
		res := extractBytes(t, f.Name, f.Data)
		got.Packages = append(got.Packages, res.Packages...)
		got.Owned = append(got.Owned, res.Owned...)
		got.Warnings = append(got.Warnings, res.Warnings...)
		if res.Distro != nil {
			if got.Distro != nil {
				t.Errorf("second distro from %s", f.Name)
			}
			got.Distro, got.DistroRank = res.Distro, res.DistroRank
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestDistrolessVersion(t *testing.T) {
	for v, want := range map[string]string{
		"12.4+deb12u5": "12", "11.1+deb11u9": "11", "10.3+deb10u13": "10", "12.4": "12", "13": "13",
		"12ubuntu4.6": "", "12.4+deb11u1": "", "12.4+deb12": "", "99.1": "", "": "", "+deb12u1": "",
	} {
		got := ""
		if d := distroless(v); d != nil {
			got = d.Version
		}
		if got != want {
			t.Errorf("distroless(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestStatusEdgeCases(t *testing.T) {
	p := func(name, version string) inventory.Package {
		return inventory.Package{Ecosystem: inventory.Deb, Name: name, Version: version, Arch: "amd64", SourceName: name, SourceVersion: version}
	}
	tests := []struct {
		name, status string
		want         []inventory.Package
		warnings     int
	}{
		{"states on disk or not", "" +
			"Package: a\nStatus: install ok unpacked\nVersion: 1\nArchitecture: amd64\n\n" +
			"Package: b\nStatus: hold ok installed\nVersion: 1\nArchitecture: amd64\n\n" +
			"Package: c\nStatus: deinstall ok installed\nVersion: 1\nArchitecture: amd64\n\n" +
			"Package: d\nStatus: install reinstreq half-installed\nVersion: 1\nArchitecture: amd64\n\n" +
			"Package: e\nStatus: install ok triggers-pending\nVersion: 1\nArchitecture: amd64\n\n" +
			"Package: f\nStatus: purge ok not-installed\nArchitecture: amd64\n\n" +
			"Package: g\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\n\n" +
			"Package: h\nStatus: install ok half-configured\nVersion: 1\nArchitecture: amd64\n",
			[]inventory.Package{p("a", "1"), p("b", "1"), p("c", "1"), p("d", "1"), p("e", "1"), p("h", "1")}, 0},
		{"CRLF, case-insensitive names, blank line of spaces, no final newline",
			"package: a\r\nSTATUS: install ok installed\r\nversion: 2.0-1\r\narchitecture: amd64\r\n \t\r\nPackage: b\nStatus: install ok installed\nVersion: 3\nArchitecture: amd64",
			[]inventory.Package{p("a", "2.0-1"), p("b", "3")}, 0},
		{"source with version", "Package: bash\nStatus: install ok installed\nSource: bash (5.2.15-2)\nVersion: 5.2.15-2+b8\nArchitecture: amd64\n",
			[]inventory.Package{{Ecosystem: inventory.Deb, Name: "bash", Version: "5.2.15-2+b8", Arch: "amd64", SourceName: "bash", SourceVersion: "5.2.15-2"}}, 0},
		{"installed without version", "Package: a\nStatus: install ok installed\nArchitecture: amd64\n", nil, 1},
		{"malformed status", "Package: a\nStatus: install installed\nVersion: 1\n", nil, 1},
		{"malformed version", "Package: a\nStatus: install ok installed\nVersion: 1 2\n", nil, 1},
		{"bad name", "Package: a/b\nStatus: install ok installed\nVersion: 1\n", nil, 1},
		{"duplicate", "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\nPackage: a\nStatus: install ok installed\nVersion: 2\nArchitecture: amd64\n",
			[]inventory.Package{p("a", "1")}, 1},
		{"multi-arch pair", "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\nPackage: a\nStatus: install ok installed\nVersion: 1\nArchitecture: i386\n",
			[]inventory.Package{p("a", "1"), {Ecosystem: inventory.Deb, Name: "a", Version: "1", Arch: "i386", SourceName: "a", SourceVersion: "1"}}, 0},
		{"garbage line", "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nnot a field\n",
			[]inventory.Package{p("a", "1")}, 1},
		{"empty", "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := extractBytes(t, "var/lib/dpkg/status", []byte(tc.status))
			if diff := cmp.Diff(tc.want, res.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(res.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", res.Warnings, tc.warnings)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	status := "Package: a\nStatus: install ok installed\nDescription: " + strings.Repeat("x", 3*maxLine) +
		"\nVersion: 1\nArchitecture: amd64\n"
	res := extractBytes(t, "var/lib/dpkg/status", []byte(status))
	if len(res.Packages) != 1 || res.Packages[0].Version != "1" || len(res.Warnings) != 1 {
		t.Errorf("packages %+v, warnings %q; want a 1 and one warning", res.Packages, res.Warnings)
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		path, data string
		want       []extract.Ownership
		warnings   int
	}{
		{"var/lib/dpkg/info/libc6:amd64.list", "/.\n/usr\n/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/../doc/libc6\nrelative\n",
			[]extract.Ownership{{Ecosystem: inventory.Deb, Package: "libc6", Arch: "amd64",
				Files: []string{"usr", "usr/lib/x86_64-linux-gnu/libc.so.6", "usr/share/doc/libc6"}}}, 1},
		{"var/lib/dpkg/info/tar.list", "/usr/bin/tar", []extract.Ownership{{Ecosystem: inventory.Deb, Package: "tar", Files: []string{"usr/bin/tar"}}}, 0},
		{"var/lib/dpkg/info/BAD NAME.list", "/x\n", nil, 1},
		{"var/lib/dpkg/status.d/tar.md5sums", "25de5fcdc3c8ebd9c9f599fb7a899b40  usr/bin/tar\nnothex  x\n0502616f764289571b974ecc5adc1209  usr/share/man/man1/tar.1.gz\n",
			[]extract.Ownership{{Ecosystem: inventory.Deb, Package: "tar", Files: []string{"usr/bin/tar", "usr/share/man/man1/tar.1.gz"}}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res := extractBytes(t, tc.path, []byte(tc.data))
			if diff := cmp.Diff(tc.want, res.Owned); diff != "" {
				t.Errorf("owned (-want +got):\n%s", diff)
			}
			if len(res.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", res.Warnings, tc.warnings)
			}
		})
	}
}

func TestWants(t *testing.T) {
	ex := New()
	for path, want := range map[string]bool{
		"var/lib/dpkg/status":                 true,
		"var/lib/dpkg/status-old":             false,
		"var/lib/dpkg/status.d/libc6":         true,
		"var/lib/dpkg/status.d/libc6.md5sums": true,
		"var/lib/dpkg/status.d/.wh.libc6":     false,
		"var/lib/dpkg/status.d/x/y":           false,
		"var/lib/dpkg/info/libc6:amd64.list":  true,
		"var/lib/dpkg/info/libc6.md5sums":     false,
		"var/lib/dpkg/info/.list":             false,
		"var/lib/dpkg/available":              false,
		"usr/var/lib/dpkg/status":             false,
	} {
		if got := ex.Wants(path, nil); got != want {
			t.Errorf("Wants(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestCapsAndErrors(t *testing.T) {
	ex := New()
	res, err := ex.Extract(context.Background(), &extract.Input{Path: "var/lib/dpkg/status", Reader: bytes.NewReader(nil), Size: MaxStatusSize + 1})
	if err != nil || len(res.Warnings) != 1 || len(res.Packages) != 0 {
		t.Errorf("oversize: %+v, %v; want one warning", res, err)
	}
	// A reader that fails mid-file is an error naming the file.
	_, err = ex.Extract(context.Background(), &extract.Input{Path: "var/lib/dpkg/status", Reader: bytes.NewReader([]byte("Package: a\n")), Size: 1000})
	if err == nil || !strings.Contains(err.Error(), "var/lib/dpkg/status") {
		t.Errorf("short reader: err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ex.Extract(ctx, &extract.Input{Path: "var/lib/dpkg/status", Reader: bytes.NewReader(nil)}); err == nil {
		t.Error("cancelled: no error")
	}
}

func FuzzStatus(f *testing.F) {
	dir := testutil.Fixtures(f, "peer-suites", "pkgdb", "trivy-fanal", "pkg", "dpkg", "testdata")
	for _, name := range []string{"corrupsed.txtar", "only-apt.txtar", "third-party.txtar", "md5sums.txtar"} {
		f.Add(txtarFile(f, filepath.Join(dir, name), "var/lib/dpkg/status"), false)
	}
	ar, err := txtar.ParseFile(filepath.Join("testdata", "distroless-debian12.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range ar.Files {
		f.Add(file.Data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, statusD bool) {
		path := "var/lib/dpkg/status"
		if statusD {
			path = "var/lib/dpkg/status.d/base"
		}
		res := extractBytes(t, path, data)
		for _, p := range res.Packages {
			if !validName(p.Name) || p.Version == "" || !validVersion(p.Version) || p.SourceName == "" || p.SourceVersion == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
		if res.Distro != nil && (!statusD || res.Distro.Version == "") {
			t.Fatalf("distro %+v from %s", res.Distro, path)
		}
		if len(res.Warnings) > maxWarnings+len(res.Packages)+1 {
			t.Fatalf("%d warnings", len(res.Warnings))
		}
	})
}

func FuzzList(f *testing.F) {
	f.Add([]byte("/.\n/usr\n/usr/bin/tar\n"), false)
	f.Add([]byte("25de5fcdc3c8ebd9c9f599fb7a899b40  usr/bin/tar\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, md5 bool) {
		path := "var/lib/dpkg/info/tar.list"
		if md5 {
			path = "var/lib/dpkg/status.d/tar.md5sums"
		}
		res := extractBytes(t, path, data)
		if len(res.Owned) != 1 {
			t.Fatalf("owned %d", len(res.Owned))
		}
		for _, p := range res.Owned[0].Files {
			if p == "" || p == "." || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || p == ".." {
				t.Fatalf("bad path %q", p)
			}
		}
	})
}
