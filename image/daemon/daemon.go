// Package daemon opens an image held by a local container engine, Docker
// or Podman, through the Docker Engine HTTP API spoken over the engine's
// socket (unix:// or tcp://).
//
// Opening is lazy: `GET /images/{name}/json` and `GET /images/{name}/history`
// give the identity, configuration, diffIDs and history, so an image whose
// layers are all in vigil's layer cache is scanned (and inspected) without
// exporting anything. The first Layer.Open streams `GET /images/{id}/get` (a
// docker-save tarball) into a temporary file, once for all layers, checks
// that it holds the inspected image, and serves every layer from it with
// the archive package; the file is removed when the image is closed.
//
// The history endpoint says which entries made a layer only through their
// size (0 for ENV, CMD, ...). When that is ambiguous (a real layer of size
// 0, such as one that only deletes files, makes the non-empty entries fewer
// than the layers), Open exports at once and reads the saved configuration
// instead. The API reports history times in whole seconds, so on the lazy
// path History.Created has no sub-second part, and Layer.Size is the size the
// engine reports for the layer (its unpacked content, as `docker history`
// shows it) rather than the size of the layer tar.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/archive"
	"github.com/vigilsec/vigil/image/internal/imgconv"
	"github.com/vigilsec/vigil/image/internal/layerio"
)

// Flavors of engine.
const (
	Docker = "docker"
	Podman = "podman"
)

// ErrNotFound reports that the engine has no such image; the resolver then
// tries the registry.
var ErrNotFound = errors.New("image not found in the local engine")

// ErrUnavailable reports that no engine answered on the socket.
var ErrUnavailable = errors.New("container engine not reachable")

// ErrChanged reports that the exported image is not the one inspected (the
// name was re-tagged, or the image rebuilt, in between).
var ErrChanged = errors.New("changed while it was saved; try again")

// maxInspect caps the inspect and history responses.
const maxInspect = 16 << 20

// Endpoint is where an engine listens.
type Endpoint struct {
	// Network is "unix" or "tcp".
	Network string
	// Address is the socket path or host:port.
	Address string
}

func (e Endpoint) String() string { return e.Network + "://" + e.Address }

// FindEndpoint returns the engine address for flavor: opts.DockerHost, else
// $DOCKER_HOST (docker) or $CONTAINER_HOST (podman), else the default
// socket (/var/run/docker.sock; $XDG_RUNTIME_DIR/podman/podman.sock then
// /run/podman/podman.sock).
func FindEndpoint(opts image.Options, flavor string) (Endpoint, error) {
	return findEndpoint(opts, flavor, os.Getenv, exists)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func findEndpoint(opts image.Options, flavor string, getenv func(string) string, exists func(string) bool) (Endpoint, error) {
	host := opts.DockerHost
	switch flavor {
	case Docker:
		if host == "" {
			host = getenv("DOCKER_HOST")
		}
		if host == "" {
			host = "unix:///var/run/docker.sock"
		}
	case Podman:
		if host == "" {
			host = getenv("CONTAINER_HOST")
		}
		if host == "" {
			host = "unix:///run/podman/podman.sock"
			if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
				if p := filepath.Join(xdg, "podman", "podman.sock"); exists(p) {
					host = "unix://" + p
				}
			}
		}
	default:
		return Endpoint{}, fmt.Errorf("daemon: unknown engine %q (want docker or podman)", flavor)
	}
	return ParseHost(host)
}

// ParseHost parses an engine address: unix:///path, tcp://host:port (also
// http://), or a bare socket path.
func ParseHost(host string) (Endpoint, error) {
	if strings.HasPrefix(host, "/") {
		return Endpoint{Network: "unix", Address: host}, nil
	}
	u, err := url.Parse(host)
	if err != nil {
		return Endpoint{}, fmt.Errorf("daemon: engine address %q: %w", host, err)
	}
	switch u.Scheme {
	case "unix":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		if p == "" {
			return Endpoint{}, fmt.Errorf("daemon: engine address %q has no socket path", host)
		}
		return Endpoint{Network: "unix", Address: p}, nil
	case "tcp", "http":
		if u.Host == "" {
			return Endpoint{}, fmt.Errorf("daemon: engine address %q has no host:port", host)
		}
		h := u.Host
		if u.Port() == "" {
			h = net.JoinHostPort(u.Hostname(), "2375")
		}
		return Endpoint{Network: "tcp", Address: h}, nil
	default:
		return Endpoint{}, fmt.Errorf("daemon: engine address %q: scheme %q is not supported (use unix:// or tcp://; for TLS or ssh engines, save the image with `docker save` and scan the archive)", host, u.Scheme)
	}
}

// Available reports whether flavor's engine might answer: its socket file
// exists, or it is a TCP address. It makes no connection.
func Available(opts image.Options, flavor string) bool {
	ep, err := FindEndpoint(opts, flavor)
	if err != nil {
		return false
	}
	if ep.Network == "tcp" {
		return true
	}
	return exists(ep.Address)
}

// client talks to one engine.
type client struct {
	ep     Endpoint
	flavor string
	http   *http.Client
}

// newClient returns a client for ep. wrap, when not nil, wraps the
// transport (the tests record requests with it).
func newClient(ep Endpoint, flavor string, wrap func(http.RoundTripper) http.RoundTripper) *client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, ep.Network, ep.Address)
		},
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	var rt http.RoundTripper = tr
	if wrap != nil {
		rt = wrap(tr)
	}
	return &client{ep: ep, flavor: flavor, http: &http.Client{Transport: rt}}
}

func (c *client) get(ctx context.Context, p string) (*http.Response, error) {
	u := url.URL{Scheme: "http", Host: "engine", Path: p}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s at %s: %v (is it running? set DOCKER_HOST or --docker-host)", ErrUnavailable, c.flavor, c.ep, err)
	}
	return resp, nil
}

// apiError reads the engine's {"message": ...} error body.
func apiError(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(b))
}

// Inspect is the part of `GET /images/{name}/json` vigil uses.
type Inspect struct {
	ID           string   `json:"Id"`
	RepoTags     []string `json:"RepoTags"`
	RepoDigests  []string `json:"RepoDigests"`
	Created      string   `json:"Created"`
	Os           string   `json:"Os"`
	Architecture string   `json:"Architecture"`
	Variant      string   `json:"Variant"`
	Size         int64    `json:"Size"`
	// Config is the image's container configuration (the "config" object
	// of the image configuration, with the same field names).
	Config *v1.Config `json:"Config"`
	RootFS RootFS     `json:"RootFS"`
}

// RootFS lists the image's layers by diffID, bottom first.
type RootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// ParseInspect parses an image inspect response.
func ParseInspect(data []byte) (*Inspect, error) {
	var in Inspect
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("image inspect response is not JSON: %w", err)
	}
	if _, err := imgconv.ParseHash(in.ID); err != nil {
		return nil, fmt.Errorf("image inspect response has a bad Id %q: %w", in.ID, err)
	}
	return &in, nil
}

func (c *client) inspect(ctx context.Context, ref string) (*Inspect, error) {
	b, err := c.getJSON(ctx, ref, "json", "inspect")
	if err != nil {
		return nil, err
	}
	return ParseInspect(b)
}

// getJSON fetches /images/{ref}/{what} under the maxInspect cap.
func (c *client) getJSON(ctx context.Context, ref, what, op string) ([]byte, error) {
	resp, err := c.get(ctx, "/images/"+ref+"/"+what)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s has no image %q (%s)", ErrNotFound, c.flavor, ref, apiError(resp))
	default:
		return nil, fmt.Errorf("%s %s: %s answered %s: %s", op, ref, c.flavor, resp.Status, apiError(resp))
	}
	return imgconv.ReadLimited(resp.Body, maxInspect, "image "+op+" response")
}

// HistoryItem is one entry of `GET /images/{name}/history`, which lists the
// newest entry first. Created is in Unix seconds; Size is the size of the
// layer the step made, 0 for steps that made none.
type HistoryItem struct {
	Created   int64  `json:"Created"`
	CreatedBy string `json:"CreatedBy"`
	Comment   string `json:"Comment"`
	Size      int64  `json:"Size"`
}

// ParseHistory parses an image history response.
func ParseHistory(data []byte) ([]HistoryItem, error) {
	var hs []HistoryItem
	if err := json.Unmarshal(data, &hs); err != nil {
		return nil, fmt.Errorf("image history response is not a JSON list of entries: %w", err)
	}
	return hs, nil
}

func (c *client) history(ctx context.Context, id string) ([]HistoryItem, error) {
	b, err := c.getJSON(ctx, id, "history", "history")
	if err != nil {
		return nil, err
	}
	return ParseHistory(b)
}

// MaxSaveSize caps the docker-save stream when the engine reports no image
// size.
const MaxSaveSize = 1 << 40

// save streams the docker-save tarball of the inspected image (asked for by
// ID, so a tag moved meanwhile does not matter) into dst.
func (c *client) save(ctx context.Context, ref string, in *Inspect, dst string, p image.Progress) error {
	resp, err := c.get(ctx, "/images/"+in.ID+"/get")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s no longer has image %s (%s), inspected as %q", ErrNotFound, c.flavor, in.ID, apiError(resp), ref)
		}
		return fmt.Errorf("save %s: %s answered %s: %s", ref, c.flavor, resp.Status, apiError(resp))
	}
	limit := int64(MaxSaveSize)
	if in.Size > 0 {
		// The tarball is the uncompressed layers plus headers and JSON.
		limit = 2*in.Size + 256<<20
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	var body io.ReadCloser = io.NopCloser(io.LimitReader(resp.Body, limit+1))
	if p != nil {
		id := "save " + in.ID
		p.Start(id, c.flavor+" save "+ref, in.Size)
		body = layerio.Counting(body, p, id)
	}
	n, err := io.Copy(f, body)
	body.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("save %s from %s: %w", ref, c.flavor, err)
	}
	if n > limit {
		return fmt.Errorf("save %s from %s: the tarball exceeds %d bytes", ref, c.flavor, limit)
	}
	return nil
}

// errAmbiguous marks a history that cannot be lined up with the layers
// without the saved configuration.
var errAmbiguous = errors.New("the history cannot be lined up with the layers")

// lazyConfig builds, from inspect and history, the image configuration the
// export would hold, and each layer's size as the engine reports it. It
// fails (wrapping errAmbiguous) when the history's non-empty entries (size
// not 0) do not number the layers, and when the inspect response lacks
// what is needed; Open then reads the saved configuration instead.
func lazyConfig(in *Inspect, hist []HistoryItem) (*v1.ConfigFile, []int64, error) {
	cf := &v1.ConfigFile{OS: in.Os, Architecture: in.Architecture, Variant: in.Variant}
	if in.Config != nil {
		cf.Config = *in.Config
	}
	if in.RootFS.Type != "" && in.RootFS.Type != "layers" {
		return nil, nil, fmt.Errorf("%w: RootFS type %q", errAmbiguous, in.RootFS.Type)
	}
	for i, d := range in.RootFS.Layers {
		h, err := imgconv.ParseHash(d)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: inspect layer %d has a bad diffID %q: %v", errAmbiguous, i, d, err)
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
	}
	cf.RootFS.Type = "layers"
	if in.Created != "" {
		t, err := time.Parse(time.RFC3339Nano, in.Created)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: inspect Created %q: %v", errAmbiguous, in.Created, err)
		}
		cf.Created = v1.Time{Time: t}
	}
	var sizes []int64
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		e := v1.History{CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.Size == 0}
		// Engines report a missing time as 0 or as the zero time's Unix
		// seconds (negative).
		if h.Created > 0 {
			e.Created = v1.Time{Time: time.Unix(h.Created, 0).UTC()}
		}
		if !e.EmptyLayer {
			sizes = append(sizes, max(h.Size, 0)) // Podman says -1 for unknown
		}
		cf.History = append(cf.History, e)
	}
	if len(sizes) != len(cf.RootFS.DiffIDs) {
		return nil, nil, fmt.Errorf("%w: %d history entries of non-zero size for %d layers", errAmbiguous, len(sizes), len(cf.RootFS.DiffIDs))
	}
	return cf, sizes, nil
}

// Open opens ref (a name, name:tag, name@digest or image ID) from the
// engine of the given flavor ("docker" or "podman"). It exports nothing
// until a layer is opened, unless the history is ambiguous (see the package
// documentation).
func Open(ctx context.Context, ref string, opts image.Options, flavor string) (*image.Image, error) {
	return open(ctx, ref, opts, flavor, nil)
}

func open(ctx context.Context, ref string, opts image.Options, flavor string, wrap func(http.RoundTripper) http.RoundTripper) (*image.Image, error) {
	ep, err := FindEndpoint(opts, flavor)
	if err != nil {
		return nil, err
	}
	if ref == "" || strings.ContainsAny(ref, "?#\x00") || strings.Contains(ref, "..") {
		return nil, fmt.Errorf("daemon: %q is not an image reference", ref)
	}
	c := newClient(ep, flavor, wrap)
	defer c.http.CloseIdleConnections()
	in, err := c.inspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	// By ID: the history of the very image inspected.
	hist, err := c.history(ctx, in.ID)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w (inspected as %q)", err, ref)
	}
	cf, sizes, err := lazyConfig(in, hist)
	if errors.Is(err, errAmbiguous) {
		return openEager(ctx, c, ref, in, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("daemon: %s: %w", ref, err)
	}
	return openLazy(c, ref, in, cf, sizes, opts), nil
}

// progress returns opts' progress sink, nil when quiet.
func progress(opts image.Options) image.Progress {
	if opts.Quiet {
		return nil
	}
	return opts.Progress
}

// exportImage saves the inspected image into a new directory under
// opts.TempDir and opens it with the archive package, checking that it
// holds the inspected image and layers. On success the caller owns dir
// (removed by the returned image's Close).
func exportImage(ctx context.Context, c *client, ref string, in *Inspect, opts image.Options) (*image.Image, error) {
	dir, err := os.MkdirTemp(opts.TempDir, "vigil-"+c.flavor+"-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary directory for %s: %w (set a writable temp dir)", ref, err)
	}
	tarPath := filepath.Join(dir, "image.tar")
	if err := c.save(ctx, ref, in, tarPath, progress(opts)); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	img, err := archive.OpenSelect(ctx, tarPath, in.ID, opts)
	if err != nil {
		os.RemoveAll(dir)
		if errors.Is(err, archive.ErrNoSuchImage) {
			return nil, fmt.Errorf("%s %w: inspected image %s is not in the export (%v)", ref, ErrChanged, in.ID, err)
		}
		return nil, fmt.Errorf("read the image %s saved by %s: %w", ref, c.flavor, err)
	}
	img.OnClose(func() error { return os.RemoveAll(dir) })
	if img.ID != in.ID {
		img.Close()
		return nil, fmt.Errorf("%s %w: inspected image %s, the export holds %s", ref, ErrChanged, in.ID, img.ID)
	}
	return img, nil
}

// openEager exports the image now and takes everything from the export.
func openEager(ctx context.Context, c *client, ref string, in *Inspect, opts image.Options) (*image.Image, error) {
	img, err := exportImage(ctx, c, ref, in, opts)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	decorate(img, c.flavor, ref, in)
	return img, nil
}

// openLazy builds the image from inspect and history; its layers export
// the image on first use.
func openLazy(c *client, ref string, in *Inspect, cf *v1.ConfigFile, sizes []int64, opts image.Options) *image.Image {
	img := &image.Image{ID: in.ID}
	imgconv.Apply(img, cf)
	e := &exporter{c: c, ref: ref, in: in, opts: opts, done: make(chan struct{})}
	for i, d := range cf.RootFS.DiffIDs {
		i := i
		img.Layers = append(img.Layers, image.Layer{
			DiffID: d.String(),
			// docker-archive layers are uncompressed tars (the archive
			// source reports the same), so the blob digest is the diffID.
			Digest:    d.String(),
			Size:      sizes[i],
			MediaType: "application/vnd.docker.image.rootfs.diff.tar",
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				return e.openLayer(ctx, i)
			},
		})
	}
	image.AttachHistory(img)
	img.OnClose(e.close)
	decorate(img, c.flavor, ref, in)
	return img
}

// exporter runs the one export a lazily opened image needs, for the first
// layer opened, and keeps it for the others.
type exporter struct {
	c    *client
	ref  string
	in   *Inspect
	opts image.Options

	start sync.Once
	done  chan struct{} // closed when img and err are set
	img   *image.Image  // the export, opened by the archive package
	err   error

	mu     sync.Mutex
	closed bool
	saved  *image.Image // img, until close
}

func (e *exporter) openLayer(ctx context.Context, i int) (io.ReadCloser, error) {
	saved, err := e.export(ctx)
	if err != nil {
		return nil, err
	}
	return saved.Layers[i].Open(ctx)
}

// export returns the saved image, exporting it on the first call with that
// caller's context; a failure is kept and returned to every caller. Callers
// that wait for another's export give up when their own context ends.
func (e *exporter) export(ctx context.Context) (*image.Image, error) {
	first := false
	e.start.Do(func() { first = true })
	if first {
		e.img, e.err = e.run(ctx)
		close(e.done)
	} else {
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("daemon: wait for %s to export %s: %w", e.c.flavor, e.ref, ctx.Err())
		}
	}
	return e.img, e.err
}

func (e *exporter) run(ctx context.Context) (*image.Image, error) {
	if e.isClosed() {
		return nil, fmt.Errorf("daemon: open a layer of %s: the image is closed", e.ref)
	}
	saved, err := exportImage(ctx, e.c, e.ref, e.in, e.opts)
	e.c.http.CloseIdleConnections()
	if err != nil {
		return nil, fmt.Errorf("daemon: export %s from %s to read its layers: %w", e.ref, e.c.flavor, err)
	}
	want := e.in.RootFS.Layers
	var got []string
	for _, l := range saved.Layers {
		got = append(got, l.DiffID)
	}
	if !slices.Equal(got, want) {
		saved.Close()
		return nil, fmt.Errorf("daemon: %s %w: inspected layers %v, the export holds %v", e.ref, ErrChanged, want, got)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		saved.Close()
		return nil, fmt.Errorf("daemon: open a layer of %s: the image was closed during the export", e.ref)
	}
	e.saved = saved
	return saved, nil
}

func (e *exporter) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// close removes the export, if one was made. An export still running when
// the image is closed removes its own files when it ends.
func (e *exporter) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.c.http.CloseIdleConnections()
	if e.saved == nil {
		return nil
	}
	err := e.saved.Close()
	e.saved = nil
	return err
}

// decorate sets what the engine knows and an export does not: the source,
// the name and tags the engine has for the image, the repo digest and the
// platform.
func decorate(img *image.Image, flavor, ref string, in *Inspect) {
	img.Source = flavor
	img.Ref = ref
	img.RepoTags = in.RepoTags
	img.Name = ""
	for _, t := range in.RepoTags {
		if t == ref || strings.HasSuffix(t, "/"+ref) {
			img.Name = t
		}
	}
	if img.Name == "" && len(in.RepoTags) > 0 {
		img.Name = in.RepoTags[0]
	}
	img.Digest = ""
	if len(in.RepoDigests) > 0 {
		if _, d, ok := strings.Cut(in.RepoDigests[0], "@"); ok {
			img.Digest = d
		}
	}
	if in.Os != "" {
		img.Platform = image.Platform{OS: in.Os, Architecture: in.Architecture, Variant: in.Variant}
	}
}
