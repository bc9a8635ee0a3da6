package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/layerfs"
)

func sample(id string) *layerfs.LayerResult {
	return &layerfs.LayerResult{
		DiffID: id,
		Files: []layerfs.FileResult{{Path: "var/lib/dpkg/status", Extractor: "dpkg", Result: &extract.Result{
			Packages: []inventory.Package{{Ecosystem: inventory.Deb, Name: "bash", Version: "5.2.15-2+b8", SourceName: "bash", SourceVersion: "5.2.15-2"}},
			Distro:   &inventory.Distro{Family: "debian", Version: "12"},
		}}},
		Dirs:      []uint64{1, 3},
		NonDirs:   []uint64{2},
		Whiteouts: []string{"a/b"},
		Count:     3,
		Bytes:     10,
	}
}

func TestRoundTripAndMiss(t *testing.T) {
	ctx := context.Background()
	c, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(ctx, "k1"); ok {
		t.Fatal("hit on an empty cache")
	}
	want := sample("sha256:aa")
	if err := c.Put(ctx, "k1", want); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(ctx, "k1")
	if !ok {
		t.Fatal("miss after put")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := c.Get(ctx, "k2"); ok {
		t.Error("hit for another key")
	}
}

func TestCorruptEntryIsAMiss(t *testing.T) {
	ctx := context.Background()
	c, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "k", sample("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.file("k"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(ctx, "k"); ok {
		t.Fatal("corrupt entry was a hit")
	}
	if _, err := os.Stat(c.file("k")); !os.IsNotExist(err) {
		t.Errorf("corrupt entry not removed: %v", err)
	}
}

func TestEvictionKeepsRecent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(dir, 1) // every put trims to the newest entries that fit
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1000, 0)
	c.now = func() time.Time { return clock }
	if err := c.Put(ctx, "old", sample("old")); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(c.file("old"), clock, clock)
	if err := c.Put(ctx, "new", sample("new")); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Stats()
	if st.Entries > 1 {
		t.Errorf("entries = %d, want the cache trimmed to its bound", st.Entries)
	}
	if _, ok := c.Get(ctx, "old"); ok {
		t.Error("least recently used entry survived")
	}
	if err := c.Clean(); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Stats(); st.Entries != 0 {
		t.Errorf("after clean: %d entries", st.Entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "layers")); err != nil {
		t.Errorf("clean removed the cache dir itself: %v", err)
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Open(dir, 0) // separate handles, as separate processes have
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 20; i++ {
				if err := c.Put(ctx, "shared", sample("s")); err != nil {
					t.Error(err)
				}
				if got, ok := c.Get(ctx, "shared"); ok && got.DiffID != "s" {
					t.Errorf("torn read: %+v", got)
				}
			}
		}()
	}
	wg.Wait()
}

// bigResult looks like a layer that installed packages with dpkg: a status
// file and one file list per package.
func bigResult() *layerfs.LayerResult {
	lr := &layerfs.LayerResult{DiffID: "sha256:big"}
	status := &extract.Result{}
	for i := 0; i < 150; i++ {
		name := fmt.Sprintf("package-%03d", i)
		status.Packages = append(status.Packages, inventory.Package{Ecosystem: inventory.Deb, Name: name, Version: "1.2.3-4+deb12u1", Arch: "amd64", SourceName: name, SourceVersion: "1.2.3-4"})
		var files []string
		for k := 0; k < 60; k++ {
			files = append(files, fmt.Sprintf("/usr/share/doc/%s/file-%03d.txt", name, k))
		}
		lr.Files = append(lr.Files, layerfs.FileResult{Path: "var/lib/dpkg/info/" + name + ".list", Extractor: "dpkg", Result: &extract.Result{
			Owned: []extract.Ownership{{Ecosystem: inventory.Deb, Package: name, Arch: "amd64", Files: files}},
		}})
	}
	lr.Files = append(lr.Files, layerfs.FileResult{Path: "var/lib/dpkg/status", Extractor: "dpkg", Result: status})
	for i := 0; i < 8000; i++ {
		lr.NonDirs = append(lr.NonDirs, uint64(i)*0x9e3779b97f4a7c15)
	}
	slices.Sort(lr.NonDirs)
	return lr
}

func BenchmarkPut(b *testing.B) {
	c, err := Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	lr := bigResult()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := c.Put(context.Background(), fmt.Sprint("k", i%4), lr); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRoundTripInChunks: an entry with more file results than one chunk
// holds comes back whole, and a truncated one is a miss.
func TestRoundTripInChunks(t *testing.T) {
	ctx := context.Background()
	c, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, chunkFiles, chunkFiles + 1, 3*chunkFiles + 5} {
		want := bigResult()
		want.Files = want.Files[:n]
		if n == 0 {
			want.Files = nil
		}
		key := fmt.Sprint("n", n)
		if err := c.Put(ctx, key, want); err != nil {
			t.Fatal(err)
		}
		got, ok := c.Get(ctx, key)
		if !ok {
			t.Fatalf("%d files: miss after put", n)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%d files (-want +got):\n%s", n, diff)
		}
	}
	// Cut the largest entry short, as a crash while writing can not (it is
	// renamed into place whole) but a full disk or a bad copy can.
	p := c.file(fmt.Sprint("n", 3*chunkFiles+5))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(ctx, fmt.Sprint("n", 3*chunkFiles+5)); ok {
		t.Error("truncated entry was a hit")
	}
}
