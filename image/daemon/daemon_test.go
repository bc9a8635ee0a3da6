package daemon

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imagetest"
	"github.com/vigilsec/vigil/image/internal/imgconv"
)

func TestFindEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flavor  string
		opt     string
		env     map[string]string
		exists  []string
		want    Endpoint
		wantErr string
	}{
		{name: "docker default", flavor: Docker, want: Endpoint{"unix", "/var/run/docker.sock"}},
		{name: "DOCKER_HOST unix", flavor: Docker, env: map[string]string{"DOCKER_HOST": "unix:///tmp/d.sock"}, want: Endpoint{"unix", "/tmp/d.sock"}},
		{name: "DOCKER_HOST tcp", flavor: Docker, env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376"}, want: Endpoint{"tcp", "127.0.0.1:2376"}},
		{name: "tcp default port", flavor: Docker, env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1"}, want: Endpoint{"tcp", "127.0.0.1:2375"}},
		{name: "option beats env", flavor: Docker, opt: "unix:///o.sock", env: map[string]string{"DOCKER_HOST": "tcp://h:1"}, want: Endpoint{"unix", "/o.sock"}},
		{name: "ssh unsupported", flavor: Docker, opt: "ssh://me@host", wantErr: `scheme "ssh" is not supported`},
		{name: "podman rootless", flavor: Podman, env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, exists: []string{"/run/user/1000/podman/podman.sock"}, want: Endpoint{"unix", "/run/user/1000/podman/podman.sock"}},
		{name: "podman rootless socket missing", flavor: Podman, env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, want: Endpoint{"unix", "/run/podman/podman.sock"}},
		{name: "podman ignores DOCKER_HOST", flavor: Podman, env: map[string]string{"DOCKER_HOST": "tcp://h:1"}, want: Endpoint{"unix", "/run/podman/podman.sock"}},
		{name: "podman CONTAINER_HOST", flavor: Podman, env: map[string]string{"CONTAINER_HOST": "unix:///c.sock"}, want: Endpoint{"unix", "/c.sock"}},
		{name: "unknown flavor", flavor: "lxc", wantErr: `unknown engine "lxc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			ex := func(p string) bool {
				for _, e := range tc.exists {
					if e == p {
						return true
					}
				}
				return false
			}
			got, err := findEndpoint(image.Options{DockerHost: tc.opt}, tc.flavor, getenv, ex)
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

// recorder wraps the client's transport and notes every request path, so
// the tests see what the engine was asked and when.
type recorder struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	paths []string
}

func (r *recorder) wrap(rt http.RoundTripper) http.RoundTripper {
	r.rt = rt
	return r
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	return r.rt.RoundTrip(req)
}

// endpoints lists the last path element of every request: json, history,
// get.
func (r *recorder) endpoints() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.paths {
		out = append(out, p[strings.LastIndexByte(p, '/')+1:])
	}
	return out
}

// saves counts the exports requested.
func (r *recorder) saves() int {
	n := 0
	for _, e := range r.endpoints() {
		if e == "get" {
			n++
		}
	}
	return n
}

// progressLog records progress calls.
type progressLog struct {
	mu     sync.Mutex
	starts []string
	bytes  int64
	dones  int
}

func (p *progressLog) Start(id, label string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts = append(p.starts, label)
}

func (p *progressLog) Advance(id string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes += n
}

func (p *progressLog) Done(id string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dones++
}

// fakeEngine serves the three endpoints vigil uses over a unix socket, from
// a docker-archive written by go-containerregistry with uncompressed layers
// (as `docker save` writes them). It stands in for a Podman service (Podman
// speaks the same API) where none is installed, and lets the tests produce
// engine failures.
type fakeEngine struct {
	sock    string
	archive []byte
	inspect Inspect
	history []HistoryItem
	// overrides
	inspectStatus int
	inspectBody   string
	historyStatus int
	historyBody   string
	saveStatus    int
	saveBody      []byte
	// saveGate, when set, holds every export until it is closed.
	saveGate chan struct{}
}

func startFake(t *testing.T, f *fakeEngine) {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigil-eng-") // short path: unix socket names are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f.sock = filepath.Join(dir, "e.sock")
	l, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(w http.ResponseWriter, status int, msg string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":%q}`, msg)
	}
	s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/json"):
			switch {
			case f.inspectStatus != 0:
				fail(w, f.inspectStatus, "engine says no")
			case f.inspectBody != "":
				fmt.Fprint(w, f.inspectBody)
			default:
				json.NewEncoder(w).Encode(f.inspect)
			}
		case strings.HasSuffix(r.URL.Path, "/history"):
			switch {
			case f.historyStatus != 0:
				fail(w, f.historyStatus, "no history")
			case f.historyBody != "":
				fmt.Fprint(w, f.historyBody)
			default:
				json.NewEncoder(w).Encode(f.history)
			}
		case strings.HasSuffix(r.URL.Path, "/get"):
			if f.saveGate != nil {
				select {
				case <-f.saveGate:
				case <-r.Context().Done():
					return
				}
			}
			switch {
			case f.saveStatus != 0:
				fail(w, f.saveStatus, "save failed")
			case f.saveBody != nil:
				w.Write(f.saveBody)
			default:
				w.Write(f.archive)
			}
		default:
			http.NotFound(w, r)
		}
	})}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
}

// fakeFromImage serves img under tag, with the inspect and history answers
// a Docker Engine gives for it: the history newest first, each step that
// made a layer with that layer's size.
func fakeFromImage(t *testing.T, tag string, img v1.Image) *fakeEngine {
	t.Helper()
	var buf bytes.Buffer
	r, _ := name.NewTag(tag)
	if err := tarball.Write(r, img, &buf); err != nil {
		t.Fatal(err)
	}
	id, _ := img.ConfigName()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	in := Inspect{
		ID: id.String(), RepoTags: []string{tag}, RepoDigests: []string{"vigil/test@sha256:" + strings.Repeat("ab", 32)},
		Created: cf.Created.Format(time.RFC3339Nano), Os: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant,
		Size: int64(buf.Len()), Config: &cf.Config, RootFS: RootFS{Type: "layers"},
	}
	for _, d := range cf.RootFS.DiffIDs {
		in.RootFS.Layers = append(in.RootFS.Layers, d.String())
	}
	tars := imagetest.LayerTars()
	var hist []HistoryItem
	li := 0
	for _, h := range cf.History {
		it := HistoryItem{Created: h.Created.Unix(), CreatedBy: h.CreatedBy, Comment: h.Comment}
		if !h.EmptyLayer {
			it.Size = int64(len(tars[li]))
			li++
		}
		hist = append([]HistoryItem{it}, hist...)
	}
	return &fakeEngine{archive: buf.Bytes(), inspect: in, history: hist}
}

// testImage is imagetest's image with uncompressed layers, as engines save.
func testImage(t *testing.T) v1.Image {
	return imagetest.Build(t, imagetest.Uncompressed, image.Platform{OS: "linux", Architecture: "amd64"})
}

// openFake starts f and opens ref from it as Podman would be, recording
// requests.
func openFake(t *testing.T, f *fakeEngine, ref string, opts image.Options) (*image.Image, *recorder, error) {
	t.Helper()
	startFake(t, f)
	t.Setenv("CONTAINER_HOST", "unix://"+f.sock)
	rec := &recorder{}
	img, err := open(context.Background(), ref, opts, Podman, rec.wrap)
	return img, rec, err
}

func tempEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestFakePodman(t *testing.T) {
	src := testImage(t)
	id, _ := src.ConfigName()
	otherID := "sha256:" + strings.Repeat("cd", 32)
	tars := imagetest.LayerTars()
	for _, tc := range []struct {
		name  string
		setup func(f *fakeEngine)
		ref   string
		// eager: the history is ambiguous, so Open exports at once.
		eager bool
		// openErr fails Open; layerErr fails every Layer.Open.
		openErr, layerErr string
		is                error
	}{
		{name: "lazy", ref: "vigil/test:1"},
		{name: "by id", ref: id.String()},
		{name: "ambiguous history: a layer of size 0", ref: "vigil/test:1", eager: true, setup: func(f *fakeEngine) {
			for i := range f.history {
				if f.history[i].Size != 0 {
					f.history[i].Size = 0
					break
				}
			}
		}},
		{name: "no history", ref: "vigil/test:1", eager: true, setup: func(f *fakeEngine) { f.history = []HistoryItem{} }},
		{name: "inspect lacks diffIDs", ref: "vigil/test:1", eager: true, setup: func(f *fakeEngine) { f.inspect.RootFS = RootFS{} }},
		{name: "inspect has a bad diffID", ref: "vigil/test:1", eager: true, setup: func(f *fakeEngine) { f.inspect.RootFS.Layers[0] = "sha256:../../x" }},
		{name: "not found", ref: "vigil/none:1", setup: func(f *fakeEngine) { f.inspectStatus = 404 }, is: ErrNotFound, openErr: `podman has no image "vigil/none:1" (engine says no)`},
		{name: "engine error", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspectStatus = 500 }, openErr: "podman answered 500 Internal Server Error: engine says no"},
		{name: "inspect not json", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspectBody = "<html>" }, openErr: "image inspect response is not JSON"},
		{name: "history gone", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.historyStatus = 404 }, is: ErrNotFound, openErr: `podman has no image "` + id.String() + `" (no history) (inspected as "vigil/test:1")`},
		{name: "history not json", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.historyBody = "<html>" }, openErr: "image history response is not a JSON list"},
		{name: "export fails", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.saveStatus = 500 },
			layerErr: "daemon: export vigil/test:1 from podman to read its layers: save vigil/test:1: podman answered 500 Internal Server Error: save failed"},
		{name: "export fails, ambiguous history", ref: "vigil/test:1", eager: true, setup: func(f *fakeEngine) { f.saveStatus = 500; f.history = nil },
			openErr: "daemon: save vigil/test:1: podman answered 500 Internal Server Error: save failed"},
		{name: "image removed before the export", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.saveStatus = 404 }, is: ErrNotFound,
			layerErr: "podman no longer has image " + id.String()},
		{name: "export truncated", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.saveBody = f.archive[:len(f.archive)/3] },
			layerErr: "read the image vigil/test:1 saved by podman"},
		{name: "image changed", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspect.ID = otherID }, is: ErrChanged,
			layerErr: "daemon: export vigil/test:1 from podman to read its layers: vigil/test:1 changed while it was saved; try again: inspected image " + otherID + " is not in the export"},
		{name: "layers changed", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspect.RootFS.Layers[1] = otherID }, is: ErrChanged,
			layerErr: "daemon: vigil/test:1 changed while it was saved; try again: inspected layers"},
		{name: "image changed, ambiguous history", ref: "vigil/test:1", eager: true, setup: func(f *fakeEngine) { f.inspect.ID = otherID; f.history = nil }, is: ErrChanged,
			openErr: "daemon: vigil/test:1 changed while it was saved; try again"},
		{name: "bad ref", ref: "../../x", openErr: "is not an image reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeFromImage(t, "vigil/test:1", src)
			if tc.setup != nil {
				tc.setup(f)
			}
			tmp := t.TempDir()
			prog := &progressLog{}
			img, rec, err := openFake(t, f, tc.ref, image.Options{TempDir: tmp, Progress: prog})
			checkErr := func(err error, want string) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v\nwant it to contain %q", err, want)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("err = %v, want errors.Is %v", err, tc.is)
				}
			}
			if tc.openErr != "" {
				if err == nil {
					img.Close()
				}
				checkErr(err, tc.openErr)
				if left := tempEntries(t, tmp); len(left) != 0 {
					t.Errorf("temp files left after a failed open: %v", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			wantSaves := 0
			if tc.eager {
				wantSaves = 1
			}
			if got := rec.saves(); got != wantSaves {
				t.Errorf("Open requested %d exports (%v), want %d", got, rec.endpoints(), wantSaves)
			}
			if len(prog.starts) != wantSaves {
				t.Errorf("Open showed progress %v, want %d exports", prog.starts, wantSaves)
			}
			// Metadata, whichever path built it.
			var diffIDs, digests, createdBy []string
			for _, l := range img.Layers {
				diffIDs = append(diffIDs, l.DiffID)
				digests = append(digests, l.Digest)
				if l.History != nil {
					createdBy = append(createdBy, l.History.CreatedBy)
				}
			}
			wantDiff := imagetest.DiffIDs(t, src)
			if !tc.eager {
				wantDiff = f.inspect.RootFS.Layers // what the engine said
			}
			got := []any{img.Source, img.Ref, img.ID, img.Name, img.RepoTags, img.Digest, img.Platform, img.Created.Equal(imagetest.WantHistory()[0].Created), img.Config, img.History, diffIDs, digests, createdBy}
			want := []any{"podman", tc.ref, f.inspect.ID, "vigil/test:1", []string{"vigil/test:1"}, "sha256:" + strings.Repeat("ab", 32), image.Platform{OS: "linux", Architecture: "amd64"}, true,
				imagetest.WantConfig(), imagetest.WantHistory(), wantDiff, wantDiff,
				[]string{imagetest.WantHistory()[0].CreatedBy, imagetest.WantHistory()[2].CreatedBy}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("metadata (-want +got):\n%s", d)
			}
			if !tc.eager {
				// The lazy path reports the engine's layer sizes.
				for i, l := range img.Layers {
					if l.Size != int64(len(tars[i])) {
						t.Errorf("layer %d size %d, want the engine's %d", i, l.Size, len(tars[i]))
					}
				}
			}
			if tc.layerErr != "" {
				var errs []string
				for i, l := range img.Layers {
					rc, err := l.Open(context.Background())
					if err == nil {
						rc.Close()
					}
					checkErr(err, tc.layerErr)
					errs = append(errs, fmt.Sprint(i, err))
				}
				if rec.saves() != 1 {
					t.Errorf("%d exports for %d failed layer opens, want one (remembered): %v", rec.saves(), len(img.Layers), errs)
				}
				if left := tempEntries(t, tmp); len(left) != 0 {
					t.Errorf("temp files left after a failed export: %v", left)
				}
				if err := img.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if d := cmp.Diff(imagetest.WantFiles(), imagetest.LayerFiles(context.Background(), t, img)); d != "" {
				t.Errorf("layer files (-want +got):\n%s", d)
			}
			if got := rec.saves(); got != 1 {
				t.Errorf("%d exports after reading every layer, want 1: %v", got, rec.endpoints())
			}
			if len(prog.starts) != 1 || prog.dones != 1 || prog.bytes != int64(len(f.archive)) {
				t.Errorf("progress: starts %v, %d bytes, %d done; want one export of %d bytes", prog.starts, prog.bytes, prog.dones, len(f.archive))
			}
			if left := tempEntries(t, tmp); len(left) != 1 {
				t.Errorf("want one spool directory while open, have %v", left)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			if left := tempEntries(t, tmp); len(left) != 0 {
				t.Errorf("temp files left after Close: %v", left)
			}
		})
	}
}

// TestNoExportWithoutLayers: opening and closing an image (all a warm scan
// or `vigil inspect` does) asks the engine for inspect and history only.
func TestNoExportWithoutLayers(t *testing.T) {
	f := fakeFromImage(t, "vigil/test:1", testImage(t))
	tmp := t.TempDir()
	prog := &progressLog{}
	img, rec, err := openFake(t, f, "vigil/test:1", image.Options{TempDir: tmp, Progress: prog})
	if err != nil {
		t.Fatal(err)
	}
	left := tempEntries(t, tmp)
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	got := []any{rec.paths, left, prog.starts}
	want := []any{[]string{"/images/vigil/test:1/json", "/images/" + f.inspect.ID + "/history"}, []string(nil), []string(nil)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests, temp files, progress (-want +got):\n%s", d)
	}
	// A layer opened after Close fails and exports nothing.
	_, err = img.Layers[0].Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the image is closed") {
		t.Errorf("Layer.Open after Close: err = %v, want the image is closed", err)
	}
	if n := rec.saves(); n != 0 {
		t.Errorf("%d exports after Close", n)
	}
}

// TestExportOnce opens the layers from many goroutines at once: one export
// serves them all, and a caller that gives up waiting for it gets its own
// context's error without spoiling the export for the others.
func TestExportOnce(t *testing.T) {
	f := fakeFromImage(t, "vigil/test:1", testImage(t))
	f.saveGate = make(chan struct{})
	img, rec, err := openFake(t, f, "vigil/test:1", image.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	const n = 8
	files := make([][]imagetest.File, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := img.Layers[g%len(img.Layers)].Open(context.Background())
			if err != nil {
				errs[g] = err
				return
			}
			defer rc.Close()
			files[g], errs[g] = imagetest.ListTar(rc)
		}()
	}
	// While the export is held, a caller whose context ends stops waiting.
	for rec.saves() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, waitErr := img.Layers[1].Open(ctx)
	cancel()
	close(f.saveGate)
	wg.Wait()
	if !errors.Is(waitErr, context.DeadlineExceeded) || !strings.Contains(waitErr.Error(), "wait for podman to export vigil/test:1") {
		t.Errorf("impatient caller: err = %v, want its deadline", waitErr)
	}
	want := imagetest.WantFiles()
	for g := 0; g < n; g++ {
		if errs[g] != nil {
			t.Errorf("goroutine %d: %v", g, errs[g])
			continue
		}
		if d := cmp.Diff(want[g%len(want)], files[g]); d != "" {
			t.Errorf("goroutine %d layer files (-want +got):\n%s", g, d)
		}
	}
	if got := rec.saves(); got != 1 {
		t.Errorf("%d exports, want 1: %v", got, rec.endpoints())
	}
}

func TestUnavailable(t *testing.T) {
	dir, err := os.MkdirTemp("", "vigil-eng-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "none.sock")
	opts := image.Options{DockerHost: "unix://" + sock}
	if Available(opts, Docker) {
		t.Error("Available with no socket file")
	}
	_, err = Open(context.Background(), "vigil/test:1", opts, Docker)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), sock) {
		t.Fatalf("err = %v, want ErrUnavailable naming %s", err, sock)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// meta is the metadata of an image that the lazy and eager paths must
// agree on, with history times cut to the whole seconds the history
// endpoint reports.
type meta struct {
	Source, Ref, Name, Digest, ID string
	RepoTags                      []string
	Platform                      image.Platform
	Created                       time.Time
	Config                        image.Config
	History                       []image.History
	Layers                        []layerMeta
}

type layerMeta struct {
	DiffID, Digest, MediaType, CreatedBy string
}

func metaOf(img *image.Image) meta {
	m := meta{Source: img.Source, Ref: img.Ref, Name: img.Name, Digest: img.Digest, ID: img.ID, RepoTags: img.RepoTags,
		Platform: img.Platform, Created: img.Created, Config: img.Config}
	for _, h := range img.History {
		h.Created = h.Created.Truncate(time.Second)
		m.History = append(m.History, h)
	}
	for _, l := range img.Layers {
		lm := layerMeta{DiffID: l.DiffID, Digest: l.Digest, MediaType: l.MediaType}
		if l.History != nil {
			lm.CreatedBy = l.History.CreatedBy
		}
		m.Layers = append(m.Layers, lm)
	}
	return m
}

// TestLazyConfigCaptured checks the lazy mapping on inspect and history
// answers captured from Docker 20.10 and Podman 4.3, against the
// configuration the same engines exported for the same images (whose digest
// is the inspected Id).
func TestLazyConfigCaptured(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ambiguous bool
		sizes     []int64
	}{
		{name: "docker-lazy", sizes: []int64{1982287, 3, 2}},
		{name: "podman-import", sizes: []int64{1996800}},
		// RUN rm only deletes a file: a real layer the history says has
		// size 0.
		{name: "docker-ambiguous", ambiguous: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := ParseInspect(readTestdata(t, tc.name+".inspect.json"))
			if err != nil {
				t.Fatal(err)
			}
			hist, err := ParseHistory(readTestdata(t, tc.name+".history.json"))
			if err != nil {
				t.Fatal(err)
			}
			cf, sizes, err := lazyConfig(in, hist)
			if tc.ambiguous {
				if !errors.Is(err, errAmbiguous) {
					t.Fatalf("err = %v, want errAmbiguous", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			saved := readTestdata(t, tc.name+".config.json")
			if got := imgconv.Digest(saved); got != in.ID {
				t.Fatalf("captured config has digest %s, inspect says %s", got, in.ID)
			}
			want, err := imgconv.ParseConfig(saved, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			var lazy, eager image.Image
			imgconv.Apply(&lazy, cf)
			imgconv.Apply(&eager, want)
			for i := range eager.History {
				eager.History[i].Created = eager.History[i].Created.Truncate(time.Second)
			}
			got := []any{lazy.Platform, lazy.Created, lazy.Config, lazy.History, cf.RootFS.DiffIDs, sizes}
			wnt := []any{eager.Platform, eager.Created, eager.Config, eager.History, want.RootFS.DiffIDs, tc.sizes}
			if d := cmp.Diff(wnt, got); d != "" {
				t.Errorf("lazy vs saved config (-saved +lazy):\n%s", d)
			}
		})
	}
}

func TestLazyConfigEdges(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("2", 64)
	for _, tc := range []struct {
		name      string
		in        Inspect
		hist      []HistoryItem
		want      []image.History
		sizes     []int64
		ambiguous string
	}{
		{name: "unknown size and missing times",
			in:    Inspect{RootFS: RootFS{Type: "layers", Layers: []string{d1, d2}}},
			hist:  []HistoryItem{{CreatedBy: "CMD x", Created: -62135596800}, {CreatedBy: "RUN b", Size: -1, Created: 1700000000}, {CreatedBy: "ADD a", Size: 5}},
			want:  []image.History{{CreatedBy: "ADD a"}, {CreatedBy: "RUN b", Created: time.Unix(1700000000, 0).UTC()}, {CreatedBy: "CMD x", EmptyLayer: true}},
			sizes: []int64{5, 0}},
		{name: "no layers, no history", in: Inspect{}, sizes: nil},
		{name: "too many sized entries", in: Inspect{RootFS: RootFS{Layers: []string{d1}}}, hist: []HistoryItem{{Size: 1}, {Size: 2}}, ambiguous: "2 history entries of non-zero size for 1 layers"},
		{name: "bad diffID", in: Inspect{RootFS: RootFS{Layers: []string{"md5:00"}}}, hist: []HistoryItem{{Size: 1}}, ambiguous: "bad diffID"},
		{name: "bad created", in: Inspect{Created: "yesterday"}, ambiguous: "inspect Created"},
		{name: "not layers", in: Inspect{RootFS: RootFS{Type: "snapshot"}}, ambiguous: "RootFS type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cf, sizes, err := lazyConfig(&tc.in, tc.hist)
			if tc.ambiguous != "" {
				if !errors.Is(err, errAmbiguous) || !strings.Contains(err.Error(), tc.ambiguous) {
					t.Fatalf("err = %v, want errAmbiguous with %q", err, tc.ambiguous)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var img image.Image
			imgconv.Apply(&img, cf)
			if d := cmp.Diff([]any{tc.want, tc.sizes}, []any{img.History, sizes}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseInspect(f *testing.F) {
	f.Add([]byte(`{"Id":"sha256:` + strings.Repeat("a", 64) + `","RepoTags":["a:1"],"Os":"linux","Architecture":"amd64","Size":10}`))
	f.Add([]byte(`{"Id":"x"}`))
	for _, n := range []string{"docker-lazy", "docker-ambiguous", "podman-import"} {
		f.Add(readTestdata(f, n+".inspect.json"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseInspect(data)
		if err == nil && !strings.HasPrefix(in.ID, "sha") {
			t.Fatalf("accepted Id %q", in.ID)
		}
	})
}

// FuzzLazyConfig feeds an inspect and a history answer through the parsers
// and the mapping: no panic, and an accepted mapping has one valid diffID
// and one size per non-empty history entry.
func FuzzLazyConfig(f *testing.F) {
	for _, n := range []string{"docker-lazy", "docker-ambiguous", "podman-import"} {
		f.Add(readTestdata(f, n+".inspect.json"), readTestdata(f, n+".history.json"))
	}
	f.Add([]byte(`{"Id":"sha256:`+strings.Repeat("a", 64)+`"}`), []byte(`[{"Size":-1},{"Created":-1}]`))
	f.Fuzz(func(t *testing.T, inData, histData []byte) {
		in, err := ParseInspect(inData)
		if err != nil {
			return
		}
		hist, err := ParseHistory(histData)
		if err != nil {
			return
		}
		cf, sizes, err := lazyConfig(in, hist)
		if err != nil {
			if !errors.Is(err, errAmbiguous) {
				t.Fatalf("error not marked ambiguous: %v", err)
			}
			return
		}
		nonEmpty := 0
		for _, h := range cf.History {
			if !h.EmptyLayer {
				nonEmpty++
			}
		}
		if len(cf.RootFS.DiffIDs) != len(in.RootFS.Layers) || len(sizes) != nonEmpty || nonEmpty != len(cf.RootFS.DiffIDs) || len(cf.History) != len(hist) {
			t.Fatalf("diffIDs %d/%d, sizes %d, non-empty %d, history %d/%d", len(cf.RootFS.DiffIDs), len(in.RootFS.Layers), len(sizes), nonEmpty, len(cf.History), len(hist))
		}
		for _, s := range sizes {
			if s < 0 {
				t.Fatalf("negative size %d", s)
			}
		}
		for _, d := range cf.RootFS.DiffIDs {
			if _, err := imgconv.ParseHash(d.String()); err != nil {
				t.Fatalf("accepted diffID %q: %v", d, err)
			}
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	for _, n := range []string{"docker-lazy", "docker-ambiguous", "podman-import"} {
		f.Add(readTestdata(f, n+".history.json"))
	}
	f.Add([]byte(`[{"Created":1,"Size":2}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := ParseHistory(data)
		if err != nil {
			return
		}
		// What parsed re-encodes and parses to the same entries.
		b, err := json.Marshal(hs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseHistory(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(hs, again); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}

// dockerTestImages builds, on the real engine, an image from a root file
// system made here (busybox for the shell) and a multi-stage Dockerfile
// whose final stage copies from the first stage, deletes a file, and has
// ENV, EXPOSE and CMD steps between its RUN steps. Every one of its layers
// adds bytes, so its history lines up with its layers (the lazy path). The
// second image adds an empty file on top: a real layer the engine reports
// with size 0, which makes the history ambiguous (the eager path). The
// images are removed when the test ends.
func dockerTestImages(t *testing.T) (lazy, ambiguous string) {
	t.Helper()
	imagetest.RequireDocker(t)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		if imagetest.InCI() {
			t.Fatalf("busybox-static is required in CI: %v", err)
		}
		t.Skipf("no /bin/busybox: %v", err)
	}
	suffix := fmt.Sprintf("%d", rand.Uint32())
	base := "vigil-test-base-" + suffix + ":1"
	app := "vigil-test-app-" + suffix + ":1"
	amb := "vigil-test-amb-" + suffix + ":1"
	dir := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, bb)
	for _, l := range []string{"sh", "rm", "mkdir", "echo"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	add(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "etc/os-release", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("ID=vigiltest\n"))
	add(&tar.Header{Name: "etc/secret.txt", Typeflag: tar.TypeReg, Mode: 0o600}, []byte("password=hunter2\n"))
	add(&tar.Header{Name: "etc/hard", Typeflag: tar.TypeLink, Linkname: "etc/os-release"}, nil)
	tw.Close()
	rootfs := filepath.Join(dir, "rootfs.tar")
	if err := os.WriteFile(rootfs, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		imagetest.Run(t, "docker", "rmi", "-f", amb, app, base)
	})
	imagetest.Run(t, "docker", "import", rootfs, base)
	build := func(tag, df string) {
		ctxDir, err := os.MkdirTemp(dir, "ctx-")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctxDir, "empty"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		imagetest.Run(t, "docker", "build", "-q", "-t", tag, ctxDir)
	}
	build(app, `FROM `+base+` AS build
RUN mkdir -p /out && echo built > /out/artifact.txt
FROM `+base+`
COPY --from=build /out/artifact.txt /app/artifact.txt
ENV GREETING=hello
RUN rm /etc/secret.txt && echo 1 > /etc/stamp
EXPOSE 8080
CMD ["--serve"]
RUN echo ready > /app/ready
USER 1000:1000
WORKDIR /app
LABEL org.opencontainers.image.title=vigil-test
`)
	build(amb, "FROM "+app+"\nCOPY empty /empty\n")
	return app, amb
}

func dockerJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	dockerJSONWith(t, "docker", v, args...)
}

// openBoth opens ref lazily (recording the requests) and eagerly.
func openBoth(ctx context.Context, t *testing.T, ref, flavor string, opts image.Options) (lazy, eager *image.Image, rec *recorder) {
	t.Helper()
	rec = &recorder{}
	lazy, err := open(ctx, ref, opts, flavor, rec.wrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lazy.Close() })
	ep, err := FindEndpoint(opts, flavor)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(ep, flavor, nil)
	in, err := c.inspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	eager, err = openEager(ctx, c, ref, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eager.Close() })
	return lazy, eager, rec
}

func TestDocker(t *testing.T) {
	ref, ambRef := dockerTestImages(t)
	ctx := context.Background()
	// Oracles: what docker itself says about the image.
	var id string
	var diffIDs []string
	var cfg struct {
		User, WorkingDir string
		Env, Cmd         []string
		Labels           map[string]string
	}
	dockerJSON(t, &id, "inspect", "-f", "{{json .Id}}", ref)
	dockerJSON(t, &diffIDs, "inspect", "-f", "{{json .RootFS.Layers}}", ref)
	dockerJSON(t, &cfg, "inspect", "-f", "{{json .Config}}", ref)
	histOut := strings.Split(strings.TrimSuffix(imagetest.Run(t, "docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", ref), "\n"), "\n")
	var wantHist []string
	for i := len(histOut) - 1; i >= 0; i-- {
		wantHist = append(wantHist, histOut[i])
	}

	for _, r := range []string{ref, id} {
		t.Run(r, func(t *testing.T) {
			tmp := t.TempDir()
			img, eager, rec := openBoth(ctx, t, r, Docker, image.Options{TempDir: tmp})
			if d := cmp.Diff([]string{"json", "history"}, rec.endpoints()); d != "" {
				t.Errorf("Open asked the engine (-want +got):\n%s", d)
			}
			if d := cmp.Diff(metaOf(eager), metaOf(img)); d != "" {
				t.Errorf("lazy metadata differs from the export's (-eager +lazy):\n%s", d)
			}
			var gotHist []string
			for _, h := range img.History {
				gotHist = append(gotHist, h.CreatedBy)
			}
			var gotDiff []string
			for _, l := range img.Layers {
				gotDiff = append(gotDiff, l.DiffID)
			}
			got := []any{img.Source, img.ID, img.Name, img.RepoTags, gotDiff, gotHist,
				img.Config.User, img.Config.WorkingDir, img.Config.Env, img.Config.Cmd, img.Config.Labels, img.Config.ExposedPorts}
			want := []any{"docker", id, "docker.io/library/" + ref, []string{ref}, diffIDs, wantHist,
				cfg.User, cfg.WorkingDir, cfg.Env, cfg.Cmd, cfg.Labels, []string{"8080/tcp"}}
			if img.Name == ref {
				want[2] = ref
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			// The layers: import, COPY --from, RUN rm (a whiteout), RUN echo.
			files := imagetest.LayerFiles(ctx, t, img)
			if n := rec.saves(); n != 1 {
				t.Errorf("%d exports after opening every layer, want 1: %v", n, rec.endpoints())
			}
			if d := cmp.Diff(imagetest.LayerFiles(ctx, t, eager), files); d != "" {
				t.Errorf("layer files (-eager +lazy):\n%s", d)
			}
			if len(files) != 4 {
				t.Fatalf("%d layers, want 4", len(files))
			}
			has := func(fs []imagetest.File, p string, typ byte) bool {
				for _, f := range fs {
					if f.Path == p && f.Type == typ {
						return true
					}
				}
				return false
			}
			for _, c := range []struct {
				layer int
				path  string
				typ   byte
			}{
				{0, "bin/busybox", tar.TypeReg}, {0, "bin/sh", tar.TypeSymlink}, {0, "etc/hard", tar.TypeLink},
				{0, "etc/secret.txt", tar.TypeReg}, {1, "app/artifact.txt", tar.TypeReg}, {2, "etc/.wh.secret.txt", tar.TypeReg},
				{2, "etc/stamp", tar.TypeReg}, {3, "app/ready", tar.TypeReg},
			} {
				if !has(files[c.layer], c.path, c.typ) {
					t.Errorf("layer %d lacks %s (type %c): %v", c.layer, c.path, c.typ, files[c.layer])
				}
			}
			if img.Layers[2].History == nil || !strings.Contains(img.Layers[2].History.CreatedBy, "rm /etc/secret.txt") {
				t.Errorf("layer 2 history = %+v, want the RUN rm step", img.Layers[2].History)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			if err := eager.Close(); err != nil {
				t.Fatal(err)
			}
			if left := tempEntries(t, tmp); len(left) != 0 {
				t.Errorf("temp files left after Close: %v", left)
			}
		})
	}
	t.Run("close without reading", func(t *testing.T) {
		tmp := t.TempDir()
		rec := &recorder{}
		img, err := open(ctx, ref, image.Options{TempDir: tmp}, Docker, rec.wrap)
		if err != nil {
			t.Fatal(err)
		}
		if err := img.Close(); err != nil {
			t.Fatal(err)
		}
		got := []any{rec.endpoints(), tempEntries(t, tmp)}
		if d := cmp.Diff([]any{[]string{"json", "history"}, []string(nil)}, got); d != "" {
			t.Errorf("requests, temp files (-want +got):\n%s", d)
		}
	})
	t.Run("ambiguous history falls back to the export", func(t *testing.T) {
		rec := &recorder{}
		img, err := open(ctx, ambRef, image.Options{TempDir: t.TempDir()}, Docker, rec.wrap)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		if d := cmp.Diff([]string{"json", "history", "get"}, rec.endpoints()); d != "" {
			t.Errorf("Open asked the engine (-want +got):\n%s", d)
		}
		var ambDiff []string
		dockerJSON(t, &ambDiff, "inspect", "-f", "{{json .RootFS.Layers}}", ambRef)
		var gotDiff []string
		for _, l := range img.Layers {
			gotDiff = append(gotDiff, l.DiffID)
		}
		last := img.Layers[len(img.Layers)-1].History
		got := []any{gotDiff, last != nil && strings.Contains(last.CreatedBy, "COPY"), len(imagetest.LayerFiles(ctx, t, img)[4])}
		if d := cmp.Diff([]any{ambDiff, true, 1}, got); d != "" {
			t.Errorf("diffIDs, last layer is the COPY step, files in it (-want +got):\n%s", d)
		}
		if n := rec.saves(); n != 1 {
			t.Errorf("%d exports, want 1", n)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := Open(ctx, "vigil-test-no-such-image:0", image.Options{}, Docker)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

// TestPodman runs a real Podman API service (vfs storage in a temporary
// root, so it touches nothing else), imports the test layer into it and
// opens the image through the rootless socket path under
// $XDG_RUNTIME_DIR, lazily and eagerly.
func TestPodman(t *testing.T) {
	podman := imagetest.Require(t, "podman")
	root := t.TempDir()
	run, err := os.MkdirTemp("", "vigil-pm-") // short: the socket lives here
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	sockDir := filepath.Join(run, "podman")
	os.MkdirAll(sockDir, 0o700)
	sock := filepath.Join(sockDir, "podman.sock")
	base := []string{"--storage-driver=vfs", "--root", filepath.Join(root, "storage"), "--runroot", filepath.Join(run, "rr"), "--tmpdir", filepath.Join(run, "tmp")}
	layer := filepath.Join(root, "layer.tar")
	if err := os.WriteFile(layer, imagetest.LayerTars()[0], 0o644); err != nil {
		t.Fatal(err)
	}
	imagetest.Run(t, podman, append(base, "import", "--change", "USER 1000:1000", "--change", "ENV GREETING=hello", layer, "vigil-podman-test:1")...)
	var id string
	dockerJSONWith(t, podman, &id, append(base, "image", "inspect", "--format", "{{json .ID}}", "vigil-podman-test:1")...)
	if !strings.HasPrefix(id, "sha256:") {
		id = "sha256:" + id
	}
	imagetest.StartProcess(t, podman, append(base, "system", "service", "--time=0", "unix://"+sock)...)
	imagetest.WaitForSocket(t, sock)
	t.Setenv("XDG_RUNTIME_DIR", run)
	t.Setenv("CONTAINER_HOST", "")
	ctx := context.Background()
	img, eager, rec := openBoth(ctx, t, "vigil-podman-test:1", Podman, image.Options{TempDir: t.TempDir()})
	if d := cmp.Diff([]string{"json", "history"}, rec.endpoints()); d != "" {
		t.Errorf("Open asked the engine (-want +got):\n%s", d)
	}
	if d := cmp.Diff(metaOf(eager), metaOf(img)); d != "" {
		t.Errorf("lazy metadata differs from the export's (-eager +lazy):\n%s", d)
	}
	files := imagetest.LayerFiles(ctx, t, img)
	got := []any{img.Source, img.ID, img.Name, img.Config.User, img.Config.Env, files, rec.saves()}
	want := []any{"podman", id, "localhost/vigil-podman-test:1", "1000:1000", []string{"GREETING=hello"}, imagetest.WantFiles()[:1], 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := Open(ctx, "vigil-podman-none:1", image.Options{}, Podman); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing image: err = %v, want ErrNotFound", err)
	}
}

func dockerJSONWith(t *testing.T, tool string, v any, args ...string) {
	t.Helper()
	out := imagetest.Run(t, tool, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}
