package version_test

import (
	"testing"

	vv "github.com/vigilsec/vigil/version"
)

// benchPairs are typical installed-versus-advisory comparisons.
var benchPairs = []struct {
	scheme vv.Scheme
	a, b   string
}{
	{vv.Dpkg(), "1:2.38.1-5+deb12u3", "1:2.38.1-5+deb12u1"},
	{vv.RPM(), "1:2.32.1-42.el8_8", "2.32.1-43.el8"},
	{vv.APK(), "1.36.1-r5", "1.36.1_rc2-r0"},
	{vv.SemVer(), "4.17.15", "4.17.21"},
	{vv.Go(), "v0.0.0-20210405180319-a5a99cb37ef4", "v0.0.0-20211209124913-491a49abca63"},
	{vv.PEP440(), "2.31.0", "2.32.0rc1"},
	{vv.Maven(), "2.14.1", "2.17.0-rc1"},
	{vv.RubyGems(), "7.0.8.1", "7.0.8.4"},
	{vv.NuGet(), "13.0.1", "13.0.3-beta1"},
	{vv.Composer(), "v5.4.21", "5.4.46"},
}

// BenchmarkCompare measures the reference API: parse both strings, compare.
func BenchmarkCompare(b *testing.B) {
	for _, p := range benchPairs {
		b.Run(p.scheme.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.scheme.Compare(p.a, p.b); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParsedCompare measures Version.Compare on versions parsed once,
// as a matcher comparing one installed version with many range events does.
func BenchmarkParsedCompare(b *testing.B) {
	for _, p := range benchPairs {
		b.Run(p.scheme.Name(), func(b *testing.B) {
			x, err := p.scheme.Parse(p.a)
			if err != nil {
				b.Fatal(err)
			}
			y, err := p.scheme.Parse(p.b)
			if err != nil {
				b.Fatal(err)
			}
			if x.Compare(y) == 0 {
				b.Fatalf("%s and %s compare equal", p.a, p.b)
			}
			b.ReportAllocs()
			for b.Loop() {
				x.Compare(y)
			}
		})
	}
}
