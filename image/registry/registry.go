// Package registry opens an image straight from an OCI / Docker registry
// with go-containerregistry's remote package. Credentials come from
// image.Options (username and password) or else from the Docker config file
// and its credential helpers; bearer-token auth is handled by the library.
// A multi-platform index resolves to image.Options.Platform or the host
// platform. Layer blobs stream from the registry when a layer is opened
// (their digests are verified as they are read) and are decompressed on the
// fly; nothing is spooled to disk.
package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imgconv"
	"github.com/vigilsec/vigil/image/internal/layerio"
)

// ErrNotFound reports that the registry has no such repository or tag.
var ErrNotFound = errors.New("image not found in the registry")

// ErrUnauthorized reports that the registry refused the credentials (or
// their absence).
var ErrUnauthorized = errors.New("registry refused access")

// ErrNoPlatform reports that an index has no image for the wanted platform.
var ErrNoPlatform = imgconv.ErrNoPlatform

// Open opens ref ("alpine:3.20", "ghcr.io/org/app@sha256:...") from its
// registry.
func Open(ctx context.Context, ref string, opts image.Options) (*image.Image, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("registry: %q is not an image reference: %w", ref, err)
	}
	puller, err := remote.NewPuller(remoteOptions(ctx, opts)...)
	if err != nil {
		return nil, fmt.Errorf("registry: %s: %w", ref, err)
	}
	desc, err := puller.Get(ctx, r)
	if err != nil {
		return nil, classify(ref, r, err)
	}
	var rimg v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("registry: read index of %s: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("registry: read index of %s: %w", ref, err)
		}
		d, err := imgconv.ChoosePlatform(im, opts.Platform, ref)
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		if rimg, err = idx.Image(d.Digest); err != nil {
			return nil, fmt.Errorf("registry: read image %s of %s: %w", d.Digest, ref, err)
		}
	} else {
		if rimg, err = desc.Image(); err != nil {
			return nil, fmt.Errorf("registry: read image %s: %w", ref, err)
		}
	}
	return fromRemote(ref, r, rimg, desc.MediaType.IsIndex(), puller, opts)
}

func remoteOptions(ctx context.Context, opts image.Options) []remote.Option {
	ro := []remote.Option{remote.WithContext(ctx), remote.WithUserAgent("vigil")}
	if opts.Username != "" || opts.Password != "" {
		ro = append(ro, remote.WithAuth(&authn.Basic{Username: opts.Username, Password: opts.Password}))
	} else {
		ro = append(ro, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	if opts.Insecure {
		tr := remote.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
		ro = append(ro, remote.WithTransport(tr))
	}
	return ro
}

// classify turns a registry error into one that says what to do.
func classify(ref string, r name.Reference, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("registry: %s: %w (check the name and tag): %v", ref, ErrNotFound, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			for _, d := range te.Errors {
				if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
					return fmt.Errorf("registry: %s: %w (or it is private: log in first): %v", ref, ErrNotFound, err)
				}
			}
			return fmt.Errorf("registry: %s: %w (run `docker login %s` or pass --username/--password): %v", ref, ErrUnauthorized, r.Context().RegistryStr(), err)
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return fmt.Errorf("registry: %s: %w (check the name and tag): %v", ref, ErrNotFound, err)
			}
		}
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("registry: %s: %w (the registry speaks plain HTTP: use --insecure)", ref, err)
	}
	return fmt.Errorf("registry: fetch %s: %w", ref, err)
}

func fromRemote(ref string, r name.Reference, rimg v1.Image, fromIndex bool, puller *remote.Puller, opts image.Options) (*image.Image, error) {
	m, err := rimg.Manifest()
	if err != nil {
		return nil, fmt.Errorf("registry: read manifest of %s: %w", ref, err)
	}
	digest, err := rimg.Digest()
	if err != nil {
		return nil, fmt.Errorf("registry: %s: %w", ref, err)
	}
	raw, err := rimg.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("registry: read config of %s: %w", ref, err)
	}
	cf, err := imgconv.ParseConfig(raw, m.Config.Digest.String()+" of "+ref)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	where := "manifest " + digest.String() + " of " + ref
	if err := imgconv.CheckLayerCount(cf, len(m.Layers), where); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	img := &image.Image{
		Source: "registry",
		Ref:    ref,
		Name:   r.Name(),
		Digest: digest.String(),
		ID:     imgconv.Digest(raw),
	}
	if _, ok := r.(name.Tag); ok {
		img.RepoTags = []string{r.Name()}
	}
	imgconv.Apply(img, cf)
	if !fromIndex {
		// A single-platform image: an explicitly wanted platform must
		// match it.
		if err := imgconv.CheckSingle(opts.Platform, img.Platform, ref); err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
	}
	repo := r.Context()
	for i, ld := range m.Layers {
		if !ld.MediaType.IsDistributable() {
			return nil, fmt.Errorf("registry: %s layer %d (%s) is a foreign layer (%s); vigil cannot fetch it", ref, i, ld.Digest, ld.MediaType)
		}
		ld := ld
		label := fmt.Sprintf("%s layer %d/%d", repo.RepositoryStr(), i+1, len(m.Layers))
		progress := opts.Progress
		if opts.Quiet {
			progress = nil
		}
		img.Layers = append(img.Layers, image.Layer{
			DiffID:    cf.RootFS.DiffIDs[i].String(),
			Digest:    ld.Digest.String(),
			Size:      ld.Size,
			MediaType: string(ld.MediaType),
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				l, err := puller.Layer(ctx, repo.Digest(ld.Digest.String()))
				if err != nil {
					return nil, fmt.Errorf("registry: fetch layer %s of %s: %w", ld.Digest, ref, err)
				}
				rc, err := l.Compressed()
				if err != nil {
					return nil, fmt.Errorf("registry: fetch layer %s of %s: %w", ld.Digest, ref, err)
				}
				if progress != nil {
					progress.Start(ld.Digest.String(), label, ld.Size)
					rc = layerio.Counting(rc, progress, ld.Digest.String())
				}
				return layerio.Decompress(rc, "layer "+ld.Digest.String()+" of "+ref)
			},
		})
	}
	image.AttachHistory(img)
	return img, nil
}
