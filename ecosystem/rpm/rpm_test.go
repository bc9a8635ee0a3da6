package rpm

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
)

type rpmInfo = rpmdb.PackageInfo

type fixture struct {
	name    string // folder under peer-suites/pkgdb/rpm/go-rpmdb
	file    string // database file name
	backend string // rpm's _db_backend for the real rpm
	oracle  string // pkgdb/expected TSV, "" when rpm cannot read it
	count   int
}

var fixtures = []fixture{
	{"cbl-mariner-2.0", "rpmdb.sqlite", "sqlite", "go-rpmdb_cbl-mariner-2.0.rpm-qa.tsv", 129},
	{"libuuid", "Packages", "bdb_ro", "go-rpmdb_libuuid.rpm-qa.tsv", 1},
	{"sle15-bci", "Packages.db", "", "", 35},
}

func extractFixture(t testing.TB, fx fixture, dir string) *extract.Result {
	t.Helper()
	data, err := os.ReadFile(testutil.Fixtures(t, "peer-suites", "pkgdb", "rpm", "go-rpmdb", fx.name, fx.file))
	if err != nil {
		t.Fatal(err)
	}
	return extractBytes(t, "var/lib/rpm/"+fx.file, data, dir)
}

func extractBytes(t testing.TB, path string, data []byte, dir string) *extract.Result {
	t.Helper()
	ex := New(WithTempDir(dir))
	if !ex.Wants(path, nil) {
		t.Fatalf("Wants(%q) = false", path)
	}
	res, err := ex.Extract(context.Background(), &extract.Input{Path: path, Reader: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatalf("Extract(%s): %v", path, err)
	}
	return res
}

// byName indexes packages by name.arch; the fixtures hold one of each.
func byName(t testing.TB, ps []inventory.Package) map[string]inventory.Package {
	t.Helper()
	m := map[string]inventory.Package{}
	for _, p := range ps {
		k := p.Name + "." + p.Arch
		if _, dup := m[k]; dup {
			t.Fatalf("package %s twice", k)
		}
		m[k] = p
	}
	return m
}

// TestOracleTSV compares with what the real rpm -qa printed (NAME,
// EPOCHNUM, VERSION, RELEASE, ARCH, SOURCERPM, MODULARITYLABEL).
func TestOracleTSV(t *testing.T) {
	for _, fx := range fixtures {
		if fx.oracle == "" {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			dir := t.TempDir()
			res := extractFixture(t, fx, dir)
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %q", res.Warnings)
			}
			got := byName(t, res.Packages)
			data, err := os.ReadFile(testutil.Fixtures(t, "peer-suites", "pkgdb", "expected", fx.oracle))
			if err != nil {
				t.Fatal(err)
			}
			rows := 0
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				f := strings.Split(sc.Text(), "\t")
				if len(f) != 7 {
					t.Fatalf("oracle row %q", sc.Text())
				}
				rows++
				name, epoch, ver, rel, arch, srpm, mod := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
				p, ok := got[name+"."+arch]
				if !ok {
					t.Errorf("%s.%s missing", name, arch)
					continue
				}
				// EPOCHNUM prints 0 for "no epoch"; these databases set none
				// to 0 explicitly (the live rpm test checks the difference).
				wantVer := ver + "-" + rel
				prefix := ""
				if epoch != "0" {
					prefix = epoch + ":"
				}
				if mod == "(none)" {
					mod = ""
				}
				want := [4]string{prefix + wantVer, mod, srpm, prefix}
				srcPrefix, srcEVR, _ := strings.Cut(p.SourceVersion, ":")
				if !strings.Contains(p.SourceVersion, ":") {
					srcPrefix, srcEVR = "", p.SourceVersion
				} else {
					srcPrefix += ":"
				}
				have := [4]string{p.Version, p.Modularity, p.SourceName + "-" + srcEVR + ".src.rpm", srcPrefix}
				if want != have {
					t.Errorf("%s: (version, modularity, source rpm, source epoch) = %q, want %q", name, have, want)
				}
			}
			if rows != fx.count || len(got) != fx.count {
				t.Errorf("oracle %d rows, extracted %d packages, want %d", rows, len(got), fx.count)
			}
		})
	}
}

// TestRealRPM is the differential test against the real rpm on copies of
// the databases: EVR (with the epoch exactly when one is set), licence and
// every installed file.
func TestRealRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rpm not found; CI must install the rpm package")
		}
		t.Skip("rpm not found")
	}
	for _, fx := range fixtures {
		if fx.backend == "" {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			dbdir := t.TempDir()
			src := testutil.Fixtures(t, "peer-suites", "pkgdb", "rpm", "go-rpmdb", fx.name, fx.file)
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dbdir, fx.file), data, 0o644); err != nil {
				t.Fatal(err)
			}
			const sep = "\x1f"
			out, err := exec.Command("rpm", "--dbpath", dbdir, "--define", "_db_backend "+fx.backend, "-qa",
				"--qf", "%{NAME}.%{ARCH}"+sep+"%{EVR}"+sep+"%{LICENSE}"+sep+"[%{FILENAMES}"+sep+"]\n").Output()
			if err != nil {
				t.Fatalf("rpm -qa: %v", err)
			}
			want := map[string][]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Split(strings.TrimSuffix(line, sep), sep)
				if strings.HasPrefix(f[0], "gpg-pubkey.") {
					continue
				}
				for i := 3; i < len(f); i++ {
					f[i] = strings.TrimPrefix(f[i], "/")
				}
				want[f[0]] = f[1:]
			}
			res := extractBytes(t, "var/lib/rpm/"+fx.file, data, t.TempDir())
			got := map[string][]string{}
			files := 0
			for _, p := range res.Packages {
				got[p.Name+"."+p.Arch] = append([]string{p.Version, strings.Join(p.Licenses, "")}, p.Files...)
				files += len(p.Files)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-rpm +got):\n%s", diff)
			}
			t.Logf("%s: %d packages, %d files, equal to rpm %s", fx.name, len(got), files, fx.backend)
		})
	}
}

// TestNDB checks the SLE 15 NDB database, which Debian's rpm cannot read,
// against values go-rpmdb's own test suite publishes for it.
func TestNDB(t *testing.T) {
	fx := fixtures[2]
	res := extractFixture(t, fx, t.TempDir())
	if len(res.Packages) != fx.count || len(res.Warnings) != 0 {
		t.Fatalf("%d packages (want %d), warnings %q", len(res.Packages), fx.count, res.Warnings)
	}
	got := byName(t, res.Packages)
	p := func(name, version, arch, src, srcVer, license string) inventory.Package {
		return inventory.Package{Ecosystem: inventory.RPM, Name: name, Version: version, Arch: arch,
			SourceName: src, SourceVersion: srcVer, Licenses: []string{license}}
	}
	for _, want := range []inventory.Package{
		p("glibc", "2.31-9.3.2", "x86_64", "glibc", "2.31-9.3.2",
			"LGPL-2.1-or-later AND LGPL-2.1-or-later WITH GCC-exception-2.0 AND GPL-2.0-or-later"),
		p("libreadline7", "7.0-19.6.1", "x86_64", "bash", "4.4-19.6.1", "GPL-3.0-or-later"),
		p("libgcc_s1", "11.2.1+git610-1.3.9", "x86_64", "gcc11", "11.2.1+git610-1.3.9", "GPL-3.0-or-later WITH GCC-exception-3.1"),
		p("system-user-root", "20190513-3.3.1", "noarch", "system-user-root", "20190513-3.3.1", "MIT"),
		p("rpm-config-SUSE", "1-5.6.1", "noarch", "rpm-config-SUSE", "1-5.6.1", "GPL-2.0-or-later"),
		p("liblzma5", "5.2.3-4.3.1", "x86_64", "xz", "5.2.3-4.3.1", "SUSE-Public-Domain"),
	} {
		g, ok := got[want.Name+"."+want.Arch]
		if !ok {
			t.Errorf("%s missing", want.Name)
			continue
		}
		if len(g.Files) == 0 {
			t.Errorf("%s has no files", want.Name)
		}
		g.Files = nil
		if diff := cmp.Diff(want, g); diff != "" {
			t.Errorf("%s (-want +got):\n%s", want.Name, diff)
		}
	}
}

func TestSplitSourceRPM(t *testing.T) {
	for _, tc := range []struct {
		in, name, ver, rel string
		ok                 bool
	}{
		{"util-linux-2.32.1-42.el8_8.src.rpm", "util-linux", "2.32.1", "42.el8_8", true},
		{"gcc11-11.2.1+git610-1.3.9.src.rpm", "gcc11", "11.2.1+git610", "1.3.9", true},
		{"kernel-5.14.0-362.8.1.el9_3.nosrc.rpm", "kernel", "5.14.0", "362.8.1.el9_3", true},
		{"a-b-c-1-2.src.rpm", "a-b-c", "1", "2", true},
		{"1-2.src.rpm", "", "", "", false},
		{"-1-2.src.rpm", "", "", "", false},
		{"name-1-2.rpm", "", "", "", false},
		{"name-1 0-2.src.rpm", "", "", "", false},
		{"(none)", "", "", "", false},
	} {
		n, v, r, ok := SplitSourceRPM(tc.in)
		if got, want := fmt.Sprint(n, "|", v, "|", r, "|", ok), fmt.Sprint(tc.name, "|", tc.ver, "|", tc.rel, "|", tc.ok); got != want {
			t.Errorf("SplitSourceRPM(%q) = %s, want %s", tc.in, got, want)
		}
	}
}

func TestEpochAndPseudoPackages(t *testing.T) {
	zero, one := 0, 1
	for _, tc := range []struct {
		name  string
		info  rpmInfo
		want  *inventory.Package
		warns bool
	}{
		{"epoch set", rpmInfo{Epoch: &one, Name: "ca-certificates-base", Version: "2.0.0", Release: "1.cm2", Arch: "noarch",
			SourceRpm: "ca-certificates-2.0.0-1.cm2.src.rpm", License: "MPLv2.0"},
			&inventory.Package{Ecosystem: inventory.RPM, Name: "ca-certificates-base", Version: "1:2.0.0-1.cm2", Arch: "noarch",
				SourceName: "ca-certificates", SourceVersion: "1:2.0.0-1.cm2", Licenses: []string{"MPLv2.0"}}, false},
		{"explicit epoch 0", rpmInfo{Epoch: &zero, Name: "a", Version: "1", Release: "2", Arch: "x86_64", Modularitylabel: "nodejs:18:8080020230713:ad008a3a"},
			&inventory.Package{Ecosystem: inventory.RPM, Name: "a", Version: "0:1-2", Arch: "x86_64", Modularity: "nodejs:18:8080020230713:ad008a3a"}, false},
		{"gpg-pubkey", rpmInfo{Name: "gpg-pubkey", Version: "fd431d51", Release: "4ae0493b"}, nil, false},
		{"no version", rpmInfo{Name: "a", Release: "1"}, nil, true},
		{"bad source rpm", rpmInfo{Name: "a", Version: "1", Release: "2", SourceRpm: "garbage"},
			&inventory.Package{Ecosystem: inventory.RPM, Name: "a", Version: "1-2"}, true},
		{"file list", rpmInfo{Name: "a", Version: "1", Release: "2", BaseNames: []string{"x", "y"}, DirIndexes: []int32{0, 1}, DirNames: []string{"/usr/bin/", "/etc/../etc/"}},
			&inventory.Package{Ecosystem: inventory.RPM, Name: "a", Version: "1-2", Files: []string{"usr/bin/x", "etc/y"}}, false},
		{"broken file list", rpmInfo{Name: "a", Version: "1", Release: "2", BaseNames: []string{"x"}, DirIndexes: []int32{7}, DirNames: []string{"/usr/bin/"}},
			&inventory.Package{Ecosystem: inventory.RPM, Name: "a", Version: "1-2"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := tc.info
			got, warn := convert(&info)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if (warn != "") != tc.warns {
				t.Errorf("warning %q, want one: %v", warn, tc.warns)
			}
		})
	}
}

func TestWantsAndBadInput(t *testing.T) {
	ex := New(WithTempDir(t.TempDir()))
	for path, want := range map[string]bool{
		"var/lib/rpm/Packages":              true,
		"var/lib/rpm/Packages.db":           true,
		"var/lib/rpm/rpmdb.sqlite":          true,
		"usr/lib/sysimage/rpm/rpmdb.sqlite": true,
		"usr/lib/sysimage/rpm/Packages":     true,
		"var/lib/rpm/rpmdb.sqlite-wal":      false,
		"var/lib/rpm/Name":                  false,
		"var/lib/rpm/sub/Packages":          false,
	} {
		if got := ex.Wants(path, nil); got != want {
			t.Errorf("Wants(%q) = %v", path, got)
		}
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"garbage":          bytes.Repeat([]byte("not a database "), 100),
		"sqlite header":    append([]byte("SQLite format 3\x00"), make([]byte, 200)...),
		"truncated sqlite": truncated(t, "cbl-mariner-2.0", "rpmdb.sqlite", 8192),
		"truncated bdb":    truncated(t, "libuuid", "Packages", 4096),
		"truncated ndb":    truncated(t, "sle15-bci", "Packages.db", 4096),
		"empty":            nil,
	} {
		t.Run(name, func(t *testing.T) {
			res := extractBytes(t, "var/lib/rpm/Packages", data, dir)
			if len(res.Warnings) == 0 && len(res.Packages) == 0 && data != nil {
				t.Errorf("no packages and no warning")
			}
		})
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spool directory not cleaned: %v", left)
	}
	res, err := ex.Extract(context.Background(), &extract.Input{Path: "var/lib/rpm/Packages", Reader: bytes.NewReader(nil), Size: MaxDBSize + 1})
	if err != nil || len(res.Warnings) != 1 {
		t.Errorf("oversize: %+v %v", res, err)
	}
	if _, err := ex.Extract(context.Background(), &extract.Input{Path: "var/lib/rpm/Packages", Reader: bytes.NewReader([]byte("x")), Size: 100}); err == nil {
		t.Error("short reader: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ex.Extract(ctx, &extract.Input{Path: "var/lib/rpm/Packages", Reader: bytes.NewReader([]byte("x")), Size: 1}); err == nil {
		t.Error("cancelled: no error")
	}
}

func truncated(t testing.TB, name, file string, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(testutil.Fixtures(t, "peer-suites", "pkgdb", "rpm", "go-rpmdb", name, file))
	if err != nil {
		t.Fatal(err)
	}
	return data[:min(n, len(data))]
}

// TestMutatedDatabases is a cheap, deterministic stand-in for FuzzDB, whose
// coverage bookkeeping over the linked SQLite engine makes it run at about
// one input a second: a few hundred randomly corrupted copies of each
// database must each give packages or a warning, quickly, without a crash.
// VIGIL_RPM_MUTATIONS raises the count for a longer run.
func TestMutatedDatabases(t *testing.T) {
	n := 150
	if v, err := strconv.Atoi(os.Getenv("VIGIL_RPM_MUTATIONS")); err == nil {
		n = v
	}
	r := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for _, fx := range fixtures {
		seed := truncated(t, fx.name, fx.file, 128<<10)
		var worst time.Duration
		for i := 0; i < n; i++ {
			d := append([]byte(nil), seed...)
			for k := 0; k < 1+r.IntN(8); k++ {
				d[r.IntN(len(d))] = byte(r.IntN(256))
			}
			start := time.Now()
			res := extractBytes(t, "var/lib/rpm/"+fx.file, d, dir)
			worst = max(worst, time.Since(start))
			for _, p := range res.Packages {
				if !validToken(p.Name) {
					t.Fatalf("mutation %d of %s: bad package %+v", i, fx.name, p)
				}
			}
		}
		if worst > 10*time.Second {
			t.Errorf("%s: slowest of %d mutations took %v", fx.name, n, worst)
		}
		t.Logf("%s: %d mutations, slowest %v", fx.name, n, worst)
	}
	// go-rpmdb's reader goroutine blocks for good when its caller stops
	// early; preflight must have refused every database that would.
	time.Sleep(100 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after: reader goroutines leaked\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// FuzzDB feeds mutated databases of each format to the extractor: a
// corrupt database must become a warning, never a crash.
func FuzzDB(f *testing.F) {
	f.Add(truncated(f, "libuuid", "Packages", 1<<20), "Packages")
	f.Add(truncated(f, "sle15-bci", "Packages.db", 64<<10), "Packages.db")
	f.Add(truncated(f, "cbl-mariner-2.0", "rpmdb.sqlite", 64<<10), "rpmdb.sqlite")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, file string) {
		if file != "Packages" && file != "Packages.db" && file != "rpmdb.sqlite" {
			file = "Packages"
		}
		res := extractBytes(t, "var/lib/rpm/"+file, data, dir)
		for _, p := range res.Packages {
			if !validToken(p.Name) || p.Version == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func TestCheckHeader(t *testing.T) {
	// header builds a blob of one entry (type, offset, count) over data.
	header := func(typ, off, count uint32, data string) []byte {
		b := []byte{0, 0, 0, 1, 0, 0, 0, byte(len(data))}
		for _, v := range []uint32{1000, typ, off, count} {
			b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		}
		return append(b, data...)
	}
	for _, tc := range []struct {
		name string
		blob []byte
		ok   bool
	}{
		{"one string", header(6, 0, 1, "abc\x00"), true},
		{"string array", header(8, 0, 3, "a\x00b\x00c\x00"), true},
		{"int32 array ignores strings", header(4, 0, 1, "abcd"), true},
		// go-rpmdb would loop four billion times over this one.
		{"unterminated, huge count", header(8, 0, 0xffffffff, "abc"), false},
		{"more strings than data", header(8, 0, 5, "a\x00b\x00"), false},
		{"index larger than blob", append([]byte{0x10, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 64)...), false},
		{"negative data length", []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{"short", []byte{0, 0, 0}, false},
	} {
		err := checkHeader(tc.blob)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestOneBadHeader corrupts one header of a real SQLite database: only
// that package is lost, with a warning.
func TestOneBadHeader(t *testing.T) {
	fx := fixtures[0]
	data := truncated(t, fx.name, fx.file, 64<<20)
	dbPath := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	if err := os.WriteFile(dbPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the index but cut the data: the string entries now point
	// outside the blob.
	if _, err := db.Exec("UPDATE Packages SET blob = substr(blob, 1, 200) WHERE hnum = (SELECT min(hnum) FROM Packages)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	res := extractBytes(t, "var/lib/rpm/rpmdb.sqlite", data, t.TempDir())
	if len(res.Packages) != fx.count-1 || len(res.Warnings) != 1 {
		t.Errorf("%d packages (want %d), warnings %q (want one)", len(res.Packages), fx.count-1, res.Warnings)
	}
}
