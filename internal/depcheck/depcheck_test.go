// Package depcheck holds a test that keeps vigil's dependency direction:
// heavy libraries stay in the one place that needs them, and the core
// domain packages depend on nothing but the standard library and each other.
package depcheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

const module = "github.com/vigilsec/vigil"

// imports maps each non-test package directory to its imports.
func imports(t *testing.T) map[string][]string {
	root := testutil.RepoRoot(t)
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "out") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		for _, im := range f.Imports {
			s, _ := strconv.Unquote(im.Path.Value)
			out[pkg] = append(out[pkg], s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestOnlyImageImportsContainerRegistry(t *testing.T) {
	for pkg, ims := range imports(t) {
		for _, im := range ims {
			if strings.HasPrefix(im, "github.com/google/go-containerregistry") && pkg != "image" && !strings.HasPrefix(pkg, "image/") {
				t.Errorf("%s imports %s: only image/... may use go-containerregistry", pkg, im)
			}
			if strings.HasPrefix(im, "github.com/spf13/cobra") && pkg != "internal/cli" {
				t.Errorf("%s imports %s: only internal/cli may use the CLI library", pkg, im)
			}
		}
	}
}

func TestCorePackagesUseOnlyTheStandardLibrary(t *testing.T) {
	core := map[string]bool{"inventory": true, "extract": true, "version": true, "match": true}
	for pkg, ims := range imports(t) {
		if !core[pkg] {
			continue
		}
		for _, im := range ims {
			if isStd(im) {
				continue
			}
			rest, ok := strings.CutPrefix(im, module+"/")
			if ok && (core[rest] || rest == "vulndb" || rest == "report") && pkg == "match" {
				continue // the matcher reads the store and writes findings
			}
			if ok && core[rest] {
				continue
			}
			t.Errorf("%s imports %s: core packages import only the standard library and each other", pkg, im)
		}
	}
}
