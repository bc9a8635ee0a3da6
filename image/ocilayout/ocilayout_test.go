package ocilayout

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imagetest"
)

var (
	amd64 = image.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = image.Platform{OS: "linux", Architecture: "arm64"}
	armv7 = image.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
)

// makeLayout writes a layout holding: "single" (one image, gzip layers),
// "zstd" (zstd layers), "plain" (uncompressed layers) and "multi" (an index
// for amd64, arm64 and arm/v7).
func makeLayout(t *testing.T) (string, map[string]v1.Image, v1.ImageIndex) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	imgs := map[string]v1.Image{
		"single": imagetest.Build(t, imagetest.Gzip, amd64),
		"zstd":   imagetest.Build(t, imagetest.Zstd, amd64),
		"plain":  imagetest.Build(t, imagetest.Uncompressed, amd64),
	}
	for _, tag := range []string{"single", "zstd", "plain"} {
		if err := p.AppendImage(imgs[tag], layout.WithAnnotations(map[string]string{AnnotationRefName: tag})); err != nil {
			t.Fatal(err)
		}
	}
	idx := imagetest.Index(t, imagetest.Gzip, amd64, arm64, armv7)
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRefName: "multi", AnnotationImageName: "example.com/vigil/multi:multi"})); err != nil {
		t.Fatal(err)
	}
	return dir, imgs, idx
}

func digestOf(t *testing.T, img interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

type summary struct {
	Source, Name, Digest, ID string
	Platform                 image.Platform
	Config                   image.Config
	History                  []image.History
	DiffIDs                  []string
	Files                    [][]imagetest.File
	Seekable                 bool
}

func summarize(t *testing.T, img *image.Image) summary {
	t.Helper()
	s := summary{Source: img.Source, Name: img.Name, Digest: img.Digest, ID: img.ID, Platform: img.Platform, Config: img.Config, History: img.History}
	for _, l := range img.Layers {
		s.DiffIDs = append(s.DiffIDs, l.DiffID)
	}
	s.Files = imagetest.LayerFiles(context.Background(), t, img)
	rc, err := img.Layers[0].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, s.Seekable = rc.(io.Seeker)
	rc.Close()
	return s
}

// tarDir packs a directory into a tar file (an OCI archive).
func tarDir(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "oci.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

type opener func(ctx context.Context, p, sel string, opts image.Options) (*image.Image, error)

func TestOpen(t *testing.T) {
	dir, imgs, idx := makeLayout(t)
	archive := tarDir(t, dir)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	platDigest := map[string]string{}
	for _, d := range im.Manifests {
		platDigest[d.Platform.String()] = d.Digest.String()
	}
	multiImg := func(p image.Platform) v1.Image {
		h, _ := v1.NewHash(platDigest[p.String()])
		img, err := idx.Image(h)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	want := func(img v1.Image, name string, p image.Platform, seek bool) summary {
		id, _ := img.ConfigName()
		return summary{Name: name, Digest: digestOf(t, img), ID: id.String(), Platform: p,
			Config: imagetest.WantConfig(), History: imagetest.WantHistory(), DiffIDs: imagetest.DiffIDs(t, img),
			Files: imagetest.WantFiles(), Seekable: seek}
	}
	for _, src := range []struct {
		name   string
		path   string
		open   opener
		source string
	}{
		{"dir", dir, Open, "oci-dir"},
		{"archive", archive, OpenArchive, "oci-archive"},
	} {
		for _, tc := range []struct {
			sel  string
			plat *image.Platform
			want summary
		}{
			{sel: "single", want: want(imgs["single"], "single", amd64, false)},
			{sel: "zstd", want: want(imgs["zstd"], "zstd", amd64, false)},
			{sel: "plain", want: want(imgs["plain"], "plain", amd64, true)},
			{sel: digestOf(t, imgs["plain"]), want: want(imgs["plain"], "plain", amd64, true)},
			{sel: "multi", plat: &arm64, want: want(multiImg(arm64), "example.com/vigil/multi:multi", arm64, false)},
			{sel: "example.com/vigil/multi:multi", plat: &armv7, want: want(multiImg(armv7), "example.com/vigil/multi:multi", armv7, false)},
			{sel: "multi", plat: &image.Platform{OS: "linux", Architecture: "arm"}, want: want(multiImg(armv7), "example.com/vigil/multi:multi", armv7, false)},
			{sel: platDigest["linux/arm64"], want: want(multiImg(arm64), "", arm64, false)},
		} {
			t.Run(src.name+"/"+tc.sel, func(t *testing.T) {
				img, err := src.open(context.Background(), src.path, tc.sel, image.Options{Platform: tc.plat})
				if err != nil {
					t.Fatal(err)
				}
				defer img.Close()
				tc.want.Source = src.source
				if d := cmp.Diff(tc.want, summarize(t, img)); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			})
		}
	}
}

func TestSelectErrors(t *testing.T) {
	dir, _, _ := makeLayout(t)
	s390 := image.Platform{OS: "linux", Architecture: "s390x"}
	for _, tc := range []struct {
		name    string
		sel     string
		plat    *image.Platform
		wantErr string
		is      error
	}{
		{name: "no selector", wantErr: "the layout holds 4 images; pick one with path#selector (tag or digest): example.com/vigil/multi:multi (sha256:", is: nil},
		{name: "unknown tag", sel: "nope", wantErr: `no such image in the layout: "nope"; available: `, is: ErrNoSuchImage},
		{name: "unknown digest", sel: "sha256:" + strings.Repeat("0", 64), wantErr: "no such image", is: ErrNoSuchImage},
		{name: "missing platform", sel: "multi", plat: &s390, wantErr: "no image for the requested platform linux/s390x; available: linux/amd64, linux/arm/v7, linux/arm64", is: ErrNoPlatform},
		{name: "single image wrong platform", sel: "single", plat: &arm64, wantErr: "no image for the requested platform linux/arm64; available: linux/amd64", is: ErrNoPlatform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Open(context.Background(), dir, tc.sel, image.Options{Platform: tc.plat})
			if err == nil {
				img.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), dir) {
				t.Errorf("err = %v\nwant it to contain %q and the path", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	m, err := single.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	blob := func(h v1.Hash) string { return filepath.Join("blobs", h.Algorithm, h.Hex) }
	mdig := digestOf(t, single)
	mh, _ := v1.NewHash(mdig)
	for _, tc := range []struct {
		name    string
		mutate  func(dir string) error
		wantErr string
	}{
		{"missing layer blob", func(dir string) error { return os.Remove(filepath.Join(dir, blob(m.Layers[1].Digest))) },
			"layer 1: blob blobs/sha256/" + m.Layers[1].Digest.Hex + " is missing from the layout"},
		{"missing config", func(dir string) error { return os.Remove(filepath.Join(dir, blob(m.Config.Digest))) },
			"config " + m.Config.Digest.String() + ": blob blobs/sha256/" + m.Config.Digest.Hex + " is missing"},
		{"tampered manifest", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, blob(mh)), []byte(`{"schemaVersion":2}`), 0o644)
		}, "blobs/sha256/" + mh.Hex + ": content has digest sha256:"},
		{"truncated layer", func(dir string) error {
			return os.Truncate(filepath.Join(dir, blob(m.Layers[0].Digest)), 10)
		}, "is 10 bytes, the manifest says"},
		{"index not json", func(dir string) error { return os.WriteFile(filepath.Join(dir, "index.json"), []byte("nope"), 0o644) },
			"index.json: not an OCI image index"},
		{"no oci-layout", func(dir string) error { return os.Remove(filepath.Join(dir, "oci-layout")) }, ErrNotLayout.Error()},
		{"empty index", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o644)
		}, "index.json lists no images"},
		{"digest escaping", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../../etc/passwd","size":1}]}`), 0o644)
		}, "not an OCI image index"},
		{"blob is a symlink out of the layout", func(dir string) error {
			p := filepath.Join(dir, blob(m.Config.Digest))
			os.Remove(p)
			return os.Symlink("/etc/hostname", p)
		}, "config " + m.Config.Digest.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "l")
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.AppendImage(single); err != nil {
				t.Fatal(err)
			}
			if err := tc.mutate(dir); err != nil {
				t.Fatal(err)
			}
			for _, o := range []struct {
				name string
				path string
				open opener
			}{{"dir", dir, Open}, {"archive", tarDir(t, dir), OpenArchive}} {
				img, err := o.open(context.Background(), o.path, "", image.Options{})
				if err == nil {
					img.Close()
					t.Fatalf("%s: no error", o.name)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), o.path) {
					t.Errorf("%s: err = %v\nwant it to contain %q and the path", o.name, err, tc.wantErr)
				}
			}
		})
	}
}

// TestSkopeo reads layouts and archives written by skopeo from a
// docker-archive of the test image.
func TestSkopeo(t *testing.T) {
	skopeo := imagetest.Require(t, "skopeo")
	src := imagetest.Build(t, imagetest.OCIGzip, amd64)
	tmp := t.TempDir()
	srcLayout := filepath.Join(tmp, "src")
	p, err := layout.Write(srcLayout, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(src, layout.WithAnnotations(map[string]string{AnnotationRefName: "v1"})); err != nil {
		t.Fatal(err)
	}
	ociDir := filepath.Join(tmp, "copy")
	ociTar := filepath.Join(tmp, "copy.tar")
	imagetest.Run(t, skopeo, "copy", "--quiet", "oci:"+srcLayout+":v1", "oci:"+ociDir+":first")
	imagetest.Run(t, skopeo, "copy", "--quiet", "oci:"+srcLayout+":v1", "oci:"+ociDir+":second")
	imagetest.Run(t, skopeo, "copy", "--quiet", "oci:"+srcLayout+":v1", "oci-archive:"+ociTar+":arch")
	for _, tc := range []struct {
		name string
		open func() (*image.Image, error)
	}{
		{"dir first", func() (*image.Image, error) { return Open(context.Background(), ociDir, "first", image.Options{}) }},
		{"dir second", func() (*image.Image, error) { return Open(context.Background(), ociDir, "second", image.Options{}) }},
		{"archive", func() (*image.Image, error) { return OpenArchive(context.Background(), ociTar, "", image.Options{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			got := summarize(t, img)
			id, _ := src.ConfigName()
			want := summary{Source: img.Source, Name: img.Name, Digest: img.Digest, ID: id.String(), Platform: amd64,
				Config: imagetest.WantConfig(), History: imagetest.WantHistory(), DiffIDs: imagetest.DiffIDs(t, src), Files: imagetest.WantFiles()}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":10,"annotations":{"org.opencontainers.image.ref.name":"v1"},"platform":{"os":"linux","architecture":"amd64"}}]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := ParseIndex(data)
		if err != nil {
			return
		}
		// Selection over whatever parsed must not panic.
		selectTop(nil, im, "v1")
		listing(im)
	})
}

// FuzzOpenArchive feeds whole OCI archives to OpenArchive.
func FuzzOpenArchive(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seed", "*.tar"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "f.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, sel := range []string{"", "v1"} {
			img, err := OpenArchive(context.Background(), p, sel, image.Options{TempDir: dir})
			if err != nil {
				continue
			}
			for _, l := range img.Layers {
				if rc, err := l.Open(context.Background()); err == nil {
					io.Copy(io.Discard, io.LimitReader(rc, 4<<20))
					rc.Close()
				}
			}
			img.Close()
		}
	})
}

func TestLayerCountMismatch(t *testing.T) {
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	cf, err := single.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs = cf.RootFS.DiffIDs[:1]
	bad, err := mutate.ConfigFile(single, cf)
	if err != nil {
		t.Fatal(err)
	}
	dir := imagetest.WriteLayout(t, bad, "bad")
	_, err = Open(context.Background(), dir, "bad", image.Options{})
	if err == nil || !strings.Contains(err.Error(), "the config lists 1 diff_ids but the manifest has 2 layers") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v", err)
	}
}
