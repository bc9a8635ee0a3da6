package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vigilsec/vigil/audit/content"
	"github.com/vigilsec/vigil/audit/secrets"
	"github.com/vigilsec/vigil/cache"
	"github.com/vigilsec/vigil/ecosystem/builtin"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image/resolve"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/scan"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestManyScansLeakNothing scans the sample image 50 times in one process,
// as a server would, cold and warm: open files and goroutines must come
// back to where they started, and no temporary file may be left.
func TestManyScansLeakNothing(t *testing.T) {
	tmp := t.TempDir()
	c, err := cache.Open(filepath.Join(tmp, "cache"), 0)
	if err != nil {
		t.Fatal(err)
	}
	svc := &scan.Service{Open: resolve.Open, ImageExtractors: builtin.ImageRegistry(), Cache: c,
		TempDir: filepath.Join(tmp, "tmp"), Tool: report.Tool{Name: "vigil"}}
	os.MkdirAll(svc.TempDir, 0o700)
	ref := "oci-dir:" + filepath.Join(testutil.RepoRoot(t), "examples", "sample", "image")
	run := func(noCache bool) int {
		r, err := svc.Inventory(context.Background(), ref, scan.Options{NoCache: noCache, Extra: []extract.Extractor{secrets.New(), content.New()}})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Inventory.Packages)
	}
	want := run(true) // warm up lazily initialised state
	fds, gs := openFDs(t), runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		if n := run(i%2 == 0); n != want {
			t.Fatalf("scan %d: %d packages, want %d", i, n, want)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > gs && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := openFDs(t); got > fds {
		t.Errorf("open files grew from %d to %d over 50 scans", fds, got)
	}
	if got := runtime.NumGoroutine(); got > gs {
		t.Errorf("goroutines grew from %d to %d over 50 scans", gs, got)
	}
	if left, _ := os.ReadDir(svc.TempDir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
