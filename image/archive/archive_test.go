package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imagetest"
	"github.com/vigilsec/vigil/image/internal/imgconv"
)

var amd64 = image.Platform{OS: "linux", Architecture: "amd64"}

// writeArchive writes imgs (tag -> image) as a docker-archive with
// go-containerregistry's tarball writer.
func writeArchive(t *testing.T, imgs map[string]v1.Image) string {
	t.Helper()
	refs := map[name.Reference]v1.Image{}
	for tag, img := range imgs {
		r, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		refs[r] = img
	}
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := tarball.MultiRefWriteToFile(p, refs); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipFile(t *testing.T, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	p := src + ".gz"
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func imageID(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

type summary struct {
	Source    string
	Name      string
	RepoTags  []string
	ID        string
	Platform  image.Platform
	Config    image.Config
	History   []image.History
	DiffIDs   []string
	LayerHist []string
	Files     [][]imagetest.File
	Seekable  []bool
}

func summarize(t *testing.T, img *image.Image) summary {
	t.Helper()
	ctx := context.Background()
	s := summary{Source: img.Source, Name: img.Name, RepoTags: img.RepoTags, ID: img.ID, Platform: img.Platform, Config: img.Config, History: img.History}
	for _, l := range img.Layers {
		s.DiffIDs = append(s.DiffIDs, l.DiffID)
		if l.History != nil {
			s.LayerHist = append(s.LayerHist, l.History.CreatedBy)
		}
		rc, err := l.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := rc.(io.Seeker)
		s.Seekable = append(s.Seekable, ok)
		rc.Close()
	}
	s.Files = imagetest.LayerFiles(ctx, t, img)
	return s
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		comp     imagetest.Compression
		gzipped  bool
		seekable bool
	}{
		{"uncompressed layers", imagetest.Uncompressed, false, true},
		{"gzip layers", imagetest.Gzip, false, false},
		{"zstd layers", imagetest.Zstd, false, false},
		{"gzip-wrapped archive", imagetest.Uncompressed, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := imagetest.Build(t, tc.comp, amd64)
			p := writeArchive(t, map[string]v1.Image{"example.com/vigil/test:1": src})
			if tc.gzipped {
				p = gzipFile(t, p)
			}
			tmp := t.TempDir()
			img, err := Open(ctx, p, image.Options{TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			got := summarize(t, img)
			want := summary{
				Source:    "docker-archive",
				Name:      "example.com/vigil/test:1",
				RepoTags:  []string{"example.com/vigil/test:1"},
				ID:        imageID(t, src),
				Platform:  amd64,
				Config:    imagetest.WantConfig(),
				History:   imagetest.WantHistory(),
				DiffIDs:   imagetest.DiffIDs(t, src),
				LayerHist: []string{"ADD rootfs.tar /", "RUN rm /etc/secret.txt && refresh /var/cache"},
				Files:     imagetest.WantFiles(),
				Seekable:  []bool{tc.seekable, tc.seekable},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("image (-want +got):\n%s", d)
			}
			if img.Ref != p {
				t.Errorf("Ref = %q, want %q", img.Ref, p)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			left, _ := os.ReadDir(tmp)
			if len(left) != 0 {
				t.Errorf("temp dir not cleaned after Close: %v", left)
			}
		})
	}
}

// TestSeekSkipsBodies checks that the uncompressed layer reader seeks
// rather than reads: skipping the 64 KiB body through tar must not read it.
func TestSeekSkipsBodies(t *testing.T) {
	ctx := context.Background()
	p := writeArchive(t, map[string]v1.Image{"vigil/test:1": imagetest.Build(t, imagetest.Uncompressed, amd64)})
	img, err := Open(ctx, p, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	rc, err := img.Layers[0].Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cr := &countingSeeker{rs: rc.(io.ReadSeeker)}
	tr := tar.NewReader(cr)
	n := 0
	for {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(imagetest.WantFiles()[0]) {
		t.Fatalf("walked %d entries, want %d", n, len(imagetest.WantFiles()[0]))
	}
	if cr.read > 32<<10 {
		t.Errorf("read %d bytes to list the layer; the 64 KiB body should have been skipped by Seek", cr.read)
	}
	if cr.seeks == 0 {
		t.Error("no seeks: tar did not see an io.Seeker")
	}
}

type countingSeeker struct {
	rs    io.ReadSeeker
	read  int64
	seeks int
}

func (c *countingSeeker) Read(p []byte) (int, error) {
	n, err := c.rs.Read(p)
	c.read += int64(n)
	return n, err
}

func (c *countingSeeker) Seek(off int64, whence int) (int64, error) {
	c.seeks++
	return c.rs.Seek(off, whence)
}

func TestSelect(t *testing.T) {
	ctx := context.Background()
	a := imagetest.Build(t, imagetest.Gzip, amd64)
	b := imagetest.Build(t, imagetest.Gzip, image.Platform{OS: "linux", Architecture: "arm64"})
	p := writeArchive(t, map[string]v1.Image{"vigil/a:1": a, "vigil/b:2": b, "example.com/b:2": b})
	idA, idB := imageID(t, a), imageID(t, b)
	for _, tc := range []struct {
		sel     string
		wantID  string
		wantErr string
	}{
		{sel: "vigil/a:1", wantID: idA},
		{sel: "index.docker.io/vigil/a:1", wantID: idA},
		{sel: "docker.io/vigil/b:2", wantID: idB},
		{sel: "example.com/b:2", wantID: idB},
		{sel: idA, wantID: idA},
		{sel: strings.TrimPrefix(idB, "sha256:")[:12], wantID: idB},
		{sel: "", wantErr: "holds 2 images; pick one with path#selector: example.com/b:2 vigil/b:2, vigil/a:1"},
		{sel: "vigil/c:3", wantErr: `no such image in the archive: "vigil/c:3"; available: example.com/b:2 vigil/b:2, vigil/a:1`},
		{sel: "sha256:abc", wantErr: "no such image"},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			ref := p
			if tc.sel != "" {
				ref += "#" + tc.sel
			}
			img, err := Open(ctx, ref, image.Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.ID != tc.wantID {
				t.Errorf("ID = %s, want %s", img.ID, tc.wantID)
			}
			if img.Ref != ref {
				t.Errorf("Ref = %q, want %q", img.Ref, ref)
			}
		})
	}
}

// member is one file of a hand-made archive.
type member struct {
	name, body, link string
	typ              byte
}

func writeTar(t *testing.T, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: m.name, Typeflag: typ, Linkname: m.link, Mode: 0o644}
		if typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, m.body)
	}
	tw.Close()
	return buf.Bytes()
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string {
	return imgconv.Digest(b)
}

// oneLayerConfig returns a config with the diffIDs of the given layers.
func configFor(t *testing.T, layers ...[]byte) []byte {
	t.Helper()
	var ids []string
	for _, l := range layers {
		ids = append(ids, sha(l))
	}
	cfg := map[string]any{
		"os": "linux", "architecture": "amd64",
		"config":  map[string]any{"User": "nobody"},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": ids},
		"history": []map[string]any{{"created_by": "COPY a /"}, {"created_by": "USER nobody", "empty_layer": true}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func manifestJSON(t *testing.T, cfg string, tags []string, layers ...string) string {
	t.Helper()
	b, err := json.Marshal([]Entry{{Config: cfg, RepoTags: tags, Layers: layers}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOCIStyleSave reads the layout newer Docker versions save: blobs under
// blobs/sha256 with legacy names as symlinks to them.
func TestOCIStyleSave(t *testing.T) {
	ctx := context.Background()
	layer := imagetest.LayerTars()[0]
	cfg := configFor(t, layer)
	lhex := strings.TrimPrefix(sha(layer), "sha256:")
	chex := strings.TrimPrefix(sha(cfg), "sha256:")
	data := writeTar(t, []member{
		{name: "blobs/", typ: tar.TypeDir},
		{name: "blobs/sha256/", typ: tar.TypeDir},
		{name: "blobs/sha256/" + lhex, body: string(layer)},
		{name: "blobs/sha256/" + chex, body: string(cfg)},
		{name: "abc/", typ: tar.TypeDir},
		{name: "abc/layer.tar", typ: tar.TypeSymlink, link: "../blobs/sha256/" + lhex},
		{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`},
		{name: "manifest.json", body: manifestJSON(t, "blobs/sha256/"+chex, []string{"vigil/oci:1"}, "abc/layer.tar")},
	})
	img, err := Open(ctx, writeFile(t, data), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	got := []string{img.ID, img.Layers[0].DiffID, img.Layers[0].Digest, img.Config.User, img.Layers[0].History.CreatedBy}
	want := []string{"sha256:" + chex, sha(layer), sha(layer), "nobody", "COPY a /"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	files := imagetest.LayerFiles(ctx, t, img)
	if d := cmp.Diff(imagetest.WantFiles()[:1], files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
}

func TestHostile(t *testing.T) {
	ctx := context.Background()
	layer := imagetest.LayerTars()[0]
	var gzLayer bytes.Buffer
	zw := gzip.NewWriter(&gzLayer)
	zw.Write(layer)
	zw.Close()
	truncGz := gzLayer.Bytes()[:gzLayer.Len()/2]
	cfg := string(configFor(t, layer))
	cfg2 := string(configFor(t, layer, layer))

	good := writeTar(t, []member{
		{name: "l.tar", body: string(layer)},
		{name: "c.json", body: cfg},
		{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar")},
	})
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string // from Open
		readErr string // from reading the layer
	}{
		{name: "missing blob", data: writeTar(t, []member{
			{name: "c.json", body: cfg},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "gone/layer.tar")},
		}), wantErr: "layer 0 (gone/layer.tar) named in manifest.json: gone/layer.tar: file does not exist"},
		{name: "missing config", data: writeTar(t, []member{
			{name: "l.tar", body: string(layer)},
			{name: "manifest.json", body: manifestJSON(t, "nope.json", nil, "l.tar")},
		}), wantErr: "read config nope.json named in manifest.json"},
		{name: "config not json", data: writeTar(t, []member{
			{name: "l.tar", body: string(layer)},
			{name: "c.json", body: "<html>"},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar")},
		}), wantErr: "config c.json is not a valid image configuration"},
		{name: "layer count differs", data: writeTar(t, []member{
			{name: "l.tar", body: string(layer)},
			{name: "c.json", body: cfg2},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar")},
		}), wantErr: "the config lists 2 diff_ids but the manifest has 1 layers"},
		{name: "manifest not json", data: writeTar(t, []member{{name: "manifest.json", body: "{"}}),
			wantErr: "manifest.json is not a docker-archive manifest"},
		{name: "empty manifest", data: writeTar(t, []member{{name: "manifest.json", body: "[]"}}),
			wantErr: "manifest.json lists no images"},
		{name: "no manifest", data: writeTar(t, []member{{name: "x", body: "y"}}), wantErr: ErrNotDockerArchive.Error()},
		{name: "oci archive", data: writeTar(t, []member{{name: "oci-layout", body: "{}"}, {name: "index.json", body: "{}"}}),
			wantErr: "use the oci-archive: prefix"},
		{name: "path escape", data: writeTar(t, []member{
			{name: "c.json", body: cfg},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "../../etc/passwd")},
		}), wantErr: `invalid path "../../etc/passwd"`},
		{name: "symlink out of archive", data: writeTar(t, []member{
			{name: "c.json", body: cfg},
			{name: "l.tar", typ: tar.TypeSymlink, link: "../../../etc/passwd"},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar")},
		}), wantErr: "leaves the archive"},
		{name: "symlink loop", data: writeTar(t, []member{
			{name: "c.json", body: cfg},
			{name: "l.tar", typ: tar.TypeSymlink, link: "m.tar"},
			{name: "m.tar", typ: tar.TypeSymlink, link: "l.tar"},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar")},
		}), wantErr: "more than 16 links"},
		{name: "truncated archive", data: good[:len(good)-1500], wantErr: "index"},
		{name: "not a tar", data: []byte("hello, this is not a tar file at all"), wantErr: "index"},
		{name: "truncated gzip archive", data: func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(good)
			zw.Close()
			return b.Bytes()[:b.Len()/2]
		}(), wantErr: "decompress"},
		{name: "truncated gzip layer", data: writeTar(t, []member{
			{name: "l.tar.gz", body: string(truncGz)},
			{name: "c.json", body: cfg},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar.gz")},
		}), readErr: "decompress gzip l.tar.gz in "},
		{name: "corrupt gzip layer", data: writeTar(t, []member{
			{name: "l.tar.gz", body: "\x1f\x8b\x08\x00garbagegarbagegarbage"},
			{name: "c.json", body: cfg},
			{name: "manifest.json", body: manifestJSON(t, "c.json", nil, "l.tar.gz")},
		}), readErr: "l.tar.gz in "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.data)
			img, err := Open(ctx, p, image.Options{TempDir: t.TempDir()})
			if tc.wantErr != "" {
				if err == nil {
					img.Close()
					t.Fatalf("Open succeeded, want error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err = %v, want it to contain %q and the path", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			err = readLayers(ctx, img)
			if err == nil || !strings.Contains(err.Error(), tc.readErr) || !strings.Contains(err.Error(), p) {
				t.Fatalf("read error = %v, want it to contain %q and the path", err, tc.readErr)
			}
		})
	}
}

func readLayers(ctx context.Context, img *image.Image) error {
	for _, l := range img.Layers {
		rc, err := l.Open(ctx)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func TestCanceled(t *testing.T) {
	p := writeArchive(t, map[string]v1.Image{"vigil/a:1": imagetest.Build(t, imagetest.Gzip, amd64)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, p, image.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	img, err := Open(context.Background(), p, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if _, err := img.Layers[0].Open(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("layer open err = %v, want context.Canceled", err)
	}
}

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []Entry
		wantErr string
	}{
		{in: `[{"Config":"c.json","RepoTags":["a:1"],"Layers":["x/layer.tar"]}]`,
			want: []Entry{{Config: "c.json", RepoTags: []string{"a:1"}, Layers: []string{"x/layer.tar"}}}},
		{in: `[{"Config":"c.json","RepoTags":null,"Layers":[],"LayerSources":{}}]`,
			want: []Entry{{Config: "c.json", Layers: []string{}}}},
		{in: `[{"RepoTags":["a:1"]}]`, wantErr: "has no Config"},
		{in: `[{"Config":"/"}]`, wantErr: "invalid config path"},
		{in: `{"Config":"c"}`, wantErr: "not a docker-archive manifest"},
		{in: `[]`, wantErr: "lists no images"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseManifest([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`[{"Config":"c.json","RepoTags":["a:1"],"Layers":["x/layer.tar"]}]`))
	f.Add([]byte(`[{"Config":"blobs/sha256/00","RepoTags":null,"Layers":["../x"]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseManifest(data)
		if err == nil && len(es) == 0 {
			t.Fatal("no error and no entries")
		}
	})
}

// FuzzOpen feeds whole archives to Open: it must return an image or an
// error, never panic, and layers it returns must be readable or fail.
func FuzzOpen(f *testing.F) {
	layer := imagetest.LayerTars()[0]
	var cfg []byte
	{
		cfg, _ = json.Marshal(map[string]any{"os": "linux", "architecture": "amd64",
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{sha(layer)}}})
	}
	m, _ := json.Marshal([]Entry{{Config: "c.json", RepoTags: []string{"a:1"}, Layers: []string{"l.tar"}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct{ n, b string }{{"l.tar", string(layer)}, {"c.json", string(cfg)}, {"manifest.json", string(m)}} {
		tw.WriteHeader(&tar.Header{Name: e.n, Size: int64(len(e.b)), Mode: 0o644, Typeflag: tar.TypeReg})
		io.WriteString(tw, e.b)
	}
	tw.Close()
	f.Add(buf.Bytes())
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
		img, err := Open(context.Background(), p, image.Options{TempDir: dir})
		if err != nil {
			return
		}
		defer img.Close()
		for _, l := range img.Layers {
			rc, err := l.Open(context.Background())
			if err != nil {
				continue
			}
			io.Copy(io.Discard, io.LimitReader(rc, 4<<20))
			rc.Close()
		}
	})
}
