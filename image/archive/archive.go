// Package archive opens a docker-archive: the tarball that `docker save`
// (or `skopeo copy ... docker-archive:`) writes, optionally gzip or zstd
// compressed as a whole. The archive is indexed once and each layer is read
// in place; an uncompressed layer's reader also implements io.Seeker so the
// walk can skip file bodies it does not want. Layers that are themselves
// gzip or zstd compressed (OCI-style blobs in newer saves) are decompressed
// on the fly.
//
// An archive may hold several images. Select one by appending "#" and a
// selector to the path: a repo:tag as listed in the archive
// ("img.tar#alpine:3.20", "docker.io/library/" may be omitted or added), or
// the image ID ("img.tar#sha256:<hex>", or a unique hex prefix of at least
// 12 digits).
package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imgconv"
	"github.com/vigilsec/vigil/image/internal/layerio"
	"github.com/vigilsec/vigil/image/internal/tarindex"
)

// ErrNotDockerArchive reports a tar file without a manifest.json.
var ErrNotDockerArchive = errors.New("not a docker-archive (no manifest.json)")

// ErrNoSuchImage reports that the selector matched no image of the archive.
var ErrNoSuchImage = errors.New("no such image in the archive")

// MaxManifestSize caps manifest.json.
const MaxManifestSize = 16 << 20

// Entry is one image listed in a docker-archive's manifest.json.
type Entry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// ParseManifest parses a docker-archive manifest.json.
func ParseManifest(data []byte) ([]Entry, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("manifest.json is %d bytes, more than the %d allowed", len(data), MaxManifestSize)
	}
	var es []Entry
	if err := json.Unmarshal(data, &es); err != nil {
		return nil, fmt.Errorf("manifest.json is not a docker-archive manifest: %w", err)
	}
	if len(es) == 0 {
		return nil, errors.New("manifest.json lists no images")
	}
	for i, e := range es {
		if e.Config == "" {
			return nil, fmt.Errorf("manifest.json entry %d has no Config", i)
		}
		for j, l := range e.Layers {
			if _, ok := tarindex.Clean(l); !ok {
				return nil, fmt.Errorf("manifest.json entry %d layer %d: invalid path %q", i, j, l)
			}
		}
		if _, ok := tarindex.Clean(e.Config); !ok {
			return nil, fmt.Errorf("manifest.json entry %d: invalid config path %q", i, e.Config)
		}
	}
	return es, nil
}

// SplitRef splits "path#selector". When the whole string names an existing
// file it is taken as the path, so file names containing '#' still work.
func SplitRef(ref string) (p, selector string) {
	if _, err := os.Stat(ref); err == nil {
		return ref, ""
	}
	if i := strings.LastIndexByte(ref, '#'); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// Open opens the docker-archive named by ref ("path" or "path#selector").
func Open(ctx context.Context, ref string, opts image.Options) (*image.Image, error) {
	p, sel := SplitRef(ref)
	img, err := OpenSelect(ctx, p, sel, opts)
	if err != nil {
		return nil, err
	}
	img.Ref = ref
	return img, nil
}

// OpenSelect opens the image chosen by selector (see the package doc; empty
// when the archive holds one image) from the docker-archive at path.
func OpenSelect(ctx context.Context, path, selector string, opts image.Options) (*image.Image, error) {
	a, err := tarindex.OpenFile(ctx, path, opts.TempDir)
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", path, err)
	}
	img, err := fromArchive(ctx, a, selector)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("archive: open %s: %w", path, err)
	}
	img.OnClose(a.Close)
	img.Ref = path
	if selector != "" {
		img.Ref += "#" + selector
	}
	return img, nil
}

func fromArchive(ctx context.Context, a *tarindex.Archive, selector string) (*image.Image, error) {
	data, err := a.ReadFile("manifest.json", MaxManifestSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if a.Has("oci-layout") {
				return nil, fmt.Errorf("%w; it is an OCI archive: use the oci-archive: prefix", ErrNotDockerArchive)
			}
			return nil, ErrNotDockerArchive
		}
		return nil, err
	}
	entries, err := ParseManifest(data)
	if err != nil {
		return nil, err
	}
	e, err := choose(entries, selector, a)
	if err != nil {
		return nil, err
	}
	cfgData, err := a.ReadFile(e.Config, imgconv.MaxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("read config %s named in manifest.json: %w", e.Config, err)
	}
	cf, err := imgconv.ParseConfig(cfgData, e.Config)
	if err != nil {
		return nil, err
	}
	if err := imgconv.CheckLayerCount(cf, len(e.Layers), "manifest.json entry for "+e.Config); err != nil {
		return nil, err
	}
	img := &image.Image{
		Source:   "docker-archive",
		RepoTags: e.RepoTags,
		ID:       imgconv.Digest(cfgData),
	}
	if len(e.RepoTags) > 0 {
		img.Name = e.RepoTags[0]
	}
	imgconv.Apply(img, cf)
	for i, lp := range e.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sr, err := a.Open(lp)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s) named in manifest.json: %w", i, lp, err)
		}
		c, err := layerio.SniffAt(sr)
		if err != nil {
			return nil, fmt.Errorf("read layer %s: %w", lp, err)
		}
		l := image.Layer{
			DiffID:    cf.RootFS.DiffIDs[i].String(),
			Size:      sr.Size(),
			MediaType: dockerMediaType(c),
		}
		if d, ok := blobDigest(lp); ok {
			l.Digest = d
		} else if c == layerio.None {
			l.Digest = l.DiffID
		}
		lp := lp
		arch := a.Path
		l.Open = func(ctx context.Context) (io.ReadCloser, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			sr, err := a.Open(lp)
			if err != nil {
				return nil, fmt.Errorf("archive: open layer %s in %s: %w", lp, arch, err)
			}
			return layerio.OpenSection(sr, nil, lp+" in "+arch)
		}
		img.Layers = append(img.Layers, l)
	}
	image.AttachHistory(img)
	return img, nil
}

func dockerMediaType(c layerio.Compression) string {
	switch c {
	case layerio.Gzip:
		return "application/vnd.docker.image.rootfs.diff.tar.gzip"
	case layerio.Zstd:
		return "application/vnd.oci.image.layer.v1.tar+zstd"
	default:
		return "application/vnd.docker.image.rootfs.diff.tar"
	}
}

// blobDigest recognises OCI-style member names "blobs/<alg>/<hex>".
func blobDigest(p string) (string, bool) {
	c, _ := tarindex.Clean(p)
	rest, ok := strings.CutPrefix(c, "blobs/")
	if !ok {
		return "", false
	}
	alg, hx, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	h, err := imgconv.ParseHash(alg + ":" + hx)
	if err != nil {
		return "", false
	}
	return h.String(), true
}

func choose(entries []Entry, selector string, a *tarindex.Archive) (Entry, error) {
	if selector == "" {
		if len(entries) == 1 {
			return entries[0], nil
		}
		return Entry{}, fmt.Errorf("the archive holds %d images; pick one with path#selector: %s", len(entries), strings.Join(list(entries, a), ", "))
	}
	var hits []Entry
	want := normalize(selector)
	for _, e := range entries {
		matched := false
		for _, t := range e.RepoTags {
			if t == selector || (want != "" && normalize(t) == want) {
				matched = true
			}
		}
		id := configID(e, a)
		hex := strings.TrimPrefix(selector, "sha256:")
		if id != "" && (selector == id || (len(hex) >= 12 && strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), hex))) {
			matched = true
		}
		if matched {
			hits = append(hits, e)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return Entry{}, fmt.Errorf("%w: %q; available: %s", ErrNoSuchImage, selector, strings.Join(list(entries, a), ", "))
	default:
		return Entry{}, fmt.Errorf("selector %q matches %d images; use the image ID; available: %s", selector, len(hits), strings.Join(list(entries, a), ", "))
	}
}

func normalize(ref string) string {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ""
	}
	return r.Name()
}

// configID returns the image ID of an entry: its config blob's digest.
func configID(e Entry, a *tarindex.Archive) string {
	data, err := a.ReadFile(e.Config, imgconv.MaxConfigSize)
	if err != nil {
		return ""
	}
	return imgconv.Digest(data)
}

func list(entries []Entry, a *tarindex.Archive) []string {
	var out []string
	for _, e := range entries {
		if len(e.RepoTags) > 0 {
			tags := append([]string(nil), e.RepoTags...)
			sort.Strings(tags)
			out = append(out, strings.Join(tags, " "))
		} else {
			out = append(out, configID(e, a)+" (untagged)")
		}
	}
	sort.Strings(out)
	return out
}
