package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imagetest"
	"github.com/vigilsec/vigil/image/internal/imgconv"
)

var (
	amd64 = image.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = image.Platform{OS: "linux", Architecture: "arm64"}
	armv7 = image.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
)

// memRegistry starts go-containerregistry's in-memory registry; handler
// wraps it when non-nil (to corrupt responses).
func memRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func push(t *testing.T, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatal(err)
	}
}

type summary struct {
	Source, Name, Digest, ID string
	RepoTags                 []string
	Platform                 image.Platform
	Config                   image.Config
	History                  []image.History
	DiffIDs                  []string
	Files                    [][]imagetest.File
}

func summarize(t *testing.T, img *image.Image) summary {
	t.Helper()
	s := summary{Source: img.Source, Name: img.Name, Digest: img.Digest, ID: img.ID, RepoTags: img.RepoTags, Platform: img.Platform, Config: img.Config, History: img.History}
	for _, l := range img.Layers {
		s.DiffIDs = append(s.DiffIDs, l.DiffID)
	}
	s.Files = imagetest.LayerFiles(context.Background(), t, img)
	return s
}

func want(t *testing.T, img v1.Image, nm string, p image.Platform, tagged bool) summary {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := img.ConfigName()
	s := summary{Source: "registry", Name: nm, Digest: d.String(), ID: id.String(), Platform: p,
		Config: imagetest.WantConfig(), History: imagetest.WantHistory(), DiffIDs: imagetest.DiffIDs(t, img), Files: imagetest.WantFiles()}
	if tagged {
		s.RepoTags = []string{nm}
	}
	return s
}

func TestOpenMemory(t *testing.T) {
	host := memRegistry(t, nil)
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	zstdImg := imagetest.Build(t, imagetest.Zstd, arm64)
	plain := imagetest.Build(t, imagetest.Uncompressed, amd64)
	idx := imagetest.Index(t, imagetest.Gzip, amd64, arm64, armv7)
	push(t, host+"/vigil/single:1", single)
	push(t, host+"/vigil/zstd:1", zstdImg)
	push(t, host+"/vigil/plain:1", plain)
	r, _ := name.ParseReference(host + "/vigil/multi:1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	child := map[string]v1.Image{}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		child[d.Platform.String()] = img
	}
	singleDigest, _ := single.Digest()
	for _, tc := range []struct {
		ref  string
		plat *image.Platform
		want summary
	}{
		{ref: host + "/vigil/single:1", want: want(t, single, host+"/vigil/single:1", amd64, true)},
		{ref: host + "/vigil/single@" + singleDigest.String(), want: want(t, single, host+"/vigil/single@"+singleDigest.String(), amd64, false)},
		{ref: host + "/vigil/zstd:1", want: want(t, zstdImg, host+"/vigil/zstd:1", arm64, true)},
		{ref: host + "/vigil/plain:1", want: want(t, plain, host+"/vigil/plain:1", amd64, true)},
		{ref: host + "/vigil/multi:1", plat: &amd64, want: want(t, child["linux/amd64"], host+"/vigil/multi:1", amd64, true)},
		{ref: host + "/vigil/multi:1", plat: &arm64, want: want(t, child["linux/arm64"], host+"/vigil/multi:1", arm64, true)},
		{ref: host + "/vigil/multi:1", plat: &armv7, want: want(t, child["linux/arm/v7"], host+"/vigil/multi:1", armv7, true)},
		{ref: host + "/vigil/multi:1", want: want(t, child["linux/amd64"], host+"/vigil/multi:1", amd64, true)}, // the host (tests run on linux/amd64 or fail here)
	} {
		pl := "host"
		if tc.plat != nil {
			pl = tc.plat.String()
		}
		t.Run(strings.TrimPrefix(tc.ref, host+"/")+"/"+pl, func(t *testing.T) {
			if tc.plat == nil && imgconv.HostPlatform() != amd64 {
				t.Skipf("host is %s", imgconv.HostPlatform())
			}
			img, err := Open(context.Background(), tc.ref, image.Options{Platform: tc.plat})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if d := cmp.Diff(tc.want, summarize(t, img)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	host := memRegistry(t, nil)
	idx := imagetest.Index(t, imagetest.Gzip, amd64, arm64, armv7)
	r, _ := name.ParseReference(host + "/vigil/multi:1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	// An image whose config lists one diff_id too many.
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	cf, _ := single.ConfigFile()
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, cf.RootFS.DiffIDs[0])
	bad, err := mutate.ConfigFile(single, cf)
	if err != nil {
		t.Fatal(err)
	}
	push(t, host+"/vigil/bad:1", bad)
	push(t, host+"/vigil/single:1", single)
	s390 := image.Platform{OS: "linux", Architecture: "s390x"}
	for _, tc := range []struct {
		name, ref string
		plat      *image.Platform
		is        error
		wantErr   string
	}{
		{"missing platform", host + "/vigil/multi:1", &s390, ErrNoPlatform,
			"no image for the requested platform linux/s390x; available: linux/amd64, linux/arm/v7, linux/arm64 (choose one with --platform)"},
		{"single image other platform", host + "/vigil/single:1", &arm64, ErrNoPlatform, "available: linux/amd64"},
		{"unknown tag", host + "/vigil/multi:nope", nil, ErrNotFound, "image not found in the registry (check the name and tag)"},
		{"unknown repo", host + "/vigil/nothing:1", nil, ErrNotFound, "image not found"},
		{"layer count", host + "/vigil/bad:1", nil, nil, "the config lists 3 diff_ids but the manifest has 2 layers"},
		{"bad reference", "UPPER/case::x", nil, nil, `"UPPER/case::x" is not an image reference`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Open(context.Background(), tc.ref, image.Options{Platform: tc.plat})
			if err == nil {
				img.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.ref) {
				t.Errorf("err = %v\nwant it to contain %q and the reference", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
}

// TestCorruptBlob serves a layer blob with one byte changed: the digest
// check must fail the read and name the layer.
func TestCorruptBlob(t *testing.T) {
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	m, _ := single.Manifest()
	target := "/blobs/" + m.Layers[1].Digest.String()
	host := memRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, target) {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			b := rec.Body.Bytes()
			b[len(b)-5] ^= 0xff
			w.WriteHeader(rec.Code)
			w.Write(b)
		})
	})
	push(t, host+"/vigil/single:1", single)
	img, err := Open(context.Background(), host+"/vigil/single:1", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	rc, err := img.Layers[1].Open(context.Background())
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	if err == nil || !strings.Contains(err.Error(), m.Layers[1].Digest.String()) {
		t.Fatalf("err = %v, want a read error naming %s", err, m.Layers[1].Digest)
	}
}

type recorder struct {
	mu     sync.Mutex
	starts map[string]int64
	bytes  map[string]int64
	done   map[string]error
}

func (r *recorder) Start(id, label string, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts[id] = total
}

func (r *recorder) Advance(id string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bytes[id] += n
}

func (r *recorder) Done(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[id] = err
}

func TestProgress(t *testing.T) {
	host := memRegistry(t, nil)
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	push(t, host+"/vigil/single:1", single)
	rec := &recorder{starts: map[string]int64{}, bytes: map[string]int64{}, done: map[string]error{}}
	img, err := Open(context.Background(), host+"/vigil/single:1", image.Options{Progress: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	imagetest.LayerFiles(context.Background(), t, img)
	m, _ := single.Manifest()
	wantStarts, wantBytes, wantDone := map[string]int64{}, map[string]int64{}, map[string]error{}
	for _, l := range m.Layers {
		wantStarts[l.Digest.String()] = l.Size
		wantBytes[l.Digest.String()] = l.Size
		wantDone[l.Digest.String()] = nil
	}
	if d := cmp.Diff([]any{wantStarts, wantBytes, wantDone}, []any{rec.starts, rec.bytes, rec.done}); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
}

// TestInsecureTLS serves the in-memory registry over TLS with a
// self-signed certificate on 127.0.0.2 (an address go-containerregistry
// does not treat as plain-HTTP localhost): verification must fail without
// Insecure and pass with it.
func TestInsecureTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	s := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	s.Listener = l
	s.StartTLS()
	defer s.Close()
	host := strings.TrimPrefix(s.URL, "https://")
	single := imagetest.Build(t, imagetest.Gzip, amd64)
	tr := s.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.InsecureSkipVerify = true
	pr, err := name.ParseReference(host+"/vigil/single:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(pr, single, remote.WithTransport(tr)); err != nil {
		t.Fatal(err)
	}
	ref := host + "/vigil/single:1"
	if _, err := Open(context.Background(), ref, image.Options{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without Insecure: err = %v, want a certificate error", err)
	}
	img, err := Open(context.Background(), ref, image.Options{Insecure: true})
	if err != nil {
		t.Fatalf("with Insecure: %v", err)
	}
	defer img.Close()
	if d := cmp.Diff(want(t, single, ref, amd64, true), summarize(t, img)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestDockerRegistry pushes with skopeo to Debian's docker-registry (the
// CNCF distribution server), open and anonymous, then behind htpasswd
// basic auth with credentials from options and from a Docker config file.
func TestDockerRegistry(t *testing.T) {
	skopeo := imagetest.Require(t, "skopeo")
	open := imagetest.StartRegistry(t, "", "")
	locked := imagetest.StartRegistry(t, "vigil", "s3cret")
	src := imagetest.Build(t, imagetest.OCIGzip, amd64)
	layoutDir := writeLayout(t, src)
	imagetest.Run(t, skopeo, "copy", "--quiet", "--dest-tls-verify=false", "oci:"+layoutDir+":v1", "docker://"+open.Host+"/vigil/test:1")
	imagetest.Run(t, skopeo, "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "vigil:s3cret", "oci:"+layoutDir+":v1", "docker://"+locked.Host+"/vigil/test:1")

	emptyConfig := t.TempDir()
	goodConfig := dockerConfig(t, locked.Host, "vigil", "s3cret")
	badConfig := dockerConfig(t, locked.Host, "vigil", "wrong")
	for _, tc := range []struct {
		name      string
		host      string
		dockerCfg string
		user      string
		pass      string
		is        error
	}{
		{name: "anonymous", host: open.Host, dockerCfg: emptyConfig},
		{name: "no credentials", host: locked.Host, dockerCfg: emptyConfig, is: ErrUnauthorized},
		{name: "username and password", host: locked.Host, dockerCfg: emptyConfig, user: "vigil", pass: "s3cret"},
		{name: "wrong password", host: locked.Host, dockerCfg: emptyConfig, user: "vigil", pass: "nope", is: ErrUnauthorized},
		{name: "docker config keychain", host: locked.Host, dockerCfg: goodConfig},
		{name: "options beat keychain", host: locked.Host, dockerCfg: badConfig, user: "vigil", pass: "s3cret"},
		{name: "wrong keychain password", host: locked.Host, dockerCfg: badConfig, is: ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", tc.dockerCfg)
			ref := tc.host + "/vigil/test:1"
			img, err := Open(context.Background(), ref, image.Options{Username: tc.user, Password: tc.pass})
			if tc.is != nil {
				if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), "--username/--password") {
					t.Fatalf("err = %v, want %v with advice", err, tc.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			w := want(t, src, ref, amd64, true)
			got := summarize(t, img)
			w.Digest = got.Digest // skopeo may rewrite the manifest; layers and config must not change
			if d := cmp.Diff(w, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func writeLayout(t *testing.T, img v1.Image) string {
	t.Helper()
	return imagetest.WriteLayout(t, img, "v1")
}

func dockerConfig(t *testing.T, host, user, pass string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
