// Package imagetest builds the small container images that the image source
// tests read, lists the files of a layer tar for comparisons, and starts or
// requires the real tools those tests use (docker, skopeo, the
// docker-registry server). It is imported only from _test files.
package imagetest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vigilsec/vigil/image"
)

// Epoch is the modification time of every file in the test layers.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// File is one entry of a layer tar as the comparisons see it.
type File struct {
	Path string
	Type byte
	Size int64
	Link string
}

// spec is one file of a test layer.
type spec struct {
	path string
	typ  byte
	body string
	link string
	mode int64
}

func bigBody() string { return strings.Repeat("0123456789abcdef", 4096) } // 64 KiB

// layerSpecs is the root file system of the test image: a base layer with
// files, a symlink and a hard link, and a second layer that deletes a file
// (whiteout), replaces a directory (opaque whiteout) and adds files.
func layerSpecs() [][]spec {
	return [][]spec{
		{
			{path: "bin/", typ: tar.TypeDir, mode: 0o755},
			{path: "bin/tool", typ: tar.TypeReg, body: "#!/bin/sh\necho tool\n", mode: 0o755},
			{path: "bin/tool-link", typ: tar.TypeSymlink, link: "tool", mode: 0o777},
			{path: "bin/tool-hard", typ: tar.TypeLink, link: "bin/tool", mode: 0o755},
			{path: "etc/", typ: tar.TypeDir, mode: 0o755},
			{path: "etc/os-release", typ: tar.TypeReg, body: "ID=vigiltest\nVERSION_ID=1\n", mode: 0o644},
			{path: "etc/secret.txt", typ: tar.TypeReg, body: "password=hunter2\n", mode: 0o600},
			{path: "var/", typ: tar.TypeDir, mode: 0o755},
			{path: "var/cache/", typ: tar.TypeDir, mode: 0o755},
			{path: "var/cache/big.bin", typ: tar.TypeReg, body: bigBody(), mode: 0o644},
		},
		{
			{path: "app/", typ: tar.TypeDir, mode: 0o755},
			{path: "app/main.txt", typ: tar.TypeReg, body: "hello from layer two\n", mode: 0o644},
			{path: "etc/", typ: tar.TypeDir, mode: 0o755},
			{path: "etc/.wh.secret.txt", typ: tar.TypeReg, mode: 0o600},
			{path: "var/cache/", typ: tar.TypeDir, mode: 0o755},
			{path: "var/cache/.wh..wh..opq", typ: tar.TypeReg, mode: 0o600},
			{path: "var/cache/new.txt", typ: tar.TypeReg, body: "fresh\n", mode: 0o644},
		},
	}
}

// LayerTars returns the uncompressed tar of each test layer.
func LayerTars() [][]byte {
	var out [][]byte
	for _, l := range layerSpecs() {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, s := range l {
			h := &tar.Header{Name: s.path, Typeflag: s.typ, Mode: s.mode, ModTime: epoch, Linkname: s.link, Format: tar.FormatPAX}
			if s.typ == tar.TypeReg {
				h.Size = int64(len(s.body))
			}
			if err := tw.WriteHeader(h); err != nil {
				panic(err)
			}
			if _, err := io.WriteString(tw, s.body); err != nil {
				panic(err)
			}
		}
		if err := tw.Close(); err != nil {
			panic(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// WantFiles lists, per layer, the files the test layers hold, sorted by
// path, as ListTar reports them.
func WantFiles() [][]File {
	var out [][]File
	for _, l := range layerSpecs() {
		var fs []File
		for _, s := range l {
			f := File{Path: strings.TrimSuffix(s.path, "/"), Type: s.typ, Link: s.link}
			if s.typ == tar.TypeReg {
				f.Size = int64(len(s.body))
			}
			fs = append(fs, f)
		}
		sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
		out = append(out, fs)
	}
	return out
}

// ListTar lists the entries of an uncompressed layer tar, sorted by path.
// Names are cleaned of "./" and trailing slashes.
func ListTar(r io.Reader) ([]File, error) {
	tr := tar.NewReader(r)
	var out []File
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		p := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"), "/")
		if p == "" || p == "." {
			continue
		}
		f := File{Path: p, Type: h.Typeflag, Link: h.Linkname}
		if h.Typeflag == tar.TypeReg {
			f.Size = h.Size
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// LayerFiles opens every layer of img and lists its files.
func LayerFiles(ctx context.Context, t testing.TB, img *image.Image) [][]File {
	t.Helper()
	var out [][]File
	for i, l := range img.Layers {
		rc, err := l.Open(ctx)
		if err != nil {
			t.Fatalf("open layer %d: %v", i, err)
		}
		fs, err := ListTar(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("list layer %d: %v", i, err)
		}
		out = append(out, fs)
	}
	return out
}

// Compression chooses how Build stores the layer blobs.
type Compression string

// Layer storage choices.
const (
	Uncompressed Compression = "none"
	Gzip         Compression = "gzip"
	Zstd         Compression = "zstd"
	// OCIGzip is gzip with OCI media types throughout (what skopeo's OCI
	// transports expect).
	OCIGzip Compression = "oci-gzip"
)

// WantConfig is the image.Config of the image Build makes.
func WantConfig() image.Config {
	return image.Config{
		User:         "1000:1000",
		Env:          []string{"PATH=/bin", "GREETING=hello"},
		Entrypoint:   []string{"/bin/tool"},
		Cmd:          []string{"--serve"},
		WorkingDir:   "/app",
		ExposedPorts: []string{"8080/tcp"},
		Volumes:      []string{"/data"},
		Labels:       map[string]string{"org.opencontainers.image.title": "vigil-test"},
		StopSignal:   "SIGTERM",
		Healthcheck:  []string{"CMD", "/bin/tool", "--health"},
	}
}

// WantHistory is the history of the image Build makes.
func WantHistory() []image.History {
	return []image.History{
		{Created: epoch, CreatedBy: "ADD rootfs.tar /"},
		{Created: epoch, CreatedBy: "ENV GREETING=hello", EmptyLayer: true},
		{Created: epoch, CreatedBy: "RUN rm /etc/secret.txt && refresh /var/cache", Comment: "second layer"},
		{Created: epoch, CreatedBy: "CMD [\"--serve\"]", EmptyLayer: true},
	}
}

// Build makes the test image for platform p with its layers stored as c.
func Build(t testing.TB, c Compression, p image.Platform) v1.Image {
	t.Helper()
	img, err := build(c, p)
	if err != nil {
		t.Fatalf("imagetest: build image: %v", err)
	}
	return img
}

func build(c Compression, p image.Platform) (v1.Image, error) {
	tars := LayerTars()
	hist := WantHistory()
	var layers []v1.Layer
	for _, b := range tars {
		b := b
		var l v1.Layer
		var err error
		switch c {
		case Uncompressed:
			l = static.NewLayer(b, types.DockerUncompressedLayer)
		case Zstd:
			l, err = tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
				tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
		case OCIGzip:
			l, err = tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
				tarball.WithMediaType(types.OCILayer))
		default:
			l, err = tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		}
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	img := empty.Image
	if c == Zstd || c == OCIGzip {
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	wc := WantConfig()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		User:         wc.User,
		Env:          wc.Env,
		Entrypoint:   wc.Entrypoint,
		Cmd:          wc.Cmd,
		WorkingDir:   wc.WorkingDir,
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		Labels:       wc.Labels,
		StopSignal:   wc.StopSignal,
		Healthcheck:  &v1.HealthConfig{Test: wc.Healthcheck},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	var adds []mutate.Addendum
	li := 0
	for _, h := range hist {
		a := mutate.Addendum{History: v1.History{Created: v1.Time{Time: h.Created}, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}}
		if !h.EmptyLayer {
			a.Layer = layers[li]
			li++
		}
		adds = append(adds, a)
	}
	// mutate.Append wants a layer in every addendum; empty-layer history
	// goes in through the config instead.
	var withLayers []mutate.Addendum
	for _, a := range adds {
		if a.Layer != nil {
			withLayers = append(withLayers, a)
		}
	}
	img, err = mutate.Append(img, withLayers...)
	if err != nil {
		return nil, err
	}
	cf, err = img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.History = nil
	for _, a := range adds {
		cf.History = append(cf.History, a.History)
	}
	return mutate.ConfigFile(img, cf)
}

// DiffIDs returns the diffIDs of a go-containerregistry image.
func DiffIDs(t testing.TB, img v1.Image) []string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range cf.RootFS.DiffIDs {
		out = append(out, d.String())
	}
	return out
}

// Index makes a multi-platform index of the test image, one per platform.
func Index(t testing.TB, c Compression, ps ...image.Platform) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range ps {
		img := Build(t, c, p)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}},
		})
	}
	return idx
}

// InCI reports whether the tests run in CI, where missing tools fail.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require returns the path of a tool the test needs. It fails the test in
// CI when the tool is missing, and skips it elsewhere.
func Require(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if InCI() {
			t.Fatalf("%s is required in CI but missing: %v (install it in .ci/run)", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
	return p
}

// RequireDocker checks that the docker CLI and a running engine exist, with
// Require's CI rule.
func RequireDocker(t testing.TB) {
	t.Helper()
	Require(t, "docker")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		if InCI() {
			t.Fatalf("docker engine is required in CI but not reachable: %v\n%s", err, out)
		}
		t.Skipf("docker engine not reachable: %v", err)
	}
}

// Run runs a command and fails the test with its output when it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// Registry is a docker-registry server the test started.
type Registry struct {
	// Host is "127.0.0.1:port".
	Host string
}

// StartRegistry starts Debian's docker-registry on a free loopback port
// with storage in a temporary directory. With user set, the registry
// requires HTTP basic auth checked against an htpasswd file made with
// `htpasswd -Bbn`. The server is stopped when the test ends.
func StartRegistry(t testing.TB, user, pass string) Registry {
	t.Helper()
	bin := Require(t, "docker-registry")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	if user != "" {
		Require(t, "htpasswd")
		out, err := exec.Command("htpasswd", "-Bbn", user, pass).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		hp := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(hp, out, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: vigil-test\n    path: %s\n", hp)
	}
	cp := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cp, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cp)
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start docker-registry: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("docker-registry exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return Registry{Host: addr}
}

// WriteLayout writes img into a new OCI layout directory, tagged tag (the
// org.opencontainers.image.ref.name annotation), and returns the directory.
func WriteLayout(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		t.Fatal(err)
	}
	return dir
}

// StartProcess starts a long-running helper (a server) that is killed when
// the test ends; its output is shown if the test fails.
func StartProcess(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	return cmd
}

// WaitForSocket waits until a unix socket accepts connections.
func WaitForSocket(t testing.TB, p string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("unix", p)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", p, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
