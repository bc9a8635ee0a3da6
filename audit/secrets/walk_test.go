package secrets_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/secrets"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/layerfs"
)

// entry is one tar entry of a test layer.
type entry struct {
	name, body string
	dir        bool
}

func file(name, body string) entry { return entry{name: name, body: body} }

func layer(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.dir {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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

// Built, not written out, so that no literal here looks like a live token.
var (
	ghToken  = "gh" + "p_" + "Zq3R8s1T5u7V9w2X4y6A1b3C5d7E9f0G2h4J"
	dbSecret = "Vt9-" + "qL2mX8rW4k"
)

func TestWalkKeepsDeletedSecretsWithTheirLayer(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]entry
		want   []inventory.FileFinding
	}{
		{
			name: "added in layer 0, whiteout in layer 1",
			layers: [][]entry{
				{file("app/.env", "DB_PASSWORD="+dbSecret+"\n"), file("app/run.sh", "echo hi\n")},
				{file("app/.wh..env", "")},
			},
			want: []inventory.FileFinding{
				{Rule: "secret-env-file", Path: "app/.env", Layer: 0, Line: 1, Evidence: "DB_PASSWORD=Vt9***********", Deleted: true},
			},
		},
		{
			name: "replaced by a clean copy; a visible secret elsewhere",
			layers: [][]entry{
				{file("app/config.yml", "db: postgres://app:"+dbSecret+"@db/app\n")},
				{file("app/config.yml", "db: postgres://app@db/app\n"), file("root/.git-credentials", "https://bot:"+ghToken+"@github.com\n")},
			},
			want: []inventory.FileFinding{
				{Rule: "secret-database-url", Path: "app/config.yml", Layer: 0, Line: 1, Evidence: "postgres://app:Vt9***********@db", Deleted: true},
				{Rule: "secret-github-token", Path: "root/.git-credentials", Layer: 1, Line: 1, Evidence: "ghp_****************"},
			},
		},
		{
			name: "directory made opaque in layer 2; rewritten secret stays visible",
			layers: [][]entry{
				{file("srv/.npmrc", "//r.example.com/:_authToken="+dbSecret+"\n")},
				{file("etc/app.env", "API_TOKEN="+dbSecret+"\n")},
				{entry{name: "srv/", dir: true}, file("srv/.wh..wh..opq", ""), file("etc/app.env", "API_TOKEN="+dbSecret+"x\n")},
			},
			want: []inventory.FileFinding{
				{Rule: "secret-env-file", Path: "etc/app.env", Layer: 1, Line: 1, Evidence: "API_TOKEN=Vt9***********", Deleted: true},
				{Rule: "secret-env-file", Path: "etc/app.env", Layer: 2, Line: 1, Evidence: "API_TOKEN=Vt9************"},
				{Rule: "secret-npmrc-auth", Path: "srv/.npmrc", Layer: 0, Line: 1, Evidence: "//r.example.com/:_authToken=Vt9***********", Deleted: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var blobs [][]byte
			for _, l := range tc.layers {
				blobs = append(blobs, layer(t, l...))
			}
			res, err := layerfs.Walk(context.Background(), imageOf(blobs...), layerfs.Options{
				Registry: extract.NewRegistry(secrets.New()), TempDir: t.TempDir(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res.Inventory.Files); diff != "" {
				t.Errorf("Inventory.Files (-want +got):\n%s", diff)
			}
			// Masked everywhere: not in the inventory, not in the cacheable
			// per-layer results.
			for _, v := range []any{res.Inventory, res.Layers} {
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{dbSecret, ghToken, dbSecret[:6]} {
					if strings.Contains(string(b), s) {
						t.Errorf("serialised %T holds secret %q", v, s)
					}
				}
			}
		})
	}
}
