package version_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
	vv "github.com/vigilsec/vigil/version"
)

// fuzzSeeds are the vector files whose versions seed each scheme's fuzzer.
var fuzzSeeds = map[string][]string{
	"dpkg":     {"osv-scalibr/debian-versions.txt", "osv-scalibr/debian-versions-generated.txt"},
	"rpm":      {"osv-scalibr/redhat-versions.txt"},
	"apk":      {"go-apk-version/version.data", "osv-scalibr/alpine-versions.txt"},
	"semver":   {"osv-scalibr/semver-versions.txt"},
	"go":       {"osv-scalibr/semver-versions.txt"},
	"pep440":   {"osv-scalibr/pypi-versions.txt", "osv-scalibr/pypi-versions-generated.txt"},
	"maven":    {"osv-scalibr/maven-versions.txt"},
	"rubygems": {"osv-scalibr/rubygems-versions.txt"},
	"nuget":    {"osv-scalibr/nuget-versions.txt"},
	"composer": {"osv-scalibr/packagist-versions.txt"},
}

// fuzzScheme checks, for any three strings, that Compare never panics, that
// Parse and Compare agree, that an error is an ErrInvalid naming the bad
// version, and that the order is an order: reflexive, antisymmetric and
// (except for Maven, see below) transitive.
func fuzzScheme(f *testing.F, s vv.Scheme, extra ...string) {
	// Maven's ComparableVersion itself has cycles, which vigil reproduces:
	// 1.a. < 1a0 < 1 < 1.a. (testdata/fuzz/FuzzMaven, TestMavenCycle).
	transitive := s.Name() != "maven"
	var seeds []string
	for _, rel := range fuzzSeeds[s.Name()] {
		for _, v := range readVectors(f, testutil.Fixtures(f, "peer-suites", "version-vectors", rel)) {
			seeds = append(seeds, v.a, v.b)
		}
	}
	seeds = append(seeds, extra...)
	rng := rand.New(rand.NewPCG(42, 42))
	for i := 0; i < 300 && len(seeds) > 0; i++ {
		f.Add(seeds[rng.IntN(len(seeds))], seeds[rng.IntN(len(seeds))], seeds[rng.IntN(len(seeds))])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		strs := []string{a, b, c}
		var ps []vv.Version
		for _, x := range strs {
			p, err := s.Parse(x)
			if verr := s.Valid(x); (verr == nil) != (err == nil) {
				t.Fatalf("Valid(%q) = %v but Parse error = %v", x, verr, err)
			}
			if err != nil {
				if !errors.Is(err, vv.ErrInvalid) {
					t.Fatalf("Parse(%q): error %v is not ErrInvalid", x, err)
				}
				if _, cerr := s.Compare(x, x); cerr == nil {
					t.Fatalf("Compare(%q, %q) accepted a version Parse rejects", x, x)
				}
				continue
			}
			if p.String() != x || p.Scheme() != s.Name() {
				t.Fatalf("Parse(%q) = %q of scheme %q", x, p.String(), p.Scheme())
			}
			if c, err := s.Compare(x, x); err != nil || c != 0 {
				t.Fatalf("Compare(%q, itself) = %d, %v", x, c, err)
			}
			ps = append(ps, p)
		}
		for i := range ps {
			for j := range ps {
				cij := ps[i].Compare(ps[j])
				if cji := ps[j].Compare(ps[i]); cij != -cji {
					t.Fatalf("not antisymmetric: %q vs %q = %d, reverse = %d", ps[i], ps[j], cij, cji)
				}
				if c, err := s.Compare(ps[i].String(), ps[j].String()); err != nil || c != cij {
					t.Fatalf("Compare(%q, %q) = %d, %v; parsed compare = %d", ps[i], ps[j], c, err, cij)
				}
				for k := range ps {
					cjk, cik := ps[j].Compare(ps[k]), ps[i].Compare(ps[k])
					if transitive && cij <= 0 && cjk <= 0 && cik > 0 {
						t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", ps[i], ps[j], ps[k], ps[i], ps[k])
					}
				}
			}
		}
	})
}

func FuzzDpkg(f *testing.F) {
	fuzzScheme(f, vv.Dpkg(), "1:2.3-4", "0:~~a-0~", "1.0\xc3\xa9", "a:1", " 1 ", "1:")
}
func FuzzRPM(f *testing.F) { fuzzScheme(f, vv.RPM(), "1:2.3-4.el8", "1.0^git1~pre", ":1", "1-", "-1") }
func FuzzAPK(f *testing.F) {
	fuzzScheme(f, vv.APK(), "1.2.3_rc1_p2~abc123-r4", "1.0_git20200101-r0", "01.02")
}
func FuzzSemVer(f *testing.F) {
	fuzzScheme(f, vv.SemVer(), "=v1.2.3-rc.1+build.5", "1.2.3-01", "v1.0.0")
}
func FuzzGo(f *testing.F) {
	fuzzScheme(f, vv.Go(), "v1.2.3", "go1.21rc2", "go1.21", "v0.0.0-20200220183623-bac4c82f6975", "v2.0.0+incompatible", "go1.21.0", "v1.21.0-0")
}
func FuzzPEP440(f *testing.F) {
	fuzzScheme(f, vv.PEP440(), "1!2.0rc1.post3.dev4+ubuntu.1", "1.0a-", "v1.0-1", "1.0.PREVIEW")
}
func FuzzMaven(f *testing.F) {
	fuzzScheme(f, vv.Maven(), "1.0-alpha-1-SNAPSHOT", "1-1.foo-bar1baz-.1", "1.0.0.RC1")
}
func FuzzRubyGems(f *testing.F) { fuzzScheme(f, vv.RubyGems(), "1.0.a.1", "1.0-rc1", " 2.0 ") }
func FuzzNuGet(f *testing.F)    { fuzzScheme(f, vv.NuGet(), "1.0.0.1-beta.X+meta", "1.0.0--5", "1.0-+x") }
func FuzzComposer(f *testing.F) {
	fuzzScheme(f, vv.Composer(), "v1.0.0-beta.2", "dev-master", "2.1.x-dev", "1.0 as 2.0", "1.0@dev", "20190126.230843")
}
