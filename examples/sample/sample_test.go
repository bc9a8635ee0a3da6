// Package sample builds the small image that ships with the repository
// (examples/sample/image, an OCI layout) from the trees under src/, so the
// README's first command has something real to scan. The test fails when
// the committed layout differs from what the sources build; run
// `go test ./examples/sample -update` after changing src/.
package sample

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/ocibuild"
)

var update = flag.Bool("update", false, "rewrite examples/sample/image")

func build(t *testing.T, dir string) {
	t.Helper()
	layers := []ocibuild.Layer{
		{CreatedBy: "debian:bookworm packages (sample)", Trees: [][2]string{{"src/base", ""}}, Normalize: true},
		{CreatedBy: "COPY app /app; COPY credentials /root/.aws/credentials", Trees: [][2]string{{"src/app", ""}}, Normalize: true},
	}
	cfg := map[string]any{
		"Env":          []string{"PATH=/usr/local/bin:/usr/bin:/bin", "DB_PASSWORD=changeme"},
		"Cmd":          []string{"node", "/app/server.js"},
		"ExposedPorts": map[string]any{"80/tcp": map[string]any{}},
		"WorkingDir":   "/app",
	}
	if err := ocibuild.WriteLayout(dir, "latest", layers, cfg, `ENV DB_PASSWORD=changeme`, `EXPOSE 80`, `CMD ["node","/app/server.js"]`); err != nil {
		t.Fatal(err)
	}
}

func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSampleImageIsCurrent(t *testing.T) {
	if *update {
		os.RemoveAll("image")
		build(t, "image")
		return
	}
	tmp := t.TempDir()
	build(t, tmp)
	want, got := tree(t, tmp), tree(t, "image")
	if len(want) != len(got) {
		t.Fatalf("examples/sample/image has %d files, the sources build %d: run go test ./examples/sample -update", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(b, got[name]) {
			t.Errorf("examples/sample/image/%s differs from what src/ builds: run go test ./examples/sample -update", name)
		}
	}
}
