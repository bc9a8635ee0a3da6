// Package image opens a container image from wherever it lives (Docker
// Engine, Podman, a registry, a docker-archive tarball, an OCI layout
// directory or archive, an unpacked root file system) and presents it as one
// shape: identity, config, history and layers, each layer readable as an
// uncompressed tar stream. The sub-packages implement one source each; this
// package holds the shared types and the resolver that picks a source from a
// reference.
package image

import (
	"context"
	"io"
	"time"
)

// Platform is an OS/architecture pair, optionally with a variant.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// String returns "os/arch[/variant]".
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Config is the part of the image configuration vigil reports and audits.
type Config struct {
	User         string            `json:"user,omitempty"`
	Env          []string          `json:"env,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"workingDir,omitempty"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	Volumes      []string          `json:"volumes,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	StopSignal   string            `json:"stopSignal,omitempty"`
	Healthcheck  []string          `json:"healthcheck,omitempty"`
	Shell        []string          `json:"shell,omitempty"`
}

// History is one entry of the image history. EmptyLayer entries (ENV, CMD,
// ...) made no layer.
type History struct {
	Created    time.Time `json:"created,omitzero"`
	CreatedBy  string    `json:"createdBy,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"emptyLayer,omitempty"`
}

// Layer is one file-system layer.
type Layer struct {
	// DiffID is the sha256 digest of the uncompressed tar ("sha256:...").
	DiffID string `json:"diffID"`
	// Digest is the digest of the blob as stored; equal to DiffID for
	// uncompressed layers and empty where the source has no blob (rootfs).
	Digest string `json:"digest,omitempty"`
	// Size is the stored size in bytes (compressed for gzip/zstd blobs).
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType,omitempty"`
	// History is the history entry that created the layer, if known.
	History *History `json:"history,omitempty"`

	// Open returns the layer's uncompressed tar stream. The reader may also
	// implement io.Seeker, in which case the walk skips unwanted file bodies
	// with seeks. Nil for a root-file-system source (see Image.RootDir).
	Open func(ctx context.Context) (io.ReadCloser, error) `json:"-"`
}

// Image is an opened image.
type Image struct {
	// Source names the kind of source: "docker", "podman", "registry",
	// "docker-archive", "oci-dir", "oci-archive", "dir".
	Source string `json:"source"`
	// Ref is the reference the user gave, without the source prefix.
	Ref string `json:"ref"`
	// Name is the resolved image name (registry/repo:tag), when known.
	Name     string   `json:"name,omitempty"`
	RepoTags []string `json:"repoTags,omitempty"`
	// Digest is the manifest digest, when the source has a manifest.
	Digest string `json:"digest,omitempty"`
	// ID is the config digest (what "docker images" shows as IMAGE ID).
	ID       string    `json:"id,omitempty"`
	Platform Platform  `json:"platform"`
	Created  time.Time `json:"created,omitzero"`
	Config   Config    `json:"config"`
	History  []History `json:"history,omitempty"`
	Layers   []Layer   `json:"layers"`
	// RootDir is set for an unpacked root file system instead of Layers'
	// tar streams: the walk reads the directory tree as a single layer.
	RootDir string `json:"rootDir,omitempty"`

	closers []func() error
}

// OnClose registers cleanup to run when the image is closed.
func (img *Image) OnClose(f func() error) { img.closers = append(img.closers, f) }

// Close releases the resources the source holds (temporary files, open
// archives, connections).
func (img *Image) Close() error {
	var first error
	for i := len(img.closers) - 1; i >= 0; i-- {
		if err := img.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	img.closers = nil
	return first
}

// AttachHistory lines history entries up with layers: each non-empty history
// entry belongs to the next layer in order. Images whose history has fewer
// non-empty entries than layers (some builders omit history) leave the
// remaining layers without one.
func AttachHistory(img *Image) {
	li := 0
	for i := range img.History {
		h := &img.History[i]
		if h.EmptyLayer {
			continue
		}
		if li >= len(img.Layers) {
			break
		}
		img.Layers[li].History = h
		li++
	}
}

// Options control how a source opens an image.
type Options struct {
	// Platform selects one image from a multi-platform index; nil means the
	// host platform.
	Platform *Platform
	// Username and Password authenticate to a registry; empty means use the
	// Docker config file and credential helpers.
	Username, Password string
	// Insecure allows plain HTTP and unverified TLS to the registry.
	Insecure bool
	// DockerHost overrides DOCKER_HOST for the engine sources.
	DockerHost string
	// TempDir is where a source may spool data (vigil's own temp directory).
	TempDir string
	// CacheDir is vigil's cache directory; sources may consult the layer
	// cache there to avoid fetching blobs already scanned.
	CacheDir string
	// Progress, when set, receives transfer progress for downloads.
	Progress Progress
	// Quiet suppresses progress output.
	Quiet bool
}

// Progress receives transfer progress. Implementations must be safe for
// concurrent use; id identifies one blob.
type Progress interface {
	Start(id, label string, total int64)
	Advance(id string, n int64)
	Done(id string, err error)
}
