// Package resolve turns the image reference a user typed into an opened
// image, choosing the source. An explicit prefix picks it:
//
//	docker:NAME          the Docker Engine
//	podman:NAME          the Podman service
//	registry:NAME        a registry, directly
//	docker-archive:PATH  a `docker save` tarball (optionally gzip-compressed)
//	oci-dir:PATH         an OCI image layout directory
//	oci-archive:PATH     an OCI image layout in a tar file
//	dir:PATH             an unpacked root file system
//
// Archive and layout paths take an optional "#selector" to pick one image
// of several (a tag, or a digest / image ID): "oci-dir:./layout#v1.2",
// "docker-archive:all.tar#alpine:3.20".
//
// Without a prefix, an existing path is opened by what it is (a directory
// with an oci-layout file is an OCI layout, any other directory a root file
// system; a tar file with manifest.json is a docker-archive, one with only
// oci-layout an OCI archive, a gzip or zstd compressed file a
// docker-archive), and anything else is looked up in the local engines
// whose sockets exist (Docker, then Podman) and then in the registry.
package resolve

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/archive"
	"github.com/vigilsec/vigil/image/daemon"
	"github.com/vigilsec/vigil/image/internal/layerio"
	"github.com/vigilsec/vigil/image/internal/tarindex"
	"github.com/vigilsec/vigil/image/ocilayout"
	"github.com/vigilsec/vigil/image/registry"
	"github.com/vigilsec/vigil/image/rootfs"
)

// Prefixes lists the source prefixes Open understands.
var prefixes = []string{"docker", "podman", "registry", "docker-archive", "oci-dir", "oci-archive", "dir"}

// Prefixes returns the source prefixes Open understands, without the colon.
func Prefixes() []string { return append([]string(nil), prefixes...) }

// ErrNotFound reports that no source had the image.
var ErrNotFound = errors.New("image not found")

// Split separates a source prefix from the reference; prefix is empty when
// the reference has none.
func Split(ref string) (prefix, rest string) {
	p, r, ok := strings.Cut(ref, ":")
	if !ok {
		return "", ref
	}
	for _, k := range prefixes {
		if p == k {
			return p, r
		}
	}
	return "", ref
}

// Open opens the image ref names; see the package documentation.
func Open(ctx context.Context, ref string, opts image.Options) (*image.Image, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, errors.New("resolve: empty image reference (give a name like alpine:3.20, a path, or prefix:ref)")
	}
	prefix, rest := Split(ref)
	switch prefix {
	case "docker", "podman":
		return daemon.Open(ctx, rest, opts, prefix)
	case "registry":
		return registry.Open(ctx, rest, opts)
	case "docker-archive":
		return archive.Open(ctx, rest, opts)
	case "oci-dir":
		p, sel := ocilayout.SplitRef(rest)
		return ocilayout.Open(ctx, p, sel, opts)
	case "oci-archive":
		p, sel := ocilayout.SplitRef(rest)
		return ocilayout.OpenArchive(ctx, p, sel, opts)
	case "dir":
		return rootfs.Open(ctx, rest, opts)
	}
	return openGuess(ctx, ref, opts)
}

func openGuess(ctx context.Context, ref string, opts image.Options) (*image.Image, error) {
	p, sel := ocilayout.SplitRef(ref)
	if st, err := os.Stat(p); err == nil {
		if st.IsDir() {
			if _, err := os.Stat(p + string(os.PathSeparator) + "oci-layout"); err == nil {
				return ocilayout.Open(ctx, p, sel, opts)
			}
			if sel != "" {
				return nil, fmt.Errorf("resolve: %s is a root file system directory, which holds one image: drop #%s", p, sel)
			}
			return rootfs.Open(ctx, p, opts)
		}
		kind, err := sniffFile(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("resolve: %s: %w", p, err)
		}
		switch kind {
		case "docker-archive":
			return archive.Open(ctx, ref, opts)
		case "oci-archive":
			return ocilayout.OpenArchive(ctx, p, sel, opts)
		default:
			return nil, fmt.Errorf("resolve: %s is neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout); give an image tarball, layout or directory", p)
		}
	}
	if looksLikePath(ref) {
		return nil, fmt.Errorf("resolve: %s: no such file or directory (for an image name, drop the path characters or use the registry: prefix)", ref)
	}
	if _, err := name.ParseReference(ref); err != nil {
		return nil, fmt.Errorf("resolve: %q is neither an existing path nor a valid image reference: %v", ref, err)
	}
	var tried []string
	for _, flavor := range []string{daemon.Docker, daemon.Podman} {
		if !daemon.Available(opts, flavor) {
			continue
		}
		img, err := daemon.Open(ctx, ref, opts, flavor)
		if err == nil {
			return img, nil
		}
		if errors.Is(err, daemon.ErrNotFound) || errors.Is(err, daemon.ErrUnavailable) {
			tried = append(tried, err.Error())
			continue
		}
		return nil, err
	}
	img, err := registry.Open(ctx, ref, opts)
	if err == nil {
		return img, nil
	}
	if errors.Is(err, registry.ErrNotFound) {
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if len(tried) == 0 {
		return nil, fmt.Errorf("resolve: %s: no such file, no local engine socket, and %w", ref, err)
	}
	return nil, fmt.Errorf("resolve: %s: tried %s; then %w", ref, strings.Join(tried, "; "), err)
}

func looksLikePath(ref string) bool {
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "~") {
		return true
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst"} {
		if strings.HasSuffix(ref, ext) {
			return true
		}
	}
	return false
}

// maxSniffEntries bounds how many tar headers sniffing reads.
const maxSniffEntries = 100000

// sniffFile tells a docker-archive from an OCI archive by the members it
// has. A compressed file is taken as a docker-archive (docker save | gzip).
func sniffFile(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	c, err := layerio.SniffAt(f)
	if err != nil {
		return "", err
	}
	if c != layerio.None {
		return "docker-archive", nil
	}
	tr := tar.NewReader(f) // *os.File seeks: bodies are skipped
	hasLayout := false
	for i := 0; i < maxSniffEntries; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("not a tar file: %w", err)
		}
		n, ok := tarindex.Clean(h.Name)
		if !ok {
			continue
		}
		switch n {
		case "manifest.json":
			return "docker-archive", nil
		case "oci-layout":
			hasLayout = true
		}
	}
	if hasLayout {
		return "oci-archive", nil
	}
	return "", nil
}
