package version_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/version"
)

// vectorFiles maps each comparison-vector file of
// peer-suites/version-vectors to the scheme that must reproduce it.
var vectorFiles = map[string]version.Scheme{
	"go-apk-version/version.data":                  version.APK(),
	"osv-scalibr/alpine-versions.txt":              version.APK(),
	"osv-scalibr/alpine-versions-generated.txt":    version.APK(),
	"osv-scalibr/debian-versions.txt":              version.Dpkg(),
	"osv-scalibr/debian-versions-generated.txt":    version.Dpkg(),
	"osv-scalibr/maven-versions.txt":               version.Maven(),
	"osv-scalibr/maven-versions-generated.txt":     version.Maven(),
	"osv-scalibr/nuget-versions.txt":               version.NuGet(),
	"osv-scalibr/packagist-versions.txt":           version.Composer(),
	"osv-scalibr/packagist-versions-generated.txt": version.Composer(),
	"osv-scalibr/pypi-versions.txt":                version.PEP440(),
	"osv-scalibr/pypi-versions-generated.txt":      version.PEP440(),
	"osv-scalibr/redhat-versions.txt":              version.RPM(),
	"osv-scalibr/rubygems-versions.txt":            version.RubyGems(),
	"osv-scalibr/rubygems-versions-generated.txt":  version.RubyGems(),
	"osv-scalibr/semver-versions.txt":              version.SemVer(),
}

// otherEcosystems are vector files for ecosystems vigil has no scheme for.
var otherEcosystems = map[string]string{
	"osv-scalibr/cran-versions.txt":           "CRAN (R) is not an ecosystem vigil scans",
	"osv-scalibr/cran-versions-generated.txt": "CRAN (R) is not an ecosystem vigil scans",
	"osv-scalibr/hackage-versions.txt":        "Hackage (Haskell) is not an ecosystem vigil scans",
	"osv-scalibr/pub-versions.txt":            "pub (Dart) is not an ecosystem vigil scans",
}

type vector struct {
	line int
	text string
	a, b string
	op   string
	want int
}

func readVectors(t testing.TB, path string) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open vectors: %v", err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) > 3 && strings.HasPrefix(fields[3], "#") {
			fields = fields[:3] // trailing comment
		}
		if len(fields) != 3 {
			t.Fatalf("%s:%d: cannot read %q as 'A op B'", path, n, line)
		}
		v := vector{line: n, a: fields[0], op: fields[1], b: fields[2]}
		v.text = v.a + " " + v.op + " " + v.b
		switch v.op {
		case "<":
			v.want = -1
		case "=":
			v.want = 0
		case ">":
			v.want = 1
		default:
			t.Fatalf("%s:%d: unknown operator %q", path, n, v.op)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	return out
}

func opOf(c int) string { return [...]string{"<", "=", ">"}[c+1] }

type exceptions struct {
	invalid map[string]string // version -> why
	differs map[string]string // "A op B" (our answer) -> why
	used    map[string]bool
}

func readExceptions(t *testing.T) map[string]*exceptions {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vector-exceptions.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*exceptions{}
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[3] == "" {
			t.Fatalf("vector-exceptions.tsv:%d: want file, kind, item, why", n+1)
		}
		e := out[f[0]]
		if e == nil {
			e = &exceptions{invalid: map[string]string{}, differs: map[string]string{}, used: map[string]bool{}}
			out[f[0]] = e
		}
		switch f[1] {
		case "invalid":
			e.invalid[f[2]] = f[3]
		case "differs":
			e.differs[f[2]] = f[3]
		default:
			t.Fatalf("vector-exceptions.tsv:%d: unknown kind %q", n+1, f[1])
		}
	}
	return out
}

// TestVectors checks every line of every vector file that belongs to one of
// vigil's schemes. Lines naming a version the scheme rejects must fail with
// ErrInvalid; lines where vigil follows a different release of the tool
// than the file's author must give vigil's answer; both are listed, with
// the reason, in testdata/vector-exceptions.tsv.
func TestVectors(t *testing.T) {
	root := testutil.Fixtures(t, "peer-suites", "version-vectors")
	exc := readExceptions(t)
	names := make([]string, 0, len(vectorFiles))
	for name := range vectorFiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s := vectorFiles[name]
			e := exc[name]
			if e == nil {
				e = &exceptions{used: map[string]bool{}}
			}
			var agree, invalid, differ int
			for _, v := range readVectors(t, filepath.Join(root, name)) {
				got, err := s.Compare(v.a, v.b)
				_, badA := e.invalid[v.a]
				_, badB := e.invalid[v.b]
				if badA || badB {
					if !errors.Is(err, version.ErrInvalid) {
						t.Errorf("line %d %q: got (%d, %v), want an ErrInvalid error (listed invalid)", v.line, v.text, got, err)
					}
					e.used[v.a], e.used[v.b] = true, true
					invalid++
					continue
				}
				if err != nil {
					t.Errorf("line %d %q: %v", v.line, v.text, err)
					continue
				}
				want := v.want
				ours := v.a + " " + opOf(got) + " " + v.b
				if _, ok := e.differs[ours]; ok && got != v.want {
					e.used[ours] = true
					differ++
					continue
				}
				if got != want {
					t.Errorf("line %d: %s Compare(%q, %q) = %s, file says %s", v.line, s.Name(), v.a, v.b, opOf(got), v.op)
					continue
				}
				agree++
			}
			for k := range e.invalid {
				if !e.used[k] {
					t.Errorf("vector-exceptions.tsv lists %q as invalid but no line of %s needs it", k, name)
				}
			}
			for k := range e.differs {
				if !e.used[k] {
					t.Errorf("vector-exceptions.tsv lists %q as a known difference but no line of %s needs it", k, name)
				}
			}
			t.Logf("%s: %d lines checked: %d agree, %d name an invalid version, %d known differences",
				name, agree+invalid+differ, agree, invalid, differ)
		})
	}
}

// TestVectorFilesCovered fails when a vector file appears that no test reads.
func TestVectorFilesCovered(t *testing.T) {
	root := testutil.Fixtures(t, "peer-suites", "version-vectors")
	var found []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), "README") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		found = append(found, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		_, ours := vectorFiles[f]
		_, other := otherEcosystems[f]
		if !ours && !other {
			t.Errorf("vector file %s is neither checked nor listed in otherEcosystems", f)
		}
	}
	if len(found) != len(vectorFiles)+len(otherEcosystems) {
		t.Errorf("found %d vector files, the test knows %d: %v", len(found), len(vectorFiles)+len(otherEcosystems), found)
	}
}
