// Package layerio turns a stored layer blob into the uncompressed tar stream
// that image.Layer.Open promises: it recognises gzip and zstd by their magic
// bytes, keeps uncompressed blobs seekable so the walk can skip file bodies,
// names the blob in every read error, and counts bytes for progress reports.
package layerio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/vigilsec/vigil/image"
)

// Compression is how a blob is compressed.
type Compression int

// The compressions a layer blob can have.
const (
	None Compression = iota
	Gzip
	Zstd
)

// String names the compression.
func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	default:
		return "none"
	}
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// MagicLen is how many leading bytes Sniff needs.
const MagicLen = 4

// Sniff reports the compression that the leading bytes of a blob announce.
func Sniff(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return Gzip
	case bytes.HasPrefix(head, zstdMagic):
		return Zstd
	default:
		return None
	}
}

// SniffAt reads the leading bytes of r and reports its compression.
func SniffAt(r io.ReaderAt) (Compression, error) {
	head := make([]byte, MagicLen)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return None, err
	}
	return Sniff(head[:n]), nil
}

// MaxZstdWindow caps the memory a zstd frame may ask the decoder for.
const MaxZstdWindow = 256 << 20

// MediaType returns the OCI media type for an uncompressed tar blob of the
// given compression (used where the source records none).
func MediaType(c Compression) string {
	switch c {
	case Gzip:
		return "application/vnd.oci.image.layer.v1.tar+gzip"
	case Zstd:
		return "application/vnd.oci.image.layer.v1.tar+zstd"
	default:
		return "application/vnd.oci.image.layer.v1.tar"
	}
}

// SeekReadCloser is an uncompressed layer that can skip bodies with Seek.
type SeekReadCloser struct {
	*io.SectionReader
	closer io.Closer
}

// Close closes the underlying file, if any.
func (s *SeekReadCloser) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// OpenSection returns the uncompressed stream of a blob held in sr. For an
// uncompressed blob the result also implements io.Seeker and io.ReaderAt.
// closer, when non-nil, is closed with the result. name appears in errors.
func OpenSection(sr *io.SectionReader, closer io.Closer, name string) (io.ReadCloser, error) {
	c, err := SniffAt(sr)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("layerio: read %s: %w", name, err)
	}
	if c == None {
		return &SeekReadCloser{SectionReader: sr, closer: closer}, nil
	}
	if f := wholeFile(sr); f != nil {
		// An external decompressor reads the file itself: no copy through
		// this process.
		return decompress(f, closer, c, name)
	}
	return decompress(sr, closer, c, name)
}

// Decompress returns the uncompressed stream of rc, sniffing its compression.
// rc is closed when the result is closed.
func Decompress(rc io.ReadCloser, name string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	head, err := br.Peek(MagicLen)
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, fmt.Errorf("layerio: read %s: %w", name, err)
	}
	c := Sniff(head)
	if c == None {
		return &namedReader{r: br, closers: []func() error{rc.Close}, name: name}, nil
	}
	return decompress(br, rc, c, name)
}

func decompress(r io.Reader, closer io.Closer, c Compression, name string) (io.ReadCloser, error) {
	var closers []func() error
	if closer != nil {
		closers = append(closers, closer.Close)
	}
	switch c {
	case Gzip:
		if tool := gzipCommand(); tool != "" {
			er, err := newExternalGzip(tool, r, name)
			if err == nil {
				return &namedReader{r: er, closers: append([]func() error{er.Close}, closers...), name: name, codec: "gzip"}, nil
			}
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return nil, fmt.Errorf("layerio: %s: gzip header: %w (the blob is corrupt or truncated)", name, err)
		}
		return &namedReader{r: zr, closers: append([]func() error{zr.Close}, closers...), name: name, codec: "gzip"}, nil
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(MaxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return nil, fmt.Errorf("layerio: %s: zstd: %w", name, err)
		}
		closeZ := func() error { zr.Close(); return nil }
		return &namedReader{r: zr, closers: append([]func() error{closeZ}, closers...), name: name, codec: "zstd"}, nil
	}
	return nil, fmt.Errorf("layerio: %s: unknown compression %d", name, c)
}

// namedReader prefixes read errors with the blob name so that a truncated
// or corrupt layer is reported with the file it came from.
type namedReader struct {
	r       io.Reader
	closers []func() error
	name    string
	codec   string
}

func (n *namedReader) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if err != nil && err != io.EOF {
		what := "read"
		if n.codec != "" {
			what = "decompress " + n.codec
		}
		err = fmt.Errorf("layerio: %s %s: %w (the blob is corrupt or truncated)", what, n.name, err)
	}
	return k, err
}

func (n *namedReader) Close() error {
	var first error
	for _, c := range n.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	n.closers = nil
	return first
}

// Counting reports every byte read from rc to p under id, and calls Done
// once on Close with the first read error (nil at a clean EOF). A nil p
// returns rc unchanged.
func Counting(rc io.ReadCloser, p image.Progress, id string) io.ReadCloser {
	if p == nil {
		return rc
	}
	return &countingReader{rc: rc, p: p, id: id}
}

type countingReader struct {
	rc   io.ReadCloser
	p    image.Progress
	id   string
	err  error
	done bool
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.rc.Read(b)
	if n > 0 {
		c.p.Advance(c.id, int64(n))
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func (c *countingReader) Close() error {
	err := c.rc.Close()
	if !c.done {
		c.done = true
		c.p.Done(c.id, c.err)
	}
	return err
}

// CheckContext returns ctx's error wrapped with what was being opened.
func CheckContext(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("open %s: %w", what, err)
	}
	return nil
}

// SelfChecking reports whether the stream verifies its own content as it
// is read: gzip members end with a CRC-32 and length of their content that
// every decompressor checks, so hashing the output again buys nothing.
func (n *namedReader) SelfChecking() bool { return n.codec == "gzip" }

// wholeFile returns the file behind sr when sr spans all of it from its
// start and the file's offset is still at 0, else nil.
func wholeFile(sr *io.SectionReader) *os.File {
	outer, off, n := sr.Outer()
	f, ok := outer.(*os.File)
	if !ok || off != 0 {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Size() != n {
		return nil
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 0 {
		return nil
	}
	return f
}
