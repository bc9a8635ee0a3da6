package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vigilsec/vigil/image"
)

// BenchmarkListLayer lists the entries of a 64 MiB uncompressed layer
// (16 files of 4 MiB) from a docker-archive, with the layer reader's Seek
// (how the walk uses it) and with Seek hidden (a plain stream).
func BenchmarkListLayer(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte{'x'}, 4<<20)
	for i := 0; i < 16; i++ {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data/f%02d", i), Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
		tw.Write(body)
	}
	tw.Close()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(buf.Bytes(), types.DockerUncompressedLayer))
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "big.tar")
	tag, _ := name.NewTag("vigil/bench:1")
	if err := tarball.WriteToFile(p, tag, img); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	opened, err := Open(ctx, p, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer opened.Close()
	for _, mode := range []string{"seek", "stream"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			for b.Loop() {
				rc, err := opened.Layers[0].Open(ctx)
				if err != nil {
					b.Fatal(err)
				}
				var r io.Reader = rc
				if mode == "stream" {
					r = struct{ io.Reader }{rc}
				}
				tr := tar.NewReader(r)
				n := 0
				for {
					if _, err := tr.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					n++
				}
				rc.Close()
				if n != 16 {
					b.Fatalf("%d entries", n)
				}
			}
		})
	}
}
