package apk

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
)

func extractBytes(t testing.TB, data []byte) *extract.Result {
	t.Helper()
	ex := New()
	const path = "lib/apk/db/installed"
	if !ex.Wants(path, nil) {
		t.Fatalf("Wants(%q) = false", path)
	}
	res, err := ex.Extract(context.Background(), &extract.Input{
		Path: path, Reader: bytes.NewReader(data), Size: int64(len(data)),
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return res
}

func pkg(name, version, origin string, licenses []string, files ...string) inventory.Package {
	return inventory.Package{Ecosystem: inventory.APK, Name: name, Version: version, Arch: "x86_64",
		SourceName: origin, SourceVersion: version, Licenses: licenses, Files: files}
}

// TestTrivyFixture reads the real installed database of Trivy's suite. The
// wanted table was written by reading the file's P, V, A, o, L, F and R
// lines.
func TestTrivyFixture(t *testing.T) {
	data, err := os.ReadFile(testutil.Fixtures(t, "peer-suites", "pkgdb", "trivy-fanal", "pkg", "apk", "testdata", "apk"))
	if err != nil {
		t.Fatal(err)
	}
	l := func(s ...string) []string { return s }
	want := []inventory.Package{
		pkg("musl", "1.1.14-r10", "musl", l("MIT"), "lib/libc.musl-x86_64.so.1", "lib/ld-musl-x86_64.so.1"),
		pkg("busybox", "1.24.2-r9", "busybox", l("GPL2"),
			"bin/busybox", "bin/sh", "etc/securetty", "etc/udhcpd.conf", "etc/logrotate.d/acpid"),
		pkg("alpine-baselayout", "3.0.3-r0", "alpine-baselayout", l("GPL2"),
			"etc/hosts", "etc/sysctl.conf", "etc/group", "etc/protocols", "etc/fstab", "etc/mtab", "etc/profile",
			"etc/TZ", "etc/shells", "etc/motd", "etc/inittab", "etc/hostname", "etc/modules", "etc/services",
			"etc/shadow", "etc/passwd", "etc/profile.d/color_prompt", "etc/sysctl.d/00-alpine.conf",
			"etc/modprobe.d/i386.conf", "etc/modprobe.d/blacklist.conf", "etc/modprobe.d/aliases.conf",
			"etc/modprobe.d/kms.conf", "etc/crontabs/root", "sbin/mkmntdirs", "var/spool/cron/crontabs"),
		pkg("alpine-keys", "1.1-r0", "alpine-keys", l("GPL"),
			"etc/apk/keys/alpine-devel@lists.alpinelinux.org-4d07755e.rsa.pub",
			"etc/apk/keys/alpine-devel@lists.alpinelinux.org-524d27bb.rsa.pub",
			"etc/apk/keys/alpine-devel@lists.alpinelinux.org-5243ef4b.rsa.pub",
			"etc/apk/keys/alpine-devel@lists.alpinelinux.org-5261cecb.rsa.pub",
			"etc/apk/keys/alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub"),
		pkg("zlib", "1.2.8-r2", "zlib", l("zlib"), "lib/libz.so.1.2.8", "lib/libz.so.1"),
		pkg("libcrypto1.0", "1.0.2h-r1", "openssl", l("openssl"),
			"lib/libcrypto.so.1.0.0", "usr/bin/c_rehash", "usr/lib/libcrypto.so.1.0.0",
			"usr/lib/engines/libubsec.so", "usr/lib/engines/libatalla.so", "usr/lib/engines/libcapi.so",
			"usr/lib/engines/libgost.so", "usr/lib/engines/libcswift.so", "usr/lib/engines/libchil.so",
			"usr/lib/engines/libgmp.so", "usr/lib/engines/libnuron.so", "usr/lib/engines/lib4758cca.so",
			"usr/lib/engines/libsureware.so", "usr/lib/engines/libpadlock.so", "usr/lib/engines/libaep.so"),
		pkg("libssl1.0", "1.0.2h-r1", "openssl", l("openssl"), "lib/libssl.so.1.0.0", "usr/lib/libssl.so.1.0.0"),
		pkg("apk-tools", "2.6.7-r0", "apk-tools", l("GPL2"), "sbin/apk"),
		pkg("scanelf", "1.1.6-r0", "pax-utils", l("GPL2"), "usr/bin/scanelf"),
		pkg("musl-utils", "1.1.14-r10", "musl", l("MIT", "BSD", "GPL2+"),
			"sbin/ldconfig", "usr/bin/iconv", "usr/bin/ldd", "usr/bin/getconf", "usr/bin/getent"),
		pkg("libc-utils", "0.7-r0", "libc-dev", l("GPL")),
		pkg("pkgconf", "1.6.0-r0", "pkgconf", l("ISC"),
			"usr/bin/pkgconf", "usr/bin/pkg-config", "usr/lib/libpkgconf.so.3.0.0", "usr/lib/libpkgconf.so.3",
			"usr/share/aclocal/pkg.m4"),
		pkg("sqlite-libs", "3.26.0-r3", "sqlite", l("Public-Domain"), "usr/lib/libsqlite3.so.0", "usr/lib/libsqlite3.so.0.8.6"),
		pkg("test", "2.9.11_pre20061021-r2", "test-parent", l("Public-Domain"),
			"usr/lib/libsqlite3.so", "usr/lib/pkgconfig/sqlite3.pc", "usr/include/sqlite3ext.h", "usr/include/sqlite3.h"),
		pkg("ada-libs", "2.7.4-r0", "ada", l("( Apache-2.0 OR MIT ) AND MPL-2.0"), "usr/lib/libada.so.2", "usr/lib/libada.so.2.7.4"),
	}
	res := extractBytes(t, data)
	if diff := cmp.Diff(want, res.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	files := 0
	for _, p := range res.Packages {
		files += len(p.Files)
	}
	// The file has 76 R: lines, all in valid records.
	if files != 76 {
		t.Errorf("%d files, want 76", files)
	}
	// The version-less record is the only problem.
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "invalidPackageWithoutAVersion") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

func TestEdgeCases(t *testing.T) {
	p := func(name, version, origin string, files ...string) inventory.Package {
		return inventory.Package{Ecosystem: inventory.APK, Name: name, Version: version, Arch: "aarch64",
			SourceName: origin, SourceVersion: version, Files: files}
	}
	tests := []struct {
		name, db string
		want     []inventory.Package
		warnings int
	}{
		{"no origin means itself, CRLF, no final newline", "P:a\r\nV:1-r0\r\nA:aarch64\r\n\r\nP:b\nV:2-r1\nA:aarch64",
			[]inventory.Package{p("a", "1-r0", "a"), p("b", "2-r1", "b")}, 0},
		{"several blank lines and spaces", "\n\n  \nP:a\nV:1-r0\nA:aarch64\n\n\n",
			[]inventory.Package{p("a", "1-r0", "a")}, 0},
		{"R before any F is in the root", "P:a\nV:1-r0\nA:aarch64\nR:top\nF:usr/bin\nR:x\n",
			[]inventory.Package{p("a", "1-r0", "a", "top", "usr/bin/x")}, 0},
		{"escaping paths refused", "P:a\nV:1-r0\nA:aarch64\nF:../../etc\nR:passwd\nF:/etc\nR:shadow\nF:usr\nR:../x\nR:ok\n",
			[]inventory.Package{p("a", "1-r0", "a", "usr/ok")}, 3},
		{"no name", "V:1-r0\nA:aarch64\n", nil, 1},
		{"version with a space", "P:a\nV:1 r0\n", nil, 1},
		{"duplicate", "P:a\nV:1-r0\nA:aarch64\n\nP:a\nV:2-r0\nA:aarch64\n", []inventory.Package{p("a", "1-r0", "a")}, 1},
		{"garbage line", "P:a\nV:1-r0\nA:aarch64\nnonsense\n", []inventory.Package{p("a", "1-r0", "a")}, 1},
		{"long line skipped", "P:a\nV:1-r0\nA:aarch64\nT:" + strings.Repeat("x", 3*maxLine) + "\nR:f\n",
			[]inventory.Package{p("a", "1-r0", "a", "f")}, 1},
		{"empty", "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := extractBytes(t, []byte(tc.db))
			if diff := cmp.Diff(tc.want, res.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(res.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", res.Warnings, tc.warnings)
			}
		})
	}
}

func TestLicenses(t *testing.T) {
	for in, want := range map[string][]string{
		"MIT":                                  {"MIT"},
		"MIT BSD GPL2+":                        {"MIT", "BSD", "GPL2+"},
		"GPL-2.0-only WITH Linux-syscall-note": {"GPL-2.0-only WITH Linux-syscall-note"},
		"(MIT OR Apache-2.0)":                  {"(MIT OR Apache-2.0)"},
		"  ":                                   nil,
	} {
		if diff := cmp.Diff(want, licenses(in)); diff != "" {
			t.Errorf("licenses(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestWantsCapsErrors(t *testing.T) {
	ex := New()
	for path, want := range map[string]bool{
		"lib/apk/db/installed":     true,
		"usr/lib/apk/db/installed": true,
		"lib/apk/db/scripts.tar":   false,
		"/lib/apk/db/installed":    false,
	} {
		if got := ex.Wants(path, nil); got != want {
			t.Errorf("Wants(%q) = %v", path, got)
		}
	}
	res, err := ex.Extract(context.Background(), &extract.Input{Path: "lib/apk/db/installed", Reader: bytes.NewReader(nil), Size: MaxInstalledSize + 1})
	if err != nil || len(res.Warnings) != 1 || len(res.Packages) != 0 {
		t.Errorf("oversize: %+v, %v", res, err)
	}
	_, err = ex.Extract(context.Background(), &extract.Input{Path: "lib/apk/db/installed", Reader: bytes.NewReader([]byte("P:a\n")), Size: 100})
	if err == nil || !strings.Contains(err.Error(), "lib/apk/db/installed") {
		t.Errorf("short reader: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ex.Extract(ctx, &extract.Input{Path: "lib/apk/db/installed", Reader: bytes.NewReader(nil)}); err == nil {
		t.Error("cancelled: no error")
	}
}

func FuzzInstalled(f *testing.F) {
	data, err := os.ReadFile(testutil.Fixtures(f, "peer-suites", "pkgdb", "trivy-fanal", "pkg", "apk", "testdata", "apk"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("P:a\nV:1-r0\nF:../x\nR:y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := extractBytes(t, data)
		seen := map[string]bool{}
		for _, p := range res.Packages {
			if !validToken(p.Name) || !validToken(p.Version) || p.SourceName == "" || seen[p.Name] {
				t.Fatalf("bad package %+v", p)
			}
			seen[p.Name] = true
			for _, f := range p.Files {
				if f == "" || f == "." || strings.HasPrefix(f, "/") || f == ".." || strings.HasPrefix(f, "../") {
					t.Fatalf("bad file %q", f)
				}
			}
		}
	})
}
