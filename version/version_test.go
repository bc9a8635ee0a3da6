package version_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
	vv "github.com/vigilsec/vigil/version"
)

func TestForEcosystem(t *testing.T) {
	tests := []struct {
		eco  inventory.Ecosystem
		want string
	}{
		{inventory.Deb, "dpkg"},
		{inventory.RPM, "rpm"},
		{inventory.APK, "apk"},
		{inventory.NPM, "semver"},
		{inventory.Cargo, "semver"},
		{inventory.Go, "go"},
		{inventory.PyPI, "pep440"},
		{inventory.Maven, "maven"},
		{inventory.Gem, "rubygems"},
		{inventory.NuGet, "nuget"},
		{inventory.Composer, "composer"},
		{"hackage", ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.eco), func(t *testing.T) {
			s, ok := vv.ForEcosystem(tc.eco)
			got := ""
			if ok {
				got = s.Name()
			}
			if got != tc.want {
				t.Errorf("ForEcosystem(%q) = %q, want %q", tc.eco, got, tc.want)
			}
		})
	}
}

// TestCompare pins the rules each scheme documents, beyond the vector files.
func TestCompare(t *testing.T) {
	tests := []struct {
		scheme vv.Scheme
		a, b   string
		want   int
	}{
		// dpkg: '~' before everything, letters before other characters,
		// bytes >= 0x80 between letters and other characters (dpkg reads
		// them as negative chars), epochs first, warnings still compare.
		{vv.Dpkg(), "1.0~rc1", "1.0", -1},
		{vv.Dpkg(), "1.0~~", "1.0~", -1},
		{vv.Dpkg(), "1:0.9", "2.0", 1},
		{vv.Dpkg(), "1.0-1", "1.0-1+b1", -1},
		{vv.Dpkg(), "1.0a", "1.0+", -1},
		{vv.Dpkg(), "1.0z", "1.0\xc3\xa9", -1},
		{vv.Dpkg(), "1.0\xc3\xa9", "1.0+", -1},
		{vv.Dpkg(), "0:1.0", "1.0-0", 0},
		{vv.Dpkg(), "abc", "1", 1},
		{vv.Dpkg(), " 1.0 ", "1.0", 0},
		{vv.Dpkg(), "1:2:3-4-5", "1:2:3-4-5", 0},
		// rpm
		{vv.RPM(), "1.0~rc1", "1.0", -1},
		{vv.RPM(), "1.0^git1", "1.0", 1},
		{vv.RPM(), "1.0^git1", "1.0.1", -1},
		{vv.RPM(), "1:1.0", "2.0", 1},
		{vv.RPM(), "1.0", "1.0-1", -1},
		{vv.RPM(), "1.0-1.el8", "1.0-1.el8_8", -1},
		{vv.RPM(), "a:1", "0:a:1", 0},
		// apk
		{vv.APK(), "1.2_rc1", "1.2", -1},
		{vv.APK(), "1.2_p1", "1.2", 1},
		{vv.APK(), "1.2_alpha", "1.2_beta", -1},
		{vv.APK(), "1.2-r1", "1.2", 1},
		{vv.APK(), "1.02", "1.1", -1},
		{vv.APK(), "1.2~abc1-r0", "1.2~abd-r0", -1},
		{vv.APK(), "1.2~abc1-r0", "1.2-r0", 1}, // apk-tools: a hash continues the version
		{vv.APK(), "1.2a", "1.2", 1},
		{vv.APK(), "1.2.3_rc1_p2", "1.2.3_rc1", 1},
		{vv.APK(), "1.0", "01.0", 0},
		{vv.APK(), "99999999999999999999999", "99999999999999999999998", 1},
		// SemVer
		{vv.SemVer(), "1.0.0-alpha", "1.0.0", -1},
		{vv.SemVer(), "1.0.0+build.1", "1.0.0+build.2", 0},
		{vv.SemVer(), "=v1.2.3", "1.2.3", 0},
		{vv.SemVer(), "1.0.0-rc.11", "1.0.0-rc.9", 1},
		{vv.SemVer(), "1.0.0-a-b", "1.0.0-a", 1},
		{vv.SemVer(), "1.2.30000000000000000000", "1.2.29999999999999999999", 1},
		// Go
		{vv.Go(), "go1.21", "go1.21rc1", -1},
		{vv.Go(), "go1.21rc1", "go1.21.0", -1},
		{vv.Go(), "go1.21beta1", "go1.21rc1", -1},
		{vv.Go(), "go1.20", "go1.20.0", 0},
		{vv.Go(), "go1.20", "v1.20.0", 0},
		{vv.Go(), "go1.20rc1", "go1.20", -1},
		{vv.Go(), "go1.21rc2", "v1.21.0-rc.2", 0},
		{vv.Go(), "go1.21", "v1.21.0-0", 0},
		{vv.Go(), "go1.22.3", "v1.22.3", 0},
		{vv.Go(), "go1.21-custom", "go1.21", 0},
		{vv.Go(), "v2.0.0+incompatible", "v2.0.0", 0},
		{vv.Go(), "v0.0.0-20200220183623-bac4c82f6975", "v0.0.0", -1},
		{vv.Go(), "v1.2.4-0.20200101000000-abcdef123456", "v1.2.3", 1},
		{vv.Go(), "v1", "v1.0.0", 0},
		// PEP 440
		{vv.PEP440(), "1.0RC1", "1.0rc1", 0},
		{vv.PEP440(), "1.0-post1", "1.0.post1", 0},
		{vv.PEP440(), "1.0.dev", "1.0.dev0", 0},
		{vv.PEP440(), "1.0", "1.0.0", 0},
		{vv.PEP440(), "1.0.dev0", "1.0a0", -1},
		{vv.PEP440(), "1.0a0", "1.0", -1},
		{vv.PEP440(), "1.0", "1.0.post0", -1},
		{vv.PEP440(), "1.0", "1.0+local", -1},
		{vv.PEP440(), "1.0+a", "1.0+1", -1},
		{vv.PEP440(), "1.0.post1.dev1", "1.0.post1", -1},
		{vv.PEP440(), "1!0.1", "2.0", 1},
		{vv.PEP440(), "1.0c1", "1.0rc1", 0},
		{vv.PEP440(), "1.0-1", "1.0.post1", 0},
		{vv.PEP440(), " v1.0 ", "1.0", 0},
		{vv.PEP440(), "1.0a-", "1.0a0", 0},
		// Maven
		{vv.Maven(), "1-alpha", "1-beta", -1},
		{vv.Maven(), "1-beta", "1-milestone", -1},
		{vv.Maven(), "1-milestone", "1-rc", -1},
		{vv.Maven(), "1-rc", "1-cr", 0},
		{vv.Maven(), "1-rc", "1-snapshot", -1},
		{vv.Maven(), "1-snapshot", "1", -1},
		{vv.Maven(), "1", "1-ga", 0},
		{vv.Maven(), "1-final", "1-release", 0},
		{vv.Maven(), "1", "1-sp", -1},
		{vv.Maven(), "1-sp", "1-abc", -1},
		{vv.Maven(), "1-abc", "1-abd", -1},
		{vv.Maven(), "1.0.0", "1", 0},
		{vv.Maven(), "1.0.0.RC1", "1.0.0-RC1", 0},
		{vv.Maven(), "1a1", "1-alpha-1", 0},
		{vv.Maven(), "1.0-SNAPSHOT", "1.0", -1},
		// RubyGems
		{vv.RubyGems(), "1.0.a", "1.0", -1},
		{vv.RubyGems(), "1.0-rc1", "1.0", -1},
		{vv.RubyGems(), "1.0.a10", "1.0.a9", 1},
		{vv.RubyGems(), "1.0.A", "1.0.a", -1},
		{vv.RubyGems(), "1.0.0", "1", 0},
		{vv.RubyGems(), "1.0.a.0", "1.0.a", 0},
		// NuGet
		{vv.NuGet(), "1.0.0-beta", "1.0.0-BETA", 0},
		{vv.NuGet(), "1.0", "1.0.0.0", 0},
		{vv.NuGet(), "1.0.0-1", "1.0.0-a", -1},
		{vv.NuGet(), "1.0.0--5", "1.0.0-0", -1},
		{vv.NuGet(), "1.0.0-beta", "1.0.0", -1},
		{vv.NuGet(), "1.0.0+a", "1.0.0+b", 0},
		{vv.NuGet(), "1.0.0-99999999999", "1.0.0-a", -1},
		// Composer
		{vv.Composer(), "v1.0.0", "1.0.0.0", 0},
		{vv.Composer(), "1.0-stable", "1.0", 0},
		{vv.Composer(), "1.0-RC1", "1.0rc1", 0},
		{vv.Composer(), "1.0-beta.2", "1.0b2", 0},
		{vv.Composer(), "1.0-p1", "1.0pl1", 0},
		{vv.Composer(), "1.0-patch1", "1.0", 1},
		{vv.Composer(), "1.0-dev", "1.0-alpha1", -1},
		{vv.Composer(), "1.0-alpha1-dev", "1.0-alpha1", -1},
		{vv.Composer(), "dev-master", "0.0.1", -1},
		{vv.Composer(), "master", "dev-master", 0},
		{vv.Composer(), "dev-a", "dev-b", -1},
		{vv.Composer(), "2.1.x-dev", "2.1.5", 1},
		{vv.Composer(), "1.0.0+build", "1.0.0", 0},
		{vv.Composer(), "1.0.0 as 2.0.0", "1.0.0", 0},
		{vv.Composer(), "1.0.0@beta", "1.0.0", 0},
		{vv.Composer(), "20190126.230843", "1234567890.12345", -1},
	}
	for _, tc := range tests {
		t.Run(tc.scheme.Name()+"/"+tc.a+"_vs_"+tc.b, func(t *testing.T) {
			got, err := tc.scheme.Compare(tc.a, tc.b)
			if err != nil {
				t.Fatalf("Compare(%q, %q): %v", tc.a, tc.b, err)
			}
			rev, err := tc.scheme.Compare(tc.b, tc.a)
			if err != nil {
				t.Fatalf("Compare(%q, %q): %v", tc.b, tc.a, err)
			}
			if diff := cmp.Diff([]int{tc.want, -tc.want}, []int{got, rev}); diff != "" {
				t.Errorf("Compare(%q, %q) and reverse (-want +got):\n%s", tc.a, tc.b, diff)
			}
		})
	}
}

// TestInvalid pins what each scheme rejects.
func TestInvalid(t *testing.T) {
	tests := []struct {
		scheme vv.Scheme
		v      string
		reason string // part of the error's reason
	}{
		{vv.Dpkg(), "", "empty"},
		{vv.Dpkg(), "a:1.0", "epoch in version is empty"},
		{vv.Dpkg(), "1a:1.0", "epoch in version is not number"},
		{vv.Dpkg(), "-1:1.0", "negative"},
		{vv.Dpkg(), "2147483648:1.0", "too big"},
		{vv.Dpkg(), "1:", "nothing after colon"},
		{vv.Dpkg(), "1.0-", "revision number is empty"},
		{vv.Dpkg(), "-1", "version number is empty"},
		{vv.Dpkg(), "1.0 2", "embedded spaces"},
		{vv.Dpkg(), "1.0\x00", "NUL"},
		{vv.RPM(), "", "empty"},
		{vv.RPM(), "1:", "version part"},
		{vv.RPM(), "2:-1", "version part"},
		{vv.APK(), "", "empty"},
		{vv.APK(), "a1", "start with a digit"},
		{vv.APK(), "1.2_foo", "unknown suffix"},
		{vv.APK(), "1.0bc", "second letter"},
		{vv.APK(), "6.6.2p1", "digits in an unexpected place"},
		{vv.APK(), "1-r", "without a number"},
		{vv.APK(), "1-r1-r2", "second revision"},
		{vv.APK(), "1.2~", "commit hash"},
		{vv.APK(), "1.2~ABC", "commit hash"},
		{vv.APK(), "1.2.", "not followed by digits"},
		{vv.SemVer(), "1.2", "MAJOR.MINOR.PATCH"},
		{vv.SemVer(), "1.2.3.4", "unexpected text"},
		{vv.SemVer(), "01.2.3", "leading zeros"},
		{vv.SemVer(), "1.2.3-01", "pre-release"},
		{vv.SemVer(), "1.2.3-", "pre-release"},
		{vv.SemVer(), "1.2.3+", "build"},
		{vv.SemVer(), "vv1.2.3", "major"},
		{vv.SemVer(), " 1.2.3", "major"},
		{vv.Go(), "1.2.3", `start with "v"`},
		{vv.Go(), "v1.2.3.4", "semantic version"},
		{vv.Go(), "v1.2-pre", "semantic version"},
		{vv.Go(), "go1.21.0rc1", "toolchain"},
		{vv.Go(), "go01.21", "toolchain"},
		{vv.Go(), "", `start with "v"`},
		{vv.PEP440(), "1.0-foo", "PEP 440"},
		{vv.PEP440(), "", "empty"},
		{vv.PEP440(), "1.0+", "PEP 440"},
		{vv.PEP440(), "1.0\xc3\xa9", "non-ASCII"},
		{vv.Maven(), "", "empty"},
		{vv.Maven(), "1.0-\xc3\xa9", "non-ASCII"},
		{vv.RubyGems(), "", "empty"},
		{vv.RubyGems(), "1beta", "malformed"},
		{vv.RubyGems(), ".1", "malformed"},
		{vv.RubyGems(), "1..2", "malformed"},
		{vv.NuGet(), "", "empty"},
		{vv.NuGet(), "1.0.0-", "ends with"},
		{vv.NuGet(), "1.0.0-a+", "ends with"},
		{vv.NuGet(), "1.0.0-01", "release label"},
		{vv.NuGet(), "1.2.3.4.5", "more than 4"},
		{vv.NuGet(), "2147483648.0", "larger than"},
		{vv.NuGet(), "1.0.0+a..b", "metadata"},
		{vv.Composer(), "1.2.3.#", "normalize"},
		{vv.Composer(), "4.3-2RC1", "normalize"},
		{vv.Composer(), "feature-x", "normalize"},
		{vv.Composer(), "dev-", "without a name"},
	}
	for _, tc := range tests {
		t.Run(tc.scheme.Name()+"/"+tc.v, func(t *testing.T) {
			err := tc.scheme.Valid(tc.v)
			var ie *vv.InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, vv.ErrInvalid) {
				t.Fatalf("Valid(%q) = %v, want an *InvalidError", tc.v, err)
			}
			if ie.Scheme != tc.scheme.Name() || ie.Version != tc.v || !strings.Contains(ie.Reason, tc.reason) {
				t.Errorf("Valid(%q) = %+v, want scheme %s and a reason containing %q", tc.v, ie, tc.scheme.Name(), tc.reason)
			}
			if !strings.Contains(err.Error(), tc.scheme.Name()) {
				t.Errorf("error %q does not name the scheme", err)
			}
			if _, err := tc.scheme.Compare("1.0.0", tc.v); !errors.Is(err, vv.ErrInvalid) {
				t.Errorf("Compare with %q: error %v, want ErrInvalid", tc.v, err)
			}
		})
	}
}

func allSchemes() []vv.Scheme {
	return []vv.Scheme{vv.Dpkg(), vv.RPM(), vv.APK(), vv.SemVer(), vv.Go(), vv.PEP440(), vv.Maven(), vv.RubyGems(), vv.NuGet(), vv.Composer()}
}

func TestMaxLen(t *testing.T) {
	// A Go version of exactly MaxLen bytes is valid; one byte more is not,
	// in any scheme.
	long := "v1.0.0-" + strings.Repeat("a", vv.MaxLen-7)
	for _, s := range allSchemes() {
		t.Run(s.Name(), func(t *testing.T) {
			if err := s.Valid(long + "0"); !errors.Is(err, vv.ErrInvalid) || !strings.Contains(err.Error(), "longer than") {
				t.Errorf("Valid(%d bytes) = %v, want a too-long error", len(long)+1, err)
			}
		})
	}
	if err := vv.Go().Valid(long); err != nil {
		t.Errorf("Go().Valid(%d bytes) = %v, want nil", len(long), err)
	}
}

func TestVersionAcrossSchemes(t *testing.T) {
	d, err := vv.Dpkg().Parse("1.0")
	if err != nil {
		t.Fatal(err)
	}
	r, err := vv.RPM().Parse("1.0")
	if err != nil {
		t.Fatal(err)
	}
	var zero vv.Version
	got := []int{d.Compare(r), r.Compare(d), zero.Compare(d), d.Compare(zero), zero.Compare(zero), d.Compare(d)}
	// "dpkg" < "rpm"; the zero Version has scheme "" and sorts first.
	if diff := cmp.Diff([]int{-1, 1, -1, 1, 0, 0}, got); diff != "" {
		t.Errorf("cross-scheme comparisons (-want +got):\n%s", diff)
	}
}

var secfixVersion = regexp.MustCompile(`(?m)^\s+'?([0-9][^:'\s]*)'?:\s*$`)

// secdbTypos are fixed versions in the Alpine secdb fixtures that apk-tools
// rejects (typos in the feed: the packages really had e.g. 4.8.0-r1). A
// matcher cannot compare them and must say so.
var secdbTypos = []string{
	"0.12.5.-r0", "0.8.21.r2", "1.0.4.-r0", "1.11-20-r0", "1.18.-r2", "1.7.5.-r1",
	"10.2.22.r0", "10.2.24.r0", "10.2.26.r0", "2.15.r-r1", "2.7.16-33", "4.10-1-r1",
	"4.8.0.-r1", "57-1-r2", "6.6.2p1-r0",
}

// TestAPKSecdbVersions reads every fixed version of the Alpine secdb
// fixtures: real apk versions must parse, and the feed's typos must not.
func TestAPKSecdbVersions(t *testing.T) {
	paths, err := filepath.Glob(testutil.Fixtures(t, "vulndata", "Alpine", "alpine-secdb", "*", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no secdb files: %v", err)
	}
	var invalid []string
	n := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range secfixVersion.FindAllStringSubmatch(string(data), -1) {
			n++
			if err := vv.APK().Valid(m[1]); err != nil {
				invalid = append(invalid, m[1])
			}
		}
	}
	slices.Sort(invalid)
	invalid = slices.Compact(invalid)
	if diff := cmp.Diff(secdbTypos, invalid); diff != "" {
		t.Errorf("invalid secdb versions (-want +got):\n%s", diff)
	}
	if n < 1000 {
		t.Errorf("read only %d secdb versions", n)
	}
	t.Logf("%d secdb versions read, %d distinct typos rejected", n, len(invalid))
}

// TestMavenCycle pins a cycle of Maven's own order that vigil reproduces
// (checked against Maven 3.8.7): a trailing '.' leaves the unknown qualifier
// "a" in the top list of 1.A., where it sorts above the release 1 but below
// the sub-list [alpha] of 1A0.
func TestMavenCycle(t *testing.T) {
	m := vv.Maven()
	var got []int
	for _, p := range [][2]string{{"1.A.", "1A0"}, {"1A0", "1"}, {"1", "1.A."}} {
		c, err := m.Compare(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if diff := cmp.Diff([]int{-1, -1, -1}, got); diff != "" {
		t.Errorf("Maven cycle (-want +got):\n%s", diff)
	}
}
