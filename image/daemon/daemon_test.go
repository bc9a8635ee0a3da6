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
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imagetest"
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

// fakeEngine serves the two endpoints vigil uses over a unix socket, from a
// docker-archive written by go-containerregistry. It stands in for a Podman
// service (Podman speaks the same API) where none is installed, and lets
// the tests produce engine failures.
type fakeEngine struct {
	sock    string
	archive []byte
	inspect Inspect
	// overrides
	inspectStatus int
	inspectBody   string
	saveStatus    int
	saveBody      []byte
	requests      []string
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
	s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests = append(f.requests, r.URL.Path)
		switch {
		case strings.HasSuffix(r.URL.Path, "/json"):
			if f.inspectStatus != 0 {
				w.WriteHeader(f.inspectStatus)
				fmt.Fprintf(w, `{"message":%q}`, "engine says no")
				return
			}
			if f.inspectBody != "" {
				fmt.Fprint(w, f.inspectBody)
				return
			}
			json.NewEncoder(w).Encode(f.inspect)
		case strings.HasSuffix(r.URL.Path, "/get"):
			if f.saveStatus != 0 {
				w.WriteHeader(f.saveStatus)
				fmt.Fprint(w, `{"message":"save failed"}`)
				return
			}
			if f.saveBody != nil {
				w.Write(f.saveBody)
				return
			}
			w.Write(f.archive)
		default:
			http.NotFound(w, r)
		}
	})}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
}

func fakeFromImage(t *testing.T, tag string, img v1.Image) *fakeEngine {
	t.Helper()
	var buf bytes.Buffer
	r, _ := name.NewTag(tag)
	if err := tarball.Write(r, img, &buf); err != nil {
		t.Fatal(err)
	}
	id, _ := img.ConfigName()
	return &fakeEngine{archive: buf.Bytes(), inspect: Inspect{ID: id.String(), RepoTags: []string{tag}, RepoDigests: []string{"vigil/test@sha256:" + strings.Repeat("ab", 32)}, Os: "linux", Architecture: "amd64", Size: int64(buf.Len())}}
}

func TestFakePodman(t *testing.T) {
	src := imagetest.Build(t, imagetest.Gzip, image.Platform{OS: "linux", Architecture: "amd64"})
	id, _ := src.ConfigName()
	otherID := "sha256:" + strings.Repeat("cd", 32)
	for _, tc := range []struct {
		name    string
		setup   func(f *fakeEngine)
		ref     string
		is      error
		wantErr string
	}{
		{name: "ok", ref: "vigil/test:1"},
		{name: "by id", ref: id.String()},
		{name: "not found", ref: "vigil/none:1", setup: func(f *fakeEngine) { f.inspectStatus = 404 }, is: ErrNotFound, wantErr: `podman has no image "vigil/none:1" (engine says no)`},
		{name: "engine error", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspectStatus = 500 }, wantErr: "podman answered 500 Internal Server Error: engine says no"},
		{name: "inspect not json", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspectBody = "<html>" }, wantErr: "image inspect response is not JSON"},
		{name: "save fails", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.saveStatus = 500 }, wantErr: "save vigil/test:1: podman answered 500"},
		{name: "save truncated", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.saveBody = f.archive[:len(f.archive)/3] }, wantErr: "read the image vigil/test:1 saved by podman"},
		{name: "image changed", ref: "vigil/test:1", setup: func(f *fakeEngine) { f.inspect.ID = otherID }, wantErr: "no such image in the archive"},
		{name: "bad ref", ref: "../../x", wantErr: "is not an image reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeFromImage(t, "vigil/test:1", src)
			if tc.setup != nil {
				tc.setup(f)
			}
			startFake(t, f)
			t.Setenv("CONTAINER_HOST", "unix://"+f.sock)
			tmp := t.TempDir()
			img, err := Open(context.Background(), tc.ref, image.Options{TempDir: tmp}, Podman)
			if tc.wantErr != "" {
				if err == nil {
					img.Close()
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v\nwant it to contain %q", err, tc.wantErr)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("err = %v, want errors.Is %v", err, tc.is)
				}
				if left, _ := os.ReadDir(tmp); len(left) != 0 {
					t.Errorf("temp files left after a failed open: %v", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []any{img.Source, img.Ref, img.ID, img.Name, img.Digest, img.Config, imagetest.LayerFiles(context.Background(), t, img)}
			want := []any{"podman", tc.ref, id.String(), "vigil/test:1", "sha256:" + strings.Repeat("ab", 32), imagetest.WantConfig(), imagetest.WantFiles()}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 1 {
				t.Errorf("want one spool directory while open, have %v", left)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temp files left after Close: %v", left)
			}
		})
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

func FuzzParseInspect(f *testing.F) {
	f.Add([]byte(`{"Id":"sha256:` + strings.Repeat("a", 64) + `","RepoTags":["a:1"],"Os":"linux","Architecture":"amd64","Size":10}`))
	f.Add([]byte(`{"Id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseInspect(data)
		if err == nil && !strings.HasPrefix(in.ID, "sha") {
			t.Fatalf("accepted Id %q", in.ID)
		}
	})
}

// dockerTestImage builds, on the real engine, an image from a root file
// system made here (busybox for the shell) and a multi-stage Dockerfile
// whose final stage copies from the first and deletes a file. It returns
// the tag; the images are removed when the test ends.
func dockerTestImage(t *testing.T) string {
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
		imagetest.Run(t, "docker", "rmi", "-f", app, base)
	})
	imagetest.Run(t, "docker", "import", rootfs, base)
	df := `FROM ` + base + ` AS build
RUN mkdir -p /out && echo built > /out/artifact.txt
FROM ` + base + `
COPY --from=build /out/artifact.txt /app/artifact.txt
RUN rm /etc/secret.txt
ENV GREETING=hello
USER 1000:1000
WORKDIR /app
EXPOSE 8080
LABEL org.opencontainers.image.title=vigil-test
CMD ["--serve"]
`
	ctxDir := filepath.Join(dir, "ctx")
	os.Mkdir(ctxDir, 0o755)
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	imagetest.Run(t, "docker", "build", "-q", "-t", app, ctxDir)
	return app
}

func dockerJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := imagetest.Run(t, "docker", args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("docker %v: %v\n%s", args, err, out)
	}
}

func TestDocker(t *testing.T) {
	ref := dockerTestImage(t)
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
			img, err := Open(ctx, r, image.Options{TempDir: tmp}, Docker)
			if err != nil {
				t.Fatal(err)
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
			// The layers: import, COPY --from, RUN rm (a whiteout).
			files := imagetest.LayerFiles(ctx, t, img)
			if len(files) != 3 {
				t.Fatalf("%d layers, want 3", len(files))
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
			} {
				if !has(files[c.layer], c.path, c.typ) {
					t.Errorf("layer %d lacks %s (type %c): %v", c.layer, c.path, c.typ, files[c.layer])
				}
			}
			if len(img.Layers) == 3 && (img.Layers[2].History == nil || !strings.Contains(img.Layers[2].History.CreatedBy, "rm /etc/secret.txt")) {
				t.Errorf("layer 2 history = %+v, want the RUN rm step", img.Layers[2].History)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temp files left after Close: %v", left)
			}
		})
	}
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
// $XDG_RUNTIME_DIR.
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
	img, err := Open(ctx, "vigil-podman-test:1", image.Options{TempDir: t.TempDir()}, Podman)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	files := imagetest.LayerFiles(ctx, t, img)
	got := []any{img.Source, img.ID, img.Name, img.Config.User, img.Config.Env, files}
	want := []any{"podman", id, "localhost/vigil-podman-test:1", "1000:1000", []string{"GREETING=hello"}, imagetest.WantFiles()[:1]}
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
