package artifact

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/update"
)

// testDB imports a few real records into a database file.
func testDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db", "vigil.db")
	if _, err := update.Import(context.Background(), path, testutil.Fixtures(t, "vulndata", "npm"), testutil.Fixtures(t, "vulndata", "Maven")); err != nil {
		t.Fatal(err)
	}
	return path
}

type progress struct {
	mu       sync.Mutex
	advanced int64
	done     int
}

func (p *progress) Start(id, label string, total int64) {}
func (p *progress) Advance(id string, n int64)          { p.mu.Lock(); p.advanced += n; p.mu.Unlock() }
func (p *progress) Done(id string, err error)           { p.mu.Lock(); p.done++; p.mu.Unlock() }

func TestPushPull(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref := host + "/vigil/db:1"
	src := testDB(t)
	ctx := context.Background()
	var pp progress
	digest, err := Push(ctx, ref, src, WithInsecure(), WithProgress(&pp))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(digest, "sha256:") || pp.done != 1 || pp.advanced == 0 {
		t.Errorf("digest %q, progress done %d advanced %d", digest, pp.done, pp.advanced)
	}
	// The manifest is an OCI artifact with the empty config.
	r, _ := name.ParseReference(ref, name.Insecure)
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"artifactType":"` + ArtifactType, `"application/vnd.oci.empty.v1+json"`, LayerMediaType, AnnotationDiffID} {
		if !bytes.Contains(desc.Manifest, []byte(want)) {
			t.Errorf("manifest lacks %s:\n%s", want, desc.Manifest)
		}
	}

	dst := filepath.Join(t.TempDir(), "pulled", "vigil.db")
	var pl progress
	got, err := Pull(ctx, host+"/vigil/db@"+digest, dst, WithInsecure(), WithProgress(&pl))
	if err != nil {
		t.Fatal(err)
	}
	if got != digest || pl.done != 1 || pl.advanced == 0 {
		t.Errorf("pull digest %q (pushed %q), progress done %d advanced %d", got, digest, pl.done, pl.advanced)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(dst)
	if !bytes.Equal(a, b) {
		t.Fatal("pulled file differs from the pushed one")
	}
	db, err := vulndb.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	as, err := db.Advisories(ctx, "npm", "lodash")
	if err != nil || len(as) != 2 {
		t.Errorf("lookup in the pulled database: %v, %v", as, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(dst))
	if len(ents) != 1 {
		t.Errorf("files beside the pulled database: %d", len(ents))
	}
	if _, err := Pull(ctx, ref, filepath.Join(t.TempDir(), "small.db"), WithInsecure(), WithMaxSize(1024)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("pull over the size limit: %v", err)
	}
}

func TestPullRefuses(t *testing.T) {
	// A registry that corrupts blob downloads.
	reg := registry.New()
	corrupt := false
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := corrupt
		mu.Unlock()
		if c && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if len(body) > 100 {
				body[len(body)/2] ^= 0xff
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := name.ParseReference(host+"/some/image:latest", name.Insecure)
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	if _, err := Pull(ctx, host+"/some/image:latest", filepath.Join(t.TempDir(), "x.db"), WithInsecure()); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("pull of an ordinary image: %v, want ErrNotDatabase", err)
	}

	if _, err := Push(ctx, host+"/vigil/db:1", testDB(t), WithInsecure()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	corrupt = true
	mu.Unlock()
	dst := filepath.Join(t.TempDir(), "vigil.db")
	if _, err := Pull(ctx, host+"/vigil/db:1", dst, WithInsecure()); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("pull of a corrupted blob: %v, want it reported corrupt", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed pull left %s: %v", dst, err)
	}
	if _, err := Pull(ctx, "not a reference", dst); err == nil {
		t.Error("bad reference accepted")
	}
	if _, err := Push(ctx, host+"/vigil/db:2", filepath.Join(t.TempDir(), "missing.db"), WithInsecure()); err == nil {
		t.Error("push of a missing file succeeded")
	}
}
