package purl

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/inventory"
)

var (
	debian12  = &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm"}
	ubuntu    = &inventory.Distro{Family: "ubuntu", Version: "22.04", Codename: "jammy"}
	alpine    = &inventory.Distro{Family: "alpine", Version: "3.20.1"}
	rhel      = &inventory.Distro{Family: "rhel", Version: "9.4"}
	fedora    = &inventory.Distro{Family: "fedora", Version: "40"}
	amazon    = &inventory.Distro{Family: "amzn", Version: "2023"}
	leap      = &inventory.Distro{Family: "opensuse-leap", Version: "15.5"}
	sid       = &inventory.Distro{Family: "debian", Codename: "sid"}
	rocky     = &inventory.Distro{Family: "rocky", Version: "9.3"}
	almalinux = &inventory.Distro{Family: "almalinux", Version: "8.9"}
	centos    = &inventory.Distro{Family: "centos", Version: "7"}
)

func TestFor(t *testing.T) {
	tests := []struct {
		name string
		p    inventory.Package
		d    *inventory.Distro
		want string
	}{
		{"deb same source", inventory.Package{Ecosystem: inventory.Deb, Name: "curl", Version: "7.88.1-10+deb12u5", Arch: "amd64", SourceName: "curl", SourceVersion: "7.88.1-10+deb12u5"}, debian12,
			"pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"},
		{"deb source name differs", inventory.Package{Ecosystem: inventory.Deb, Name: "libc6", Version: "2.36-9+deb12u7", Arch: "amd64", SourceName: "glibc"}, debian12,
			"pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc"},
		{"deb binNMU source version differs", inventory.Package{Ecosystem: inventory.Deb, Name: "python3-yaml", Version: "6.0-3+b2", Arch: "amd64", SourceName: "pyyaml", SourceVersion: "6.0-3"}, debian12,
			"pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&distro=debian-12&upstream=pyyaml%406.0-3"},
		{"deb plus encoded", inventory.Package{Ecosystem: inventory.Deb, Name: "util-linux", Version: "2.38.1-5+deb12u3", Arch: "amd64"}, debian12,
			"pkg:deb/debian/util-linux@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12"},
		{"deb with epoch", inventory.Package{Ecosystem: inventory.Deb, Name: "attr", Version: "1:2.4.47-2+b1", Arch: "amd64"}, nil,
			"pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64"},
		{"ubuntu namespace", inventory.Package{Ecosystem: inventory.Deb, Name: "libssl3", Version: "3.0.2-0ubuntu1.15", Arch: "arm64", SourceName: "openssl"}, ubuntu,
			"pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.15?arch=arm64&distro=ubuntu-22.04&upstream=openssl"},
		{"deb codename only", inventory.Package{Ecosystem: inventory.Deb, Name: "bash", Version: "5.2.21-2", Arch: "amd64"}, sid,
			"pkg:deb/debian/bash@5.2.21-2?arch=amd64&distro=debian-sid"},
		{"apk", inventory.Package{Ecosystem: inventory.APK, Name: "busybox", Version: "1.36.1-r29", Arch: "x86_64", SourceName: "busybox"}, alpine,
			"pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.1"},
		{"apk origin differs", inventory.Package{Ecosystem: inventory.APK, Name: "libcrypto3", Version: "3.3.1-r0", Arch: "x86_64", SourceName: "openssl"}, alpine,
			"pkg:apk/alpine/libcrypto3@3.3.1-r0?arch=x86_64&distro=alpine-3.20.1&upstream=openssl"},
		{"rpm rhel epoch", inventory.Package{Ecosystem: inventory.RPM, Name: "openssl-libs", Version: "1:3.0.7-27.el9", Arch: "x86_64", SourceName: "openssl", SourceVersion: "1:3.0.7-27.el9"}, rhel,
			"pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl"},
		{"rpm fedora", inventory.Package{Ecosystem: inventory.RPM, Name: "curl", Version: "8.6.0-8.fc40", Arch: "x86_64"}, fedora,
			"pkg:rpm/fedora/curl@8.6.0-8.fc40?arch=x86_64&distro=fedora-40"},
		{"rpm amazon", inventory.Package{Ecosystem: inventory.RPM, Name: "glibc", Version: "2.34-52.amzn2023.0.8", Arch: "aarch64"}, amazon,
			"pkg:rpm/amazon/glibc@2.34-52.amzn2023.0.8?arch=aarch64&distro=amzn-2023"},
		{"rpm opensuse leap", inventory.Package{Ecosystem: inventory.RPM, Name: "libzypp", Version: "17.31.15-150400.3.49.1", Arch: "x86_64"}, leap,
			"pkg:rpm/opensuse/libzypp@17.31.15-150400.3.49.1?arch=x86_64&distro=opensuse-leap-15.5"},
		{"rpm rocky", inventory.Package{Ecosystem: inventory.RPM, Name: "bash", Version: "5.1.8-6.el9_1", Arch: "x86_64"}, rocky,
			"pkg:rpm/rocky/bash@5.1.8-6.el9_1?arch=x86_64&distro=rocky-9.3"},
		{"rpm almalinux modularity", inventory.Package{Ecosystem: inventory.RPM, Name: "nodejs", Version: "1:18.19.0-1.module_el8.9.0+3708+c4fc4f4d", Arch: "x86_64", Modularity: "nodejs:18:8090020231211000000:a75119d5"}, almalinux,
			"pkg:rpm/almalinux/nodejs@18.19.0-1.module_el8.9.0%2B3708%2Bc4fc4f4d?arch=x86_64&distro=almalinux-8.9&epoch=1&modularitylabel=nodejs:18:8090020231211000000:a75119d5"},
		{"rpm centos", inventory.Package{Ecosystem: inventory.RPM, Name: "openssl", Version: "1:1.0.2k-26.el7_9", Arch: "x86_64"}, centos,
			"pkg:rpm/centos/openssl@1.0.2k-26.el7_9?arch=x86_64&distro=centos-7&epoch=1"},
		{"rpm no distro", inventory.Package{Ecosystem: inventory.RPM, Name: "centerim", Version: "4.22.10-1.el6", Arch: "i686"}, nil,
			"pkg:rpm/centerim@4.22.10-1.el6?arch=i686"},
		{"golang module", inventory.Package{Ecosystem: inventory.Go, Name: "golang.org/x/net", Version: "v0.0.0-20210405180319-a5a99cb37ef4"}, debian12,
			"pkg:golang/golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4"},
		{"golang incompatible", inventory.Package{Ecosystem: inventory.Go, Name: "github.com/dgrijalva/jwt-go", Version: "v3.2.0+incompatible"}, nil,
			"pkg:golang/github.com/dgrijalva/jwt-go@v3.2.0%2Bincompatible"},
		{"golang mixed case lowercased", inventory.Package{Ecosystem: inventory.Go, Name: "github.com/BurntSushi/toml", Version: "v1.3.2"}, nil,
			"pkg:golang/github.com/burntsushi/toml@v1.3.2"},
		{"golang stdlib", inventory.Package{Ecosystem: inventory.Go, Name: "stdlib", Version: "go1.26.8", Toolchain: true}, nil,
			"pkg:golang/stdlib@v1.26.8"},
		{"golang stdlib plain version", inventory.Package{Ecosystem: inventory.Go, Name: "stdlib", Version: "1.22.1"}, nil,
			"pkg:golang/stdlib@v1.22.1"},
		{"npm", inventory.Package{Ecosystem: inventory.NPM, Name: "express", Version: "4.17.1"}, debian12,
			"pkg:npm/express@4.17.1"},
		{"npm scoped", inventory.Package{Ecosystem: inventory.NPM, Name: "@babel/core", Version: "7.24.0"}, nil,
			"pkg:npm/%40babel/core@7.24.0"},
		{"pypi lowercase", inventory.Package{Ecosystem: inventory.PyPI, Name: "PyYAML", Version: "6.0.1"}, debian12,
			"pkg:pypi/pyyaml@6.0.1"},
		{"pypi underscore", inventory.Package{Ecosystem: inventory.PyPI, Name: "typing_extensions", Version: "4.12.2"}, nil,
			"pkg:pypi/typing-extensions@4.12.2"},
		{"maven", inventory.Package{Ecosystem: inventory.Maven, Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1"}, nil,
			"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		{"maven group in name", inventory.Package{Ecosystem: inventory.Maven, Name: "org.apache.xmlgraphics:batik-anim", Version: "1.9.1"}, nil,
			"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1"},
		{"cargo", inventory.Package{Ecosystem: inventory.Cargo, Name: "rand", Version: "0.7.2"}, nil, "pkg:cargo/rand@0.7.2"},
		{"gem", inventory.Package{Ecosystem: inventory.Gem, Name: "ruby-advisory-db-check", Version: "0.12.4"}, nil, "pkg:gem/ruby-advisory-db-check@0.12.4"},
		{"composer", inventory.Package{Ecosystem: inventory.Composer, Name: "laravel/laravel", Version: "5.5.0"}, nil, "pkg:composer/laravel/laravel@5.5.0"},
		{"nuget keeps case", inventory.Package{Ecosystem: inventory.NuGet, Name: "EnterpriseLibrary.Common", Version: "6.0.1304"}, nil, "pkg:nuget/EnterpriseLibrary.Common@6.0.1304"},
		{"no version", inventory.Package{Ecosystem: inventory.Cargo, Name: "clap"}, nil, "pkg:cargo/clap"},
		{"unknown ecosystem", inventory.Package{Ecosystem: "conda", Name: "numpy", Version: "1.0"}, nil, ""},
		{"no name", inventory.Package{Ecosystem: inventory.Deb, Version: "1.0"}, debian12, ""},
		{"scoped npm without name", inventory.Package{Ecosystem: inventory.NPM, Name: "@scope/", Version: "1.0"}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := For(&tc.p, tc.d)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("For() mismatch (-want +got):\n%s", diff)
			}
			if got == "" {
				return
			}
			// The inverse reads back the same URL and the same release.
			p, d, err := Parse(got)
			if err != nil {
				t.Fatalf("Parse(%q): %v", got, err)
			}
			if p.PURL != got {
				t.Errorf("Parse(%q).PURL = %q, not a fixed point", got, p.PURL)
			}
			if p.Ecosystem != tc.p.Ecosystem || p.Version != tc.p.Version && p.Ecosystem != inventory.Go {
				t.Errorf("Parse(%q) = %s %s, want %s %s", got, p.Ecosystem, p.Version, tc.p.Ecosystem, tc.p.Version)
			}
			if tc.d != nil && tc.p.Ecosystem.IsOS() {
				want := &inventory.Distro{Family: tc.d.Family, Version: tc.d.Version}
				if tc.d.Version == "" {
					want.Codename = tc.d.Codename
				}
				if diff := cmp.Diff(want, d); diff != "" {
					t.Errorf("Parse(%q) distro mismatch (-want +got):\n%s", got, diff)
				}
			}
		})
	}
}

func TestForNil(t *testing.T) {
	if got := For(nil, debian12); got != "" {
		t.Errorf("For(nil) = %q, want empty", got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in    string
		want  inventory.Package
		wantD *inventory.Distro
	}{
		{"pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
			inventory.Package{Ecosystem: inventory.Deb, Name: "curl", Version: "7.50.3-1", Arch: "i386", PURL: "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=debian-jessie"},
			&inventory.Distro{Family: "debian", Codename: "jessie"}},
		{"pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64",
			inventory.Package{Ecosystem: inventory.Deb, Name: "dpkg", Version: "1.19.0.4", Arch: "amd64", PURL: "pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64"},
			&inventory.Distro{Family: "ubuntu"}},
		{"pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64",
			inventory.Package{Ecosystem: inventory.Deb, Name: "attr", Version: "1:2.4.47-2+b1", Arch: "amd64", PURL: "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64"},
			&inventory.Distro{Family: "debian"}},
		{"pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&distro=debian-12&upstream=pyyaml%406.0-3",
			inventory.Package{Ecosystem: inventory.Deb, Name: "python3-yaml", Version: "6.0-3+b2", Arch: "amd64", SourceName: "pyyaml", SourceVersion: "6.0-3",
				PURL: "pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&distro=debian-12&upstream=pyyaml%406.0-3"},
			&inventory.Distro{Family: "debian", Version: "12"}},
		{"pkg:apk/alpine/curl@7.83.0-r0?arch=x86",
			inventory.Package{Ecosystem: inventory.APK, Name: "curl", Version: "7.83.0-r0", Arch: "x86", PURL: "pkg:apk/alpine/curl@7.83.0-r0?arch=x86"},
			&inventory.Distro{Family: "alpine"}},
		{"pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
			inventory.Package{Ecosystem: inventory.RPM, Name: "curl", Version: "7.50.3-1.fc25", Arch: "i386", PURL: "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25"},
			&inventory.Distro{Family: "fedora", Version: "25"}},
		{"pkg:rpm/centerim@4.22.10-1.el6?arch=i686&epoch=1&distro=fedora-25",
			inventory.Package{Ecosystem: inventory.RPM, Name: "centerim", Version: "1:4.22.10-1.el6", Arch: "i686", PURL: "pkg:rpm/fedora/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1"},
			&inventory.Distro{Family: "fedora", Version: "25"}},
		{"pkg:rpm/opensuse/curl@7.56.1-1.1.?arch=i386&distro=opensuse-tumbleweed",
			inventory.Package{Ecosystem: inventory.RPM, Name: "curl", Version: "7.56.1-1.1.", Arch: "i386", PURL: "pkg:rpm/opensuse/curl@7.56.1-1.1.?arch=i386&distro=opensuse-tumbleweed"},
			&inventory.Distro{Family: "opensuse", Codename: "tumbleweed"}},
		{"pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl",
			inventory.Package{Ecosystem: inventory.RPM, Name: "openssl-libs", Version: "1:3.0.7-27.el9", Arch: "x86_64", SourceName: "openssl",
				PURL: "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl"},
			&inventory.Distro{Family: "rhel", Version: "9.4"}},
		{"pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c",
			inventory.Package{Ecosystem: inventory.Go, Name: "github.com/gorilla/context", Version: "234fd47e07d1004f0aed9c", PURL: "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c"}, nil},
		{"pkg:golang/google.golang.org/genproto#googleapis/api/annotations",
			inventory.Package{Ecosystem: inventory.Go, Name: "google.golang.org/genproto", PURL: "pkg:golang/google.golang.org/genproto"}, nil},
		{"pkg:golang/stdlib@v1.26.8",
			inventory.Package{Ecosystem: inventory.Go, Name: "stdlib", Version: "go1.26.8", Toolchain: true, PURL: "pkg:golang/stdlib@v1.26.8"}, nil},
		{"pkg:npm/%40angular/animation@12.3.1",
			inventory.Package{Ecosystem: inventory.NPM, Name: "@angular/animation", Version: "12.3.1", PURL: "pkg:npm/%40angular/animation@12.3.1"}, nil},
		{"pkg:npm/mypackage@12.4.5?vcs_url=git://host.com/path/to/repo.git%404345abcd34343",
			inventory.Package{Ecosystem: inventory.NPM, Name: "mypackage", Version: "12.4.5", PURL: "pkg:npm/mypackage@12.4.5"}, nil},
		{"pkg:pypi/django-allauth@12.23",
			inventory.Package{Ecosystem: inventory.PyPI, Name: "django-allauth", Version: "12.23", PURL: "pkg:pypi/django-allauth@12.23"}, nil},
		{"pkg:pypi/Django_package@1.11.1.dev1",
			inventory.Package{Ecosystem: inventory.PyPI, Name: "django-package", Version: "1.11.1.dev1", PURL: "pkg:pypi/django-package@1.11.1.dev1"}, nil},
		{"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?type=pom",
			inventory.Package{Ecosystem: inventory.Maven, Group: "org.apache.xmlgraphics", Name: "batik-anim", Version: "1.9.1", PURL: "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1"}, nil},
		{"pkg:cargo/rand@0.7.2",
			inventory.Package{Ecosystem: inventory.Cargo, Name: "rand", Version: "0.7.2", PURL: "pkg:cargo/rand@0.7.2"}, nil},
		{"pkg:gem/jruby-launcher@1.1.2?platform=java",
			inventory.Package{Ecosystem: inventory.Gem, Name: "jruby-launcher", Version: "1.1.2", PURL: "pkg:gem/jruby-launcher@1.1.2"}, nil},
		{"pkg:composer/laravel/laravel@5.5.0",
			inventory.Package{Ecosystem: inventory.Composer, Name: "laravel/laravel", Version: "5.5.0", PURL: "pkg:composer/laravel/laravel@5.5.0"}, nil},
		{"pkg:nuget/EnterpriseLibrary.Common@6.0.1304",
			inventory.Package{Ecosystem: inventory.NuGet, Name: "EnterpriseLibrary.Common", Version: "6.0.1304", PURL: "pkg:nuget/EnterpriseLibrary.Common@6.0.1304"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, d, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, p); diff != "" {
				t.Errorf("package mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantD, d); diff != "" {
				t.Errorf("distro mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in    string
		unsupported bool
	}{
		{"not a purl", "curl@7.88.1", false},
		{"missing name", "pkg:deb/", false},
		{"docker type", "pkg:docker/cassandra@latest", true},
		{"github type", "pkg:github/package-url/purl-spec@244fd47e07d1004f0aed9c", true},
		{"non-numeric epoch", "pkg:rpm/fedora/curl@1.0?epoch=x", false},
		{"upstream without name", "pkg:deb/debian/x@1?upstream=%40v", false},
		{"pypi namespace", "pkg:pypi/ns/name@1", false},
		{"bad escape", "pkg:npm/%zz@1", false},
		{"too long", "pkg:npm/" + strings.Repeat("a", MaxLen), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", tc.in)
			}
			if !strings.HasPrefix(err.Error(), "purl: parse ") {
				t.Errorf("error %q lacks the purl: parse prefix", err)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v (err %v)", got, tc.unsupported, err)
			}
		})
	}
}

// TestSpecExamplesFixedPoint reads every example PURL and checks that what
// Parse returns is a fixed point: parsing its canonical URL gives the same
// package and release.
func TestSpecExamplesFixedPoint(t *testing.T) {
	n := 0
	for _, s := range seeds(t) {
		p, d, err := Parse(s)
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		n++
		checkFixedPoint(t, p, d)
	}
	if n < 30 {
		t.Errorf("only %d examples parsed; testdata/spec-examples.txt is truncated?", n)
	}
}

func checkFixedPoint(t *testing.T, p inventory.Package, d *inventory.Distro) {
	t.Helper()
	if p.PURL == "" {
		t.Fatalf("Parse returned %+v without a PURL", p)
	}
	p2, d2, err := Parse(p.PURL)
	if err != nil {
		t.Fatalf("Parse(canonical %q): %v", p.PURL, err)
	}
	if diff := cmp.Diff(p, p2); diff != "" {
		t.Errorf("canonical %q reads back differently (-first +second):\n%s", p.PURL, diff)
	}
	if diff := cmp.Diff(d, d2); diff != "" {
		t.Errorf("canonical %q distro reads back differently (-first +second):\n%s", p.PURL, diff)
	}
}

func seeds(t testing.TB) []string {
	f, err := os.Open("testdata/spec-examples.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, d, err := Parse(s)
		if err != nil {
			return
		}
		checkFixedPoint(t, p, d)
	})
}
