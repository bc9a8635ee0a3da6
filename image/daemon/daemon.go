// Package daemon opens an image held by a local container engine, Docker
// or Podman, through the Docker Engine HTTP API spoken over the engine's
// socket (unix:// or tcp://). It inspects the image for its identity, streams
// `GET /images/{name}/get` (a docker-save tarball) into a temporary file and
// reads that with the archive package; the file is removed when the image
// is closed.
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
	"strings"
	"time"

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

// maxInspect caps the inspect response.
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

func newClient(ep Endpoint, flavor string) *client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, ep.Network, ep.Address)
		},
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	return &client{ep: ep, flavor: flavor, http: &http.Client{Transport: tr}}
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
	resp, err := c.get(ctx, "/images/"+ref+"/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s has no image %q (%s)", ErrNotFound, c.flavor, ref, apiError(resp))
	default:
		return nil, fmt.Errorf("inspect %s: %s answered %s: %s", ref, c.flavor, resp.Status, apiError(resp))
	}
	b, err := imgconv.ReadLimited(resp.Body, maxInspect, "image inspect response")
	if err != nil {
		return nil, err
	}
	return ParseInspect(b)
}

// MaxSaveSize caps the docker-save stream when the engine reports no image
// size.
const MaxSaveSize = 1 << 40

func (c *client) save(ctx context.Context, ref string, in *Inspect, dst string, p image.Progress) error {
	resp, err := c.get(ctx, "/images/"+ref+"/get")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s has no image %q (%s)", ErrNotFound, c.flavor, ref, apiError(resp))
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

// Open opens ref (a name, name:tag, name@digest or image ID) from the
// engine of the given flavor ("docker" or "podman").
func Open(ctx context.Context, ref string, opts image.Options, flavor string) (*image.Image, error) {
	ep, err := FindEndpoint(opts, flavor)
	if err != nil {
		return nil, err
	}
	if ref == "" || strings.ContainsAny(ref, "?#\x00") || strings.Contains(ref, "..") {
		return nil, fmt.Errorf("daemon: %q is not an image reference", ref)
	}
	c := newClient(ep, flavor)
	defer c.http.CloseIdleConnections()
	in, err := c.inspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	dir, err := os.MkdirTemp(opts.TempDir, "vigil-"+flavor+"-*")
	if err != nil {
		return nil, fmt.Errorf("daemon: create temporary directory for %s: %w (set a writable temp dir)", ref, err)
	}
	progress := opts.Progress
	if opts.Quiet {
		progress = nil
	}
	tarPath := filepath.Join(dir, "image.tar")
	if err := c.save(ctx, ref, in, tarPath, progress); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("daemon: %w", err)
	}
	img, err := archive.OpenSelect(ctx, tarPath, in.ID, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("daemon: read the image %s saved by %s: %w", ref, flavor, err)
	}
	img.OnClose(func() error { return os.RemoveAll(dir) })
	if img.ID != in.ID {
		img.Close()
		return nil, fmt.Errorf("daemon: %s changed while it was saved (inspected %s, saved %s); try again", ref, in.ID, img.ID)
	}
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
	if len(in.RepoDigests) > 0 {
		if _, d, ok := strings.Cut(in.RepoDigests[0], "@"); ok {
			img.Digest = d
		}
	}
	if in.Os != "" {
		img.Platform = image.Platform{OS: in.Os, Architecture: in.Architecture, Variant: in.Variant}
	}
	return img, nil
}
