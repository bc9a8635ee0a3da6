package vulndb

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, name, want string }{
		{"PyPI", "Requests", "requests"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "Foo__Bar-._baz", "foo-bar-baz"},
		{"PyPI", " PyYAML ", "pyyaml"},
		{"PyPI", "_leading", "leading"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"Packagist", "Symfony/HTTP-Kernel", "symfony/http-kernel"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-core"},
		{"npm", "@Babel/Core", "@Babel/Core"},
		{"Go", "golang.org/x/net", "golang.org/x/net"},
		{"Debian:12", "util-linux", "util-linux"},
		{"crates.io", "Serde_JSON", "Serde_JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.eco+"/"+tt.name, func(t *testing.T) {
			if got := NormalizeName(tt.eco, tt.name); got != tt.want {
				t.Errorf("NormalizeName(%q, %q) = %q, want %q", tt.eco, tt.name, got, tt.want)
			}
		})
	}
}

func TestParseEcosystem(t *testing.T) {
	tests := []struct {
		in   string
		want Ecosystem
	}{
		{"Debian:12", Ecosystem{Name: "Debian", Release: "12"}},
		{"Alpine:v3.20", Ecosystem{Name: "Alpine", Release: "v3.20"}},
		{"Ubuntu:22.04:LTS", Ecosystem{Name: "Ubuntu", Release: "22.04", Qualifiers: []string{"LTS"}}},
		{"Ubuntu:Pro:FIPS-updates:18.04:LTS", Ecosystem{Name: "Ubuntu", Release: "18.04", Qualifiers: []string{"Pro", "FIPS-updates", "LTS"}}},
		{"Rocky Linux:9", Ecosystem{Name: "Rocky Linux", Release: "9"}},
		{"Red Hat:enterprise_linux:9::appstream", Ecosystem{Name: "Red Hat", Release: "9", Qualifiers: []string{"enterprise_linux", "appstream"}}},
		{"SUSE:Linux Enterprise Server 15 SP5", Ecosystem{Name: "SUSE", Release: "Linux Enterprise Server 15 SP5"}},
		{"Debian:sid", Ecosystem{Name: "Debian", Release: "sid"}},
		{"PyPI", Ecosystem{Name: "PyPI"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if d := cmp.Diff(tt.want, ParseEcosystem(tt.in)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestKnownEcosystems(t *testing.T) {
	if !slices.IsSorted(knownEcosystems[:]) {
		t.Fatal("knownEcosystems is not sorted: KnownEcosystem's binary search needs it")
	}
	for _, e := range DefaultEcosystems() {
		if !KnownEcosystem(e) {
			t.Errorf("default ecosystem %q is not known", e)
		}
	}
	for _, tt := range []struct {
		eco  string
		want bool
	}{{"Ubuntu:22.04:LTS", true}, {"crates.io", true}, {"GIT", false}, {"npmx", false}, {"", false}} {
		if got := KnownEcosystem(tt.eco); got != tt.want {
			t.Errorf("KnownEcosystem(%q) = %v, want %v", tt.eco, got, tt.want)
		}
	}
}

func TestCVEHelpers(t *testing.T) {
	for _, tt := range []struct {
		id, cve string
	}{
		{"CVE-2023-0286", "CVE-2023-0286"},
		{"DEBIAN-CVE-2021-3995", "CVE-2021-3995"},
		{"UBUNTU-CVE-2022-37434", "CVE-2022-37434"},
		{"CVE-2023-1", ""},
		{"CVE-20X3-1234", ""},
		{"GHSA-p6mc-m468-83gw", ""},
		{"-CVE-2023-1234", ""},
	} {
		if got := CVEOf(tt.id); got != tt.cve {
			t.Errorf("CVEOf(%q) = %q, want %q", tt.id, got, tt.cve)
		}
	}
	got := SortAliases([]string{"GHSA-1", "CVE-2020-1111", "", "PYSEC-2", "CVE-2019-2222", "GHSA-1"})
	want := []string{"CVE-2020-1111", "CVE-2019-2222", "GHSA-1", "PYSEC-2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SortAliases (-want +got):\n%s", d)
	}
}

func TestCheckFresh(t *testing.T) {
	built := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &Meta{Built: built}
	if err := m.CheckFresh(built.Add(time.Hour), 0); err != nil {
		t.Errorf("one hour old: %v", err)
	}
	err := m.CheckFresh(built.Add(100*time.Hour), 0)
	var se *StaleError
	if !errors.As(err, &se) || se.MaxAge != DefaultMaxAge || se.Age != 100*time.Hour {
		t.Errorf("100 hours old: %v, want a StaleError", err)
	}
	if err := m.CheckFresh(built.Add(2*time.Hour), time.Hour); err == nil {
		t.Error("two hours old with a one hour limit: no error")
	}
}
