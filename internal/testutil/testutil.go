// Package testutil finds the shared fixtures and offers small helpers that
// many packages' tests need. It is imported only from _test files.
package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate source file")
	}
	// file is <root>/internal/testutil/testutil.go
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Fixtures returns the path of the shared fixtures folder that lives beside
// the checkout (../shared/fixtures), joined with the given elements. The
// test fails when the folder is missing: CI always has it.
func Fixtures(t testing.TB, elem ...string) string {
	t.Helper()
	dir := os.Getenv("VIGIL_FIXTURES")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "fixtures")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("testutil: shared fixtures not found at %s (set VIGIL_FIXTURES): %v", dir, err)
	}
	return filepath.Join(append([]string{dir}, elem...)...)
}

// CacheDir returns a directory for expensive, reusable test artefacts (a
// debootstrap'd root file system, built images), kept between test runs in
// the user cache directory, or VIGIL_TEST_CACHE when set.
func CacheDir(t testing.TB, name string) string {
	t.Helper()
	base := os.Getenv("VIGIL_TEST_CACHE")
	if base == "" {
		uc, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("testutil: no user cache dir: %v", err)
		}
		base = filepath.Join(uc, "vigil-test")
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return dir
}
