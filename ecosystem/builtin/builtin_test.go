package builtin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestEveryEcosystemIsListed fails when a package under ecosystem/ has no
// line in this package: an ecosystem that is written but never run.
func TestEveryEcosystemIsListed(t *testing.T) {
	src, err := os.ReadFile("builtin.go")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(filepath.Join(testutil.RepoRoot(t), "ecosystem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "builtin" {
			continue
		}
		imp := `"github.com/vigilsec/vigil/ecosystem/` + d.Name() + `"`
		if !strings.Contains(string(src), imp) {
			t.Errorf("ecosystem/%s is not listed in builtin.go", d.Name())
		}
	}
}

func TestNamesUniqueAndVersioned(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range append(Image(), Lockfiles()...) {
		if e.Name() == "" || e.Version() < 1 {
			t.Errorf("extractor %T: name %q version %d", e, e.Name(), e.Version())
		}
		if seen[e.Name()] {
			t.Errorf("two extractors are named %q: the cache key would confuse them", e.Name())
		}
		seen[e.Name()] = true
	}
}
