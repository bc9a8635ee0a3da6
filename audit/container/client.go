// Package container audits running containers through the Docker Engine
// API: privileged mode, capabilities, a read-only root, the user, security
// options (no-new-privileges, seccomp and AppArmor), host namespaces, the
// Docker socket mounted, memory and CPU limits and the image reference.
// It talks to the Engine with net/http over its unix socket (or plain TCP),
// so it needs no Docker client library, and it reports each container's
// image ID so that the image can be scanned for vulnerabilities too.
package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultHost is the Engine address used when none is given.
const DefaultHost = "unix:///var/run/docker.sock"

// Response size caps: a container list of thousands of containers, and one
// container's inspect document, fit well within them.
const (
	maxListBytes    = 32 << 20
	maxInspectBytes = 4 << 20
	maxErrorBytes   = 64 << 10
)

// ErrUnreachable matches errors for an Engine that cannot be reached.
var ErrUnreachable = errors.New("docker engine unreachable")

// Client is a minimal Docker Engine API client.
type Client struct {
	hc   *http.Client
	base string
	host string
}

// NewClient returns a client for an Engine address as DOCKER_HOST spells
// it: "unix:///path/to/docker.sock" or "tcp://host:port" (plain HTTP; the
// TLS variables DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are not supported).
// An empty host means DefaultHost.
func NewClient(host string) (*Client, error) {
	if host == "" {
		host = DefaultHost
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("container: docker host %q: %w; want unix:///var/run/docker.sock or tcp://host:2375", host, err)
	}
	c := &Client{host: host}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		if sock == "" {
			sock = u.Host + u.Path
		}
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
			MaxIdleConns:    4,
			IdleConnTimeout: 30 * time.Second,
		}
		c.hc = &http.Client{Transport: tr}
		c.base = "http://docker"
	case "tcp", "http":
		if u.Host == "" {
			return nil, fmt.Errorf("container: docker host %q: no address; want tcp://host:2375", host)
		}
		c.hc = &http.Client{}
		c.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("container: docker host %q: scheme %q is not supported; use a unix socket (unix://...) or plain tcp://host:port", host, u.Scheme)
	}
	return c, nil
}

// Host returns the Engine address the client talks to.
func (c *Client) Host() string { return c.host }

// Ping checks that the Engine answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.get(ctx, "/_ping", maxErrorBytes, nil)
}

// get sends GET path and decodes the JSON answer into v (nil: discard),
// reading at most max bytes.
func (c *Client) get(ctx context.Context, path string, max int64, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return fmt.Errorf("container: GET %s: %w", path, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("container: GET %s: %w", path, ctx.Err())
		}
		return fmt.Errorf("container: GET %s on %s: %w: %w (is the Engine running and may this user use it? set DOCKER_HOST or --docker-host)",
			path, c.host, ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, max+1)
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(body, maxErrorBytes))
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(msg, &e) == nil && e.Message != "" {
			msg = []byte(e.Message)
		}
		return &StatusError{Path: path, Code: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("container: GET %s: read answer: %w", path, err)
	}
	if int64(len(data)) > max {
		return fmt.Errorf("container: GET %s: answer larger than %d bytes", path, max)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("container: GET %s: decode answer: %w", path, err)
	}
	return nil
}

// StatusError is an Engine answer other than 200 OK.
type StatusError struct {
	Path    string
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("container: GET %s: engine answered %d %s: %s", e.Path, e.Code, http.StatusText(e.Code), e.Message)
}

// Summary is one entry of GET /containers/json.
type Summary struct {
	ID      string            `json:"Id"`
	Names   []string          `json:"Names"`
	Image   string            `json:"Image"`
	ImageID string            `json:"ImageID"`
	State   string            `json:"State"`
	Labels  map[string]string `json:"Labels"`
}

// ListOptions select containers.
type ListOptions struct {
	// All includes stopped and created containers, not only running ones.
	All bool
	// Labels keeps containers with every one of these labels ("key" or
	// "key=value").
	Labels []string
}

// List returns the containers the Engine reports.
func (c *Client) List(ctx context.Context, opts ListOptions) ([]Summary, error) {
	q := url.Values{}
	if opts.All {
		q.Set("all", "1")
	}
	if len(opts.Labels) > 0 {
		f, err := json.Marshal(map[string][]string{"label": opts.Labels})
		if err != nil {
			return nil, fmt.Errorf("container: encode filters: %w", err)
		}
		q.Set("filters", string(f))
	}
	path := "/containers/json"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []Summary
	if err := c.get(ctx, path, maxListBytes, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Inspect returns GET /containers/{id}/json.
func (c *Client) Inspect(ctx context.Context, id string) (*Inspect, error) {
	var in Inspect
	if err := c.get(ctx, "/containers/"+url.PathEscape(id)+"/json", maxInspectBytes, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// Inspect is the part of the Engine's container inspect document the
// checks read.
type Inspect struct {
	ID    string `json:"Id"`
	Name  string `json:"Name"`
	Image string `json:"Image"` // the image ID
	State struct {
		Status  string `json:"Status"`
		Running bool   `json:"Running"`
	} `json:"State"`
	Config struct {
		User   string            `json:"User"`
		Image  string            `json:"Image"` // the reference the container was created from
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	HostConfig struct {
		Privileged     bool     `json:"Privileged"`
		CapAdd         []string `json:"CapAdd"`
		CapDrop        []string `json:"CapDrop"`
		ReadonlyRootfs bool     `json:"ReadonlyRootfs"`
		SecurityOpt    []string `json:"SecurityOpt"`
		NetworkMode    string   `json:"NetworkMode"`
		PidMode        string   `json:"PidMode"`
		IpcMode        string   `json:"IpcMode"`
		Memory         int64    `json:"Memory"`
		NanoCpus       int64    `json:"NanoCpus"`
		CPUQuota       int64    `json:"CpuQuota"`
	} `json:"HostConfig"`
	Mounts []struct {
		Type        string `json:"Type"`
		Source      string `json:"Source"`
		Destination string `json:"Destination"`
		RW          bool   `json:"RW"`
	} `json:"Mounts"`
}
