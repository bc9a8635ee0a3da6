// Package ocilayout opens an image from an OCI image layout: a directory
// (oci-layout, index.json, blobs/<alg>/<hex>) or the same tree inside a tar
// file (an OCI archive, as `skopeo copy ... oci-archive:` or a newer
// `docker save` writes). Blobs are read in place: from the directory through
// an os.Root that cannot leave it, or from the indexed tar without
// extracting anything. Manifests and configs are verified against their
// digests; an uncompressed layer's reader also implements io.Seeker.
//
// A layout may hold several images. The selector names one: a tag (the
// org.opencontainers.image.ref.name annotation, or the full name in
// io.containerd.image.name) or a digest ("sha256:<hex>") of a top-level
// entry or of a manifest inside a top-level index. An empty selector is fine
// when the layout holds one entry. A multi-platform index resolves to
// image.Options.Platform, or the host platform.
package ocilayout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imgconv"
	"github.com/vigilsec/vigil/image/internal/layerio"
	"github.com/vigilsec/vigil/image/internal/tarindex"
)

// Annotations naming an index entry.
const (
	AnnotationRefName    = "org.opencontainers.image.ref.name"
	AnnotationImageName  = "io.containerd.image.name"
	maxIndexDepth        = 4
	maxOCILayoutFileSize = 4 << 10
)

// ErrNoSuchImage reports that the selector matched nothing in the layout.
var ErrNoSuchImage = errors.New("no such image in the layout")

// ErrNotLayout reports a directory or archive without the OCI layout files.
var ErrNotLayout = errors.New("not an OCI image layout (no oci-layout file)")

// ErrNoPlatform reports that an index has no image for the wanted platform.
var ErrNoPlatform = imgconv.ErrNoPlatform

// store gives access to the files of a layout.
type store interface {
	// open returns a reader over the file p ("index.json",
	// "blobs/sha256/<hex>") and a closer for it, which may be nil.
	open(p string) (*io.SectionReader, io.Closer, error)
	// where names the layout in errors.
	where() string
}

// Open opens the image chosen by selector from the OCI layout directory
// dir.
func Open(ctx context.Context, dir, selector string, opts image.Options) (*image.Image, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("ocilayout: open %s: %w", dir, err)
	}
	img, err := fromStore(ctx, &dirStore{root: root, dir: dir}, selector, opts)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("ocilayout: open %s: %w", refString(dir, selector), err)
	}
	img.Source = "oci-dir"
	img.Ref = refString(dir, selector)
	img.OnClose(root.Close)
	return img, nil
}

// OpenArchive opens the image chosen by selector from the OCI archive (a
// tar holding an OCI layout, optionally gzip or zstd compressed as a whole)
// at tarPath. Nothing is extracted, except that a compressed archive is
// decompressed into a temporary file under opts.TempDir, removed on Close.
func OpenArchive(ctx context.Context, tarPath, selector string, opts image.Options) (*image.Image, error) {
	a, err := tarindex.OpenFile(ctx, tarPath, opts.TempDir)
	if err != nil {
		return nil, fmt.Errorf("ocilayout: open %s: %w", tarPath, err)
	}
	img, err := fromStore(ctx, &tarStore{a: a}, selector, opts)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("ocilayout: open %s: %w", refString(tarPath, selector), err)
	}
	img.Source = "oci-archive"
	img.Ref = refString(tarPath, selector)
	img.OnClose(a.Close)
	return img, nil
}

func refString(p, selector string) string {
	if selector == "" {
		return p
	}
	return p + "#" + selector
}

// SplitRef splits "path#selector" as the resolver and CLI write it. When
// the whole string names an existing file or directory it is the path.
func SplitRef(ref string) (p, selector string) {
	if _, err := os.Stat(ref); err == nil {
		return ref, ""
	}
	if i := strings.LastIndexByte(ref, '#'); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

type dirStore struct {
	root *os.Root
	dir  string
}

func (d *dirStore) open(p string) (*io.SectionReader, io.Closer, error) {
	f, err := d.root.Open(p)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file: %w", p, fs.ErrNotExist)
	}
	return io.NewSectionReader(f, 0, st.Size()), f, nil
}

func (d *dirStore) where() string { return d.dir }

type tarStore struct{ a *tarindex.Archive }

func (t *tarStore) open(p string) (*io.SectionReader, io.Closer, error) {
	sr, err := t.a.Open(p)
	return sr, nil, err
}

func (t *tarStore) where() string { return t.a.Path }

func readSmall(s store, p string, max int64) ([]byte, error) {
	sr, c, err := s.open(p)
	if err != nil {
		return nil, err
	}
	if c != nil {
		defer c.Close()
	}
	return imgconv.ReadLimited(sr, max, p)
}

// readBlob reads a small blob named by a descriptor and checks its digest.
func readBlob(s store, d v1.Descriptor, max int64, what string) ([]byte, error) {
	h, err := imgconv.ParseHash(d.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("%s: bad digest %q: %w", what, d.Digest, err)
	}
	p := imgconv.BlobPath(h)
	b, err := readSmall(s, p, max)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: blob %s is missing from the layout: %w", what, h, p, err)
		}
		return nil, fmt.Errorf("%s %s: %w", what, h, err)
	}
	if err := imgconv.Verify(b, h, p); err != nil {
		return nil, err
	}
	return b, nil
}

// ParseIndex parses an OCI image index (index.json or a nested index).
func ParseIndex(data []byte) (*v1.IndexManifest, error) {
	if len(data) > imgconv.MaxManifestSize {
		return nil, fmt.Errorf("index is %d bytes, more than the %d allowed", len(data), imgconv.MaxManifestSize)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an OCI image index: %w", err)
	}
	if im.SchemaVersion != 2 {
		return nil, fmt.Errorf("index schemaVersion is %d, want 2", im.SchemaVersion)
	}
	return im, nil
}

// ParseManifest parses an OCI or Docker v2 image manifest.
func ParseManifest(data []byte) (*v1.Manifest, error) {
	if len(data) > imgconv.MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, more than the %d allowed", len(data), imgconv.MaxManifestSize)
	}
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an image manifest: %w", err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("manifest schemaVersion is %d, want 2", m.SchemaVersion)
	}
	return m, nil
}

func fromStore(ctx context.Context, s store, selector string, opts image.Options) (*image.Image, error) {
	if _, err := readSmall(s, "oci-layout", maxOCILayoutFileSize); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotLayout
		}
		return nil, err
	}
	data, err := readSmall(s, "index.json", imgconv.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	top, err := ParseIndex(data)
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	desc, err := selectTop(s, top, selector)
	if err != nil {
		return nil, err
	}
	imgName := refName(desc)
	// Descend through indexes to one image manifest.
	for depth := 0; desc.MediaType.IsIndex(); depth++ {
		if depth >= maxIndexDepth {
			return nil, fmt.Errorf("indexes nested more than %d deep", maxIndexDepth)
		}
		b, err := readBlob(s, desc, imgconv.MaxManifestSize, "index")
		if err != nil {
			return nil, err
		}
		im, err := ParseIndex(b)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		desc, err = imgconv.ChoosePlatform(im, opts.Platform, "index "+desc.Digest.String())
		if err != nil {
			return nil, err
		}
	}
	if !desc.MediaType.IsImage() && desc.MediaType != "" {
		return nil, fmt.Errorf("entry %s has media type %s, not an image manifest", desc.Digest, desc.MediaType)
	}
	mb, err := readBlob(s, desc, imgconv.MaxManifestSize, "manifest")
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	cb, err := readBlob(s, m.Config, imgconv.MaxConfigSize, "config")
	if err != nil {
		return nil, err
	}
	cf, err := imgconv.ParseConfig(cb, m.Config.Digest.String())
	if err != nil {
		return nil, err
	}
	if err := imgconv.CheckLayerCount(cf, len(m.Layers), "manifest "+desc.Digest.String()); err != nil {
		return nil, err
	}
	img := &image.Image{
		Name:   imgName,
		Digest: desc.Digest.String(),
		ID:     m.Config.Digest.String(),
	}
	if imgName != "" {
		img.RepoTags = []string{imgName}
	}
	imgconv.Apply(img, cf)
	if err := imgconv.CheckSingle(opts.Platform, img.Platform, "image "+desc.Digest.String()); err != nil && desc.Platform == nil {
		return nil, err
	}
	for i, ld := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !ld.MediaType.IsDistributable() {
			return nil, fmt.Errorf("layer %d (%s) is a foreign layer (%s), which the layout does not hold", i, ld.Digest, ld.MediaType)
		}
		h, err := imgconv.ParseHash(ld.Digest.String())
		if err != nil {
			return nil, fmt.Errorf("layer %d: bad digest %q: %w", i, ld.Digest, err)
		}
		p := imgconv.BlobPath(h)
		sr, c, err := s.open(p)
		if err != nil {
			return nil, fmt.Errorf("layer %d: blob %s is missing from the layout: %w", i, p, err)
		}
		if c != nil {
			c.Close()
		}
		if sr.Size() != ld.Size {
			return nil, fmt.Errorf("layer %d: blob %s is %d bytes, the manifest says %d (corrupt or truncated)", i, p, sr.Size(), ld.Size)
		}
		where := p + " in " + s.where()
		img.Layers = append(img.Layers, image.Layer{
			DiffID:    cf.RootFS.DiffIDs[i].String(),
			Digest:    h.String(),
			Size:      ld.Size,
			MediaType: string(ld.MediaType),
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				sr, c, err := s.open(p)
				if err != nil {
					return nil, fmt.Errorf("ocilayout: open layer %s: %w", where, err)
				}
				return layerio.OpenSection(sr, c, where)
			},
		})
	}
	image.AttachHistory(img)
	return img, nil
}

func refName(d v1.Descriptor) string {
	if n := d.Annotations[AnnotationImageName]; n != "" {
		return n
	}
	return d.Annotations[AnnotationRefName]
}

func selectTop(s store, top *v1.IndexManifest, selector string) (v1.Descriptor, error) {
	if len(top.Manifests) == 0 {
		return v1.Descriptor{}, errors.New("index.json lists no images")
	}
	if selector == "" {
		if len(top.Manifests) == 1 {
			return top.Manifests[0], nil
		}
		return v1.Descriptor{}, fmt.Errorf("the layout holds %d images; pick one with path#selector (tag or digest): %s", len(top.Manifests), strings.Join(listing(top), ", "))
	}
	var hits []v1.Descriptor
	if strings.HasPrefix(selector, "sha256:") || strings.HasPrefix(selector, "sha512:") {
		for _, d := range top.Manifests {
			if d.Digest.String() == selector {
				hits = append(hits, d)
			}
		}
		if len(hits) == 0 {
			// A platform-specific manifest inside a top-level index.
			for _, d := range top.Manifests {
				if !d.MediaType.IsIndex() {
					continue
				}
				b, err := readBlob(s, d, imgconv.MaxManifestSize, "index")
				if err != nil {
					return v1.Descriptor{}, err
				}
				im, err := ParseIndex(b)
				if err != nil {
					return v1.Descriptor{}, fmt.Errorf("index %s: %w", d.Digest, err)
				}
				for _, n := range im.Manifests {
					if n.Digest.String() == selector {
						hits = append(hits, n)
					}
				}
			}
		}
	} else {
		want := normalize(selector)
		for _, d := range top.Manifests {
			rn, in := d.Annotations[AnnotationRefName], d.Annotations[AnnotationImageName]
			if selector == rn || selector == in || (want != "" && in != "" && normalize(in) == want) {
				hits = append(hits, d)
			}
		}
	}
	switch len(hits) {
	case 0:
		return v1.Descriptor{}, fmt.Errorf("%w: %q; available: %s", ErrNoSuchImage, selector, strings.Join(listing(top), ", "))
	case 1:
		return hits[0], nil
	default:
		if hits[0].Digest == hits[len(hits)-1].Digest {
			return hits[0], nil
		}
		return v1.Descriptor{}, fmt.Errorf("selector %q matches %d entries; use a digest; available: %s", selector, len(hits), strings.Join(listing(top), ", "))
	}
}

func normalize(ref string) string {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ""
	}
	return r.Name()
}

func listing(top *v1.IndexManifest) []string {
	var out []string
	for _, d := range top.Manifests {
		s := d.Digest.String()
		if n := refName(d); n != "" {
			s = n + " (" + s + ")"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
