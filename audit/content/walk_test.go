package content_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/content"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/layerfs"
)

// entry is one tar entry: a directory when name ends in "/".
type entry struct {
	name string
	mode int64
	size int
}

func layer(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: tar.TypeReg, Size: int64(e.size)}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(make([]byte, h.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func walk(t *testing.T, img *image.Image) *inventory.Inventory {
	t.Helper()
	res, err := layerfs.Walk(context.Background(), img, layerfs.Options{
		Registry: extract.NewRegistry(content.New()), TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Inventory
}

func imageOf(layers ...[]byte) *image.Image {
	img := &image.Image{}
	for _, b := range layers {
		sum := sha256.Sum256(b)
		img.Layers = append(img.Layers, image.Layer{
			DiffID: "sha256:" + hex.EncodeToString(sum[:]),
			Size:   int64(len(b)),
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(b)), nil
			},
		})
	}
	return img
}

// TestWalk: a Dockerfile that runs apt-get in one step and cleans up in the
// next, fixes a permission it got wrong, and keeps a setuid binary.
func TestWalk(t *testing.T) {
	img := imageOf(
		layer(t, // 0: base
			entry{"tmp/", 0o1777, 0},
			entry{"usr/bin/su", 0o4755, 10},
			entry{"app/", 0o777, 0},
			entry{"app/data.db", 0o666, 5},
		),
		layer(t, // 1: RUN apt-get update && apt-get install -y curl
			entry{"var/lib/apt/lists/", 0o755, 0},
			entry{"var/lib/apt/lists/lock", 0o640, 0},
			entry{"var/lib/apt/lists/partial/", 0o700, 0},
			entry{"var/lib/apt/lists/d_InRelease", 0o644, 1000},
			entry{"var/lib/apt/lists/d_main_Packages", 0o644, 2000},
			entry{"var/cache/apt/archives/curl.deb", 0o644, 300},
			entry{"root/.cache/pip/http-v2/", 0o700, 0},
			entry{"root/.cache/pip/http-v2/a/b/c", 0o600, 42},
		),
		layer(t, // 2: RUN rm -rf /var/lib/apt/lists/* && chmod 755 /app
			entry{"var/lib/apt/lists/.wh.d_InRelease", 0o644, 0},
			entry{"var/lib/apt/lists/.wh.d_main_Packages", 0o644, 0},
			entry{"app/", 0o755, 0},
		),
	)
	inv := walk(t, img)
	want := []inventory.FileFinding{
		// app/ was fixed in layer 2 (not persistent: gone); the file inside
		// it was not.
		{Rule: content.RuleWorldWritable, Path: "app/data.db", Layer: 0, Evidence: "0666 -rw-rw-rw-"},
		{Rule: content.RulePipCache, Path: "root/.cache/pip/http-v2", Layer: 1, Evidence: "directory"},
		{Rule: content.RuleSetuid, Path: "usr/bin/su", Layer: 0, Evidence: "4755 -rwsr-xr-x"},
		{Rule: content.RuleAptCache, Path: "var/cache/apt/archives/curl.deb", Layer: 1, Evidence: "300 bytes"},
		{Rule: content.RuleAptCache, Path: "var/lib/apt/lists/d_InRelease", Layer: 1, Evidence: "1000 bytes", Deleted: true},
		{Rule: content.RuleAptCache, Path: "var/lib/apt/lists/d_main_Packages", Layer: 1, Evidence: "2000 bytes", Deleted: true},
	}
	if diff := cmp.Diff(want, inv.Files); diff != "" {
		t.Errorf("Inventory.Files (-want +got):\n%s", diff)
	}
	wantAgg := []inventory.FileFinding{
		{Rule: content.RuleWorldWritable, Path: "app/data.db", Layer: 0, Evidence: "0666 -rw-rw-rw-"},
		{Rule: content.RulePipCache, Path: "root/.cache/pip", Layer: 1, Evidence: "1 entry"},
		{Rule: content.RuleSetuid, Path: "usr/bin/su", Layer: 0, Evidence: "4755 -rwsr-xr-x"},
		{Rule: content.RuleAptCache, Path: "var/cache/apt/archives", Layer: 1, Evidence: "1 entry, 300 B"},
		{Rule: content.RuleAptCache, Path: "var/lib/apt/lists", Layer: 1, Evidence: "2 entries, 2.9 KiB", Deleted: true},
	}
	if diff := cmp.Diff(wantAgg, content.Aggregate(inv.Files)); diff != "" {
		t.Errorf("Aggregate (-want +got):\n%s", diff)
	}
}

// TestDebianRootAgainstFind walks a real debootstrap'd Debian root and
// compares each rule's paths with what find(1) selects by the same
// definition.
func TestDebianRootAgainstFind(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the debootstrap'd root")
	}
	if _, err := exec.LookPath("find"); err != nil {
		t.Skip("find not installed")
	}
	root := debroot.Minbase(t)
	inv := walk(t, &image.Image{RootDir: root})
	got := map[string][]string{}
	for _, f := range inv.Files {
		got[f.Rule] = append(got[f.Rule], f.Path)
	}
	prune := []string{"(", "-path", root + "/proc", "-o", "-path", root + "/sys", "-o", "-path", root + "/dev", ")", "-prune", "-o"}
	find := func(args ...string) []string {
		out, err := exec.Command("find", append(append([]string{root}, prune...), append(args, "-print")...)...).Output()
		if err != nil {
			t.Fatalf("find %v: %v", args, err)
		}
		var paths []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				paths = append(paths, strings.TrimPrefix(l, root+"/"))
			}
		}
		slices.Sort(paths)
		return paths
	}
	want := map[string][]string{
		content.RuleSetuid:        find("-type", "f", "-perm", "/6000"),
		content.RuleWorldWritable: find("(", "-type", "f", "-perm", "-0002", ")", "-o", "(", "-type", "d", "-perm", "-0002", "!", "-perm", "-1000", ")"),
		content.RuleAptCache: func() []string {
			p := append(find("-path", root+"/var/cache/apt/archives/*.deb", "-type", "f"),
				find("-path", root+"/var/lib/apt/lists/*", "!", "-path", root+"/var/lib/apt/lists/*/*", "-type", "f", "!", "-name", "lock")...)
			slices.Sort(p)
			return p
		}(),
	}
	for rule, w := range want {
		g := got[rule]
		slices.Sort(g)
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s: walk vs find (-find +walk):\n%s", rule, diff)
		}
	}
	if len(want[content.RuleSetuid]) == 0 || len(want[content.RuleAptCache]) == 0 {
		t.Errorf("the root has no setuid binary or apt cache (%d, %d): the comparison proves little",
			len(want[content.RuleSetuid]), len(want[content.RuleAptCache]))
	}
	var agg []string
	for _, f := range content.Aggregate(inv.Files) {
		if f.Rule == content.RuleAptCache {
			agg = append(agg, fmt.Sprintf("%s: %s", f.Path, strings.SplitN(f.Evidence, ",", 2)[0]))
		}
	}
	t.Logf("setuid/setgid: %d, world-writable: %d, apt cache: %v", len(got[content.RuleSetuid]), len(got[content.RuleWorldWritable]), agg)
	if len(agg) != 2 {
		t.Errorf("aggregated apt findings %q, want one per cache directory", agg)
	}
}
