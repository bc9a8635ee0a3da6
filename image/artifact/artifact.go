// Package artifact pushes vigil's vulnerability database file to an OCI
// registry and pulls it back, so that an air-gapped site can mirror the
// database like an image. The artifact is an OCI image manifest whose
// artifactType is ArtifactType, with the empty config and one layer: the
// database file compressed with zstd (LayerMediaType). The layer carries
// the digest of the uncompressed file, which Pull checks along with the
// blob digest and size limits before it puts the file in place.
package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/vulndb"
)

// Media types of the artifact.
const (
	ArtifactType   = "application/vnd.vigilsec.vigil.db.v1"
	LayerMediaType = "application/vnd.vigilsec.vigil.db.layer.v1.bbolt+zstd"
	// AnnotationDiffID holds the sha256 digest of the uncompressed file.
	AnnotationDiffID = "vnd.vigilsec.vigil.db.diffid"
	// AnnotationSchema holds the database schema version.
	AnnotationSchema = "vnd.vigilsec.vigil.db.schema"
	annotationTitle  = "org.opencontainers.image.title"
	annotationCreate = "org.opencontainers.image.created"
)

// DefaultMaxSize caps the uncompressed database Pull accepts.
const DefaultMaxSize = 8 << 30

// emptyConfig is the OCI empty descriptor's content.
var emptyConfig = []byte("{}")

// Option configures Push and Pull.
type Option func(*options)

type options struct {
	remote   []remote.Option
	insecure bool
	progress image.Progress
	maxSize  int64
}

// WithRemoteOptions passes options (authentication, transport) to
// go-containerregistry's remote package.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(o *options) { o.remote = append(o.remote, opts...) }
}

// WithInsecure allows plain HTTP to the registry.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithProgress reports the blob transfer.
func WithProgress(p image.Progress) Option { return func(o *options) { o.progress = p } }

// WithMaxSize caps the uncompressed size Pull accepts (DefaultMaxSize).
func WithMaxSize(n int64) Option { return func(o *options) { o.maxSize = n } }

func collect(ctx context.Context, opts []Option) *options {
	o := &options{maxSize: DefaultMaxSize}
	for _, f := range opts {
		f(o)
	}
	// Credentials from the Docker config and credential helpers unless the
	// caller's remote options say otherwise (later options win).
	o.remote = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, o.remote...)
	return o
}

func parseRef(ref string, o *options) (name.Reference, error) {
	var nopts []name.Option
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("artifact: parse reference %q: %w", ref, err)
	}
	return r, nil
}

// Push compresses the database at dbPath into a temporary file beside it
// and pushes it to ref. It returns the manifest digest.
func Push(ctx context.Context, ref, dbPath string, opts ...Option) (digest string, err error) {
	o := collect(ctx, opts)
	r, err := parseRef(ref, o)
	if err != nil {
		return "", err
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		return "", fmt.Errorf("artifact: push %s: %w", dbPath, err)
	}
	meta := db.Meta()
	db.Close()
	l, err := compressFile(dbPath)
	if err != nil {
		return "", fmt.Errorf("artifact: push %s: %w", dbPath, err)
	}
	defer os.Remove(l.path)
	img, err := newImage(l, meta)
	if err != nil {
		return "", fmt.Errorf("artifact: push %s: %w", dbPath, err)
	}
	ropts := o.remote
	if o.progress != nil {
		updates := make(chan v1.Update, 16)
		done := make(chan struct{})
		id := ref
		o.progress.Start(id, "push "+ref, l.size)
		go func() {
			defer close(done)
			var last int64
			for u := range updates {
				if u.Complete > last {
					o.progress.Advance(id, u.Complete-last)
					last = u.Complete
				}
			}
		}()
		ropts = append(ropts, remote.WithProgress(updates))
		defer func() { <-done }()
		defer func() { o.progress.Done(id, err) }()
	}
	if err = remote.Write(r, img, ropts...); err != nil {
		return "", fmt.Errorf("artifact: push %s to %s: %w", dbPath, ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("artifact: push %s: %w", dbPath, err)
	}
	return d.String(), nil
}

// fileLayer is the compressed database in a temporary file.
type fileLayer struct {
	path   string
	digest v1.Hash // of the compressed file
	diffID v1.Hash // of the database file
	size   int64
}

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func compressFile(dbPath string) (*fileLayer, error) {
	in, err := os.Open(dbPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dbPath), filepath.Base(dbPath)+".push-*")
	if err != nil {
		return nil, err
	}
	l := &fileLayer{path: out.Name()}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(l.path)
		}
	}()
	zh, fh := sha256.New(), sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, zh)}
	enc, err := zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(enc, io.TeeReader(in, fh)); err != nil {
		enc.Close()
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	l.digest, l.diffID, l.size = sha256Hash(zh), sha256Hash(fh), cw.n
	ok = true
	return l, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return LayerMediaType, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("not needed") }

// artifactImage is the manifest around the layer; go-containerregistry's
// partial package turns it into a v1.Image that remote.Write pushes.
type artifactImage struct {
	layer    *fileLayer
	manifest []byte
}

func newImage(l *fileLayer, meta vulndb.Meta) (v1.Image, error) {
	cfgSum := sha256.Sum256(emptyConfig)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config: v1.Descriptor{
			MediaType: types.OCIEmptyJSON,
			Size:      int64(len(emptyConfig)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(cfgSum[:])},
			Data:      emptyConfig,
		},
		Layers: []v1.Descriptor{{
			MediaType: LayerMediaType,
			Size:      l.size,
			Digest:    l.digest,
			Annotations: map[string]string{
				annotationTitle:  "vigil.db",
				AnnotationDiffID: l.diffID.String(),
			},
		}},
		Annotations: map[string]string{
			annotationCreate: meta.Built.UTC().Format(time.RFC3339),
			AnnotationSchema: strconv.Itoa(meta.Schema),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifactImage{layer: l, manifest: raw})
}

func (a *artifactImage) RawConfigFile() ([]byte, error)      { return emptyConfig, nil }
func (a *artifactImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifactImage) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a *artifactImage) ArtifactType() (string, error)       { return ArtifactType, nil }
func (a *artifactImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == a.layer.digest {
		return a.layer, nil
	}
	return nil, fmt.Errorf("artifact: no layer %s", h)
}

// ErrNotDatabase is returned by Pull for an artifact that is not a vigil
// database.
var ErrNotDatabase = errors.New("artifact: not a vigil database artifact")

// Pull fetches the database artifact at ref and writes it to dst
// atomically (a temporary file beside dst, then a rename). It checks the
// blob digest, the uncompressed digest, the size limit and that the file
// opens as a database of this vigil's schema. To replace the database an
// update or a scan uses, pull to another path and install it with
// update.Install, which takes the update lock. It returns the manifest
// digest.
func Pull(ctx context.Context, ref, dst string, opts ...Option) (string, error) {
	o := collect(ctx, opts)
	r, err := parseRef(ref, o)
	if err != nil {
		return "", err
	}
	desc, err := remote.Get(r, o.remote...)
	if err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		return "", fmt.Errorf("%w: %s is a %s", ErrNotDatabase, ref, desc.MediaType)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return "", fmt.Errorf("artifact: pull %s: manifest: %w", ref, err)
	}
	if m.ArtifactType != ArtifactType && string(m.Config.MediaType) != ArtifactType {
		return "", fmt.Errorf("%w: %s has artifact type %q", ErrNotDatabase, ref, m.ArtifactType)
	}
	var layer *v1.Descriptor
	for i := range m.Layers {
		if m.Layers[i].MediaType == LayerMediaType {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		return "", fmt.Errorf("%w: %s has no %s layer", ErrNotDatabase, ref, LayerMediaType)
	}
	if layer.Size < 0 || layer.Size > o.maxSize {
		return "", fmt.Errorf("artifact: pull %s: layer of %d bytes is over the %d byte limit", ref, layer.Size, o.maxSize)
	}
	wantDiffID, err := v1.NewHash(layer.Annotations[AnnotationDiffID])
	if err != nil {
		return "", fmt.Errorf("%w: %s: layer without a valid %s annotation: %v", ErrNotDatabase, ref, AnnotationDiffID, err)
	}
	rl, err := remote.Layer(r.Context().Digest(layer.Digest.String()), o.remote...)
	if err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".pull-*")
	if err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	defer os.Remove(tmp.Name())
	err = fetchLayer(ctx, rl, layer, tmp, wantDiffID, o, ref)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	db, err := vulndb.Open(tmp.Name())
	if err != nil {
		return "", fmt.Errorf("artifact: pull %s: the pulled file: %w", ref, err)
	}
	db.Close()
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("artifact: pull %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// fetchLayer streams the blob through the digest check and zstd into w,
// capped at the size limit, and checks the uncompressed digest.
func fetchLayer(ctx context.Context, rl v1.Layer, layer *v1.Descriptor, w io.Writer, wantDiffID v1.Hash, o *options, ref string) (err error) {
	rc, err := rl.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	bh := sha256.New()
	var src io.Reader = io.TeeReader(io.LimitReader(rc, layer.Size+1), bh)
	if o.progress != nil {
		o.progress.Start(ref, "pull "+ref, layer.Size)
		defer func() { o.progress.Done(ref, err) }()
		src = &progressReader{r: src, p: o.progress, id: ref}
	}
	dec, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		return err
	}
	defer dec.Close()
	fh := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, fh), &ctxReader{ctx: ctx, r: io.LimitReader(dec, o.maxSize+1)})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("layer corrupt: decompress: %w", err)
	}
	if n > o.maxSize {
		return fmt.Errorf("database inflates past the %d byte limit", o.maxSize)
	}
	// Drain what zstd did not need, so that the blob digest covers it all.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return err
	}
	if got := sha256Hash(bh); got != layer.Digest {
		return fmt.Errorf("layer corrupt: digest %s, manifest says %s", got, layer.Digest)
	}
	if got := sha256Hash(fh); got != wantDiffID {
		return fmt.Errorf("layer corrupt: database digest %s, annotation says %s", got, wantDiffID)
	}
	return nil
}

type progressReader struct {
	r  io.Reader
	p  image.Progress
	id string
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.p.Advance(p.id, int64(n))
	}
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
