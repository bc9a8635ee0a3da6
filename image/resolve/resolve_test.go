package resolve

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imagetest"
)

var amd64 = image.Platform{OS: "linux", Architecture: "amd64"}

func TestSplit(t *testing.T) {
	for _, tc := range []struct{ in, prefix, rest string }{
		{"docker:alpine:3.20", "docker", "alpine:3.20"},
		{"podman:alpine", "podman", "alpine"},
		{"registry:ghcr.io/a/b@sha256:00", "registry", "ghcr.io/a/b@sha256:00"},
		{"docker-archive:x.tar#a:1", "docker-archive", "x.tar#a:1"},
		{"oci-dir:./l#v1", "oci-dir", "./l#v1"},
		{"oci-archive:/t/o.tar", "oci-archive", "/t/o.tar"},
		{"dir:/", "dir", "/"},
		{"alpine:3.20", "", "alpine:3.20"},
		{"localhost:5000/x:1", "", "localhost:5000/x:1"},
		{"alpine", "", "alpine"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, r := Split(tc.in)
			if d := cmp.Diff([]string{tc.prefix, tc.rest}, []string{p, r}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestGuess opens paths without a prefix and checks the source chosen.
func TestGuess(t *testing.T) {
	ctx := context.Background()
	src := imagetest.Build(t, imagetest.OCIGzip, amd64)
	layout := imagetest.WriteLayout(t, src, "v1")
	dir := t.TempDir()
	dockerTar := filepath.Join(dir, "docker.tar")
	tag, _ := name.NewTag("vigil/test:1")
	if err := tarball.WriteToFile(dockerTar, tag, src); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dockerTar)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	gzTar := filepath.Join(dir, "docker.tar.gz")
	os.WriteFile(gzTar, gz.Bytes(), 0o644)
	ociTar := filepath.Join(dir, "oci.tar")
	imagetest.Run(t, "tar", "-C", layout, "-cf", ociTar, ".")
	rootDir := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(rootDir, "etc"), 0o755)
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, bytes.Repeat([]byte("x"), 2000), 0o644)
	emptyTar := filepath.Join(dir, "other.tar")
	imagetest.Run(t, "tar", "-C", rootDir, "-cf", emptyTar, ".")

	for _, tc := range []struct {
		ref, source, wantErr string
	}{
		{ref: layout, source: "oci-dir"},
		{ref: layout + "#v1", source: "oci-dir"},
		{ref: ociTar, source: "oci-archive"},
		{ref: ociTar + "#v1", source: "oci-archive"},
		{ref: dockerTar, source: "docker-archive"},
		{ref: dockerTar + "#vigil/test:1", source: "docker-archive"},
		{ref: gzTar, source: "docker-archive"},
		{ref: rootDir, source: "dir"},
		{ref: "dir:" + rootDir, source: "dir"},
		{ref: "oci-dir:" + layout + "#v1", source: "oci-dir"},
		{ref: "oci-archive:" + ociTar, source: "oci-archive"},
		{ref: "docker-archive:" + gzTar + "#vigil/test:1", source: "docker-archive"},
		{ref: layout + "#v2", wantErr: `no such image in the layout: "v2"; available: v1 (sha256:`},
		{ref: rootDir + "#x", wantErr: "root file system directory, which holds one image: drop #x"},
		{ref: junk, wantErr: "not a tar file"},
		{ref: emptyTar, wantErr: "is neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout)"},
		{ref: "./missing.tar", wantErr: "./missing.tar: no such file or directory"},
		{ref: "Not/A:Valid:Ref", wantErr: "is neither an existing path nor a valid image reference"},
		{ref: "", wantErr: "empty image reference"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			img, err := Open(ctx, tc.ref, image.Options{TempDir: t.TempDir(), DockerHost: "unix:///nonexistent.sock"})
			if tc.wantErr != "" {
				if err == nil {
					img.Close()
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v\nwant it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Source != tc.source {
				t.Errorf("source = %s, want %s", img.Source, tc.source)
			}
		})
	}
}

// view is what must agree across sources.
type view struct {
	ID      string
	DiffIDs []string
	Config  image.Config
	History []image.History
	Layers  []string // created_by attached to each layer
	Files   [][]imagetest.File
}

func viewOf(t *testing.T, img *image.Image) view {
	t.Helper()
	v := view{ID: img.ID, Config: img.Config, History: img.History}
	for _, l := range img.Layers {
		v.DiffIDs = append(v.DiffIDs, l.DiffID)
		if l.History != nil {
			v.Layers = append(v.Layers, l.History.CreatedBy)
		}
	}
	v.Files = imagetest.LayerFiles(context.Background(), t, img)
	return v
}

// TestCrossSource puts one image into every kind of source with the real
// tools (skopeo, the Docker engine, Debian's docker-registry) and checks
// that each source yields the same config, history, layer list and files.
func TestCrossSource(t *testing.T) {
	skopeo := imagetest.Require(t, "skopeo")
	imagetest.RequireDocker(t)
	reg := imagetest.StartRegistry(t, "", "")
	ctx := context.Background()
	src := imagetest.Build(t, imagetest.OCIGzip, amd64)
	layout := imagetest.WriteLayout(t, src, "v1")
	dir := t.TempDir()
	dockerTar := filepath.Join(dir, "docker.tar")
	ociTar := filepath.Join(dir, "oci.tar")
	tag := fmt.Sprintf("vigil-cross-%d:1", rand.Uint32())
	regRef := reg.Host + "/vigil/cross:1"
	from := "oci:" + layout + ":v1"
	imagetest.Run(t, skopeo, "copy", "--quiet", from, "docker-archive:"+dockerTar+":"+tag)
	imagetest.Run(t, skopeo, "copy", "--quiet", from, "oci-archive:"+ociTar+":v1")
	imagetest.Run(t, skopeo, "copy", "--quiet", "--dest-tls-verify=false", from, "docker://"+regRef)
	imagetest.Run(t, skopeo, "copy", "--quiet", from, "docker-daemon:"+tag)
	t.Cleanup(func() { imagetest.Run(t, "docker", "rmi", "-f", tag) })

	want := view{
		DiffIDs: imagetest.DiffIDs(t, src),
		Config:  imagetest.WantConfig(),
		History: imagetest.WantHistory(),
		Layers:  []string{"ADD rootfs.tar /", "RUN rm /etc/secret.txt && refresh /var/cache"},
		Files:   imagetest.WantFiles(),
	}
	id, _ := src.ConfigName()
	want.ID = id.String()
	for _, tc := range []struct{ ref, source string }{
		{"oci-dir:" + layout + "#v1", "oci-dir"},
		{"oci-archive:" + ociTar, "oci-archive"},
		{"docker-archive:" + dockerTar, "docker-archive"},
		{"docker:" + tag, "docker"},
		{"registry:" + regRef, "registry"},
		{layout, "oci-dir"},
		{ociTar, "oci-archive"},
		{dockerTar, "docker-archive"},
		{tag, "docker"},
		{regRef, "registry"}, // not in the engine: falls through to the registry
	} {
		t.Run(tc.ref, func(t *testing.T) {
			img, err := Open(ctx, tc.ref, image.Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Source != tc.source {
				t.Errorf("source = %s, want %s", img.Source, tc.source)
			}
			if d := cmp.Diff(want, viewOf(t, img)); d != "" {
				t.Errorf("view (-want +got):\n%s", d)
			}
		})
	}
	t.Run("not anywhere", func(t *testing.T) {
		_, err := Open(ctx, reg.Host+"/vigil/none:1", image.Options{})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "docker has no image") {
			t.Fatalf("err = %v, want ErrNotFound naming the engine and the registry", err)
		}
	})
}
