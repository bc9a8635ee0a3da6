package secrets

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
)

// treeStats summarises one scan of a real tree.
type treeStats struct {
	files, wanted     int
	bytes, wantedSize int64
}

// located is a finding with its path, for comparing whole-tree results.
type located struct {
	Path, Rule, Evidence string
}

// scanTree offers every regular file under root to the extractor, named as
// it would be inside an image (prefix + path relative to root), the way the
// layer walk does: Wants first, then Extract on the file itself.
func scanTree(t testing.TB, e extract.Extractor, root, prefix string) ([]located, treeStats) {
	t.Helper()
	var out []located
	var st treeStats
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := prefix + filepath.ToSlash(rel)
		st.files++
		st.bytes += fi.Size()
		if !e.Wants(name, fi) {
			return nil
		}
		st.wanted++
		st.wantedSize += fi.Size()
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		res, err := e.Extract(context.Background(), &extract.Input{Path: name, Info: fi, Reader: f, Size: fi.Size()})
		if err != nil {
			t.Errorf("Extract(%s): %v", name, err)
			return nil
		}
		if res != nil {
			for _, ff := range res.Files {
				out = append(out, located{name, ff.Rule, ff.Evidence})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return out, st
}

// TestNoFalsePositivesInRealTrees runs every rule over real software and
// wants no finding there, except the ones listed (each with the reason it is
// right to report it).
//
// The node app's node_modules (jsonwebtoken, jws, jwa handle keys and
// tokens) holds no fake keys in the files read: its test directories and
// READMEs are skipped as dependency noise, and the PEM headers its code
// names ("-----BEGIN RSA PRIVATE KEY-----" in string literals) have no key
// body, so the private-key rule does not fire.
func TestNoFalsePositivesInRealTrees(t *testing.T) {
	type tree struct {
		name, root, prefix string
		want               []located
	}
	trees := []tree{
		{name: "node app", root: testutil.Fixtures(t, "apps", "node-demo-api"), prefix: "app/"},
		{name: "go app", root: testutil.Fixtures(t, "apps", "go-demo-worker"), prefix: "app/"},
	}
	if !testing.Short() {
		trees = append(trees, tree{name: "debian bookworm minbase", root: debroot.Minbase(t)})
	}
	// The host's Java and Python libraries, where present (CI installs the
	// same Debian packages; elsewhere they are skipped).
	hostDirs, _ := filepath.Glob("/usr/lib/python3*")
	hostDirs = append(hostDirs, "/usr/share/java")
	for _, d := range hostDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			trees = append(trees, tree{name: "host " + d, root: d, prefix: strings.TrimPrefix(d, "/") + "/"})
		}
	}
	e := New()
	for _, tr := range trees {
		t.Run(tr.name, func(t *testing.T) {
			start := time.Now()
			got, st := scanTree(t, e, tr.root, tr.prefix)
			t.Logf("%d files (%d MB): %d read (%.1f MB) in %s", st.files, st.bytes>>20, st.wanted,
				float64(st.wantedSize)/(1<<20), time.Since(start).Round(time.Millisecond))
			if diff := cmp.Diff(tr.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if st.wanted == 0 {
				t.Errorf("no file of %s was read: the test proves nothing", tr.root)
			}
		})
	}
}

// BenchmarkExtract measures the extractor over real trees held in memory:
// MB/s is over the bytes it reads (files Wants accepted); tree-MB/s is over
// every regular file of the tree, which is what a layer costs it.
func BenchmarkExtract(b *testing.B) {
	trees := []struct{ name, root, prefix string }{
		{"node-app", testutil.Fixtures(b, "apps", "node-demo-api"), "app/"},
		{"debian-minbase", debroot.Minbase(b), ""},
	}
	for _, tr := range trees {
		b.Run(tr.name, func(b *testing.B) {
			e := New()
			type mem struct {
				in   *extract.Input
				data []byte
			}
			var files []mem
			var total int64
			err := filepath.WalkDir(tr.root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				fi, err := d.Info()
				if err != nil {
					return err
				}
				total += fi.Size()
				rel, _ := filepath.Rel(tr.root, p)
				name := tr.prefix + filepath.ToSlash(rel)
				if !e.Wants(name, fi) {
					return nil
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				files = append(files, mem{&extract.Input{Path: name, Info: fi, Size: int64(len(data))}, data})
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			var read int64
			for _, f := range files {
				read += int64(len(f.data))
			}
			b.SetBytes(read)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, f := range files {
					in := *f.in
					in.Reader = strings.NewReader(string(f.data))
					if _, err := e.Extract(ctx, &in); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds()/1e6, "tree-MB/s")
			b.ReportMetric(float64(len(files)), "files-read")
		})
	}
}

// BenchmarkWants measures the path filter, which runs on every file of every
// layer.
func BenchmarkWants(b *testing.B) {
	root := debroot.Minbase(b)
	type pf struct {
		p  string
		fi fs.FileInfo
	}
	var paths []pf
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		paths = append(paths, pf{filepath.ToSlash(rel), fi})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	e := New()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, x := range paths {
			e.Wants(x.p, x.fi)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/path")
}
