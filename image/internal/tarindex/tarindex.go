// Package tarindex indexes a tar archive once (entry name -> offset and
// size) so that any member can then be read in place through an
// io.SectionReader, without extracting anything to disk. docker-archive and
// OCI-archive sources use it; both formats name their members by path and
// newer Docker saves link legacy names to OCI blobs with symlinks, which the
// index follows inside the archive only.
package tarindex

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/image/internal/layerio"
)

// MaxEntries caps how many members an archive may have. Image archives hold
// a handful per layer; millions of entries mean a hostile or wrong file.
const MaxEntries = 1 << 20

// maxLinkHops caps symlink/hard-link chains inside the archive.
const maxLinkHops = 16

// Entry is one archive member.
type Entry struct {
	Name     string
	Type     byte
	Offset   int64 // of the body within the archive
	Size     int64
	Linkname string
	sparse   bool
}

// Index maps member names to their place in the archive.
type Index struct {
	ra      io.ReaderAt
	entries map[string]*Entry
}

// Build reads the tar headers of the size bytes in ra (skipping bodies with
// seeks) and returns the index. Member names are cleaned: a leading "./" or
// "/" is dropped; names that climb out of the archive ("../x") are ignored.
func Build(ctx context.Context, ra io.ReaderAt, size int64) (*Index, error) {
	sr := io.NewSectionReader(ra, 0, size)
	tr := tar.NewReader(sr)
	ix := &Index{ra: ra, entries: map[string]*Entry{}}
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if n >= MaxEntries {
			return nil, fmt.Errorf("more than %d entries (not an image archive?)", MaxEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, errors.New("empty archive or not a tar file")
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tar header after %d entries: %w", n, err)
		}
		name, ok := Clean(hdr.Name)
		if !ok {
			continue
		}
		off, err := sr.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		e := &Entry{Name: name, Type: hdr.Typeflag, Offset: off, Size: hdr.Size, Linkname: hdr.Linkname}
		if hdr.Typeflag == tar.TypeGNUSparse {
			e.sparse = true
		}
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				e.sparse = true
			}
		}
		if e.Size < 0 || e.Offset+e.Size > size {
			return nil, fmt.Errorf("entry %s: size %d runs past the end of the archive (truncated?)", name, hdr.Size)
		}
		ix.entries[name] = e
	}
	return ix, nil
}

// Clean normalises an archive member name; ok is false for names that are
// empty or leave the archive root.
func Clean(name string) (string, bool) {
	name = strings.TrimLeft(name, "/")
	c := path.Clean(name)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") || c == "" {
		return "", false
	}
	return c, true
}

// Names returns the cleaned names of all members, sorted.
func (ix *Index) Names() []string {
	out := make([]string, 0, len(ix.entries))
	for n := range ix.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Has reports whether a regular file (after following links) named name
// exists.
func (ix *Index) Has(name string) bool {
	_, err := ix.resolve(name)
	return err == nil
}

// Open returns a reader over the body of the regular file named name,
// following symlinks and hard links inside the archive. A missing member is
// an error wrapping fs.ErrNotExist.
func (ix *Index) Open(name string) (*io.SectionReader, error) {
	e, err := ix.resolve(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(ix.ra, e.Offset, e.Size), nil
}

// ReadFile returns the body of name, refusing bodies larger than max.
func (ix *Index) ReadFile(name string, max int64) ([]byte, error) {
	sr, err := ix.Open(name)
	if err != nil {
		return nil, err
	}
	if sr.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", name, sr.Size(), max)
	}
	b := make([]byte, sr.Size())
	if _, err := io.ReadFull(sr, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

func (ix *Index) resolve(name string) (*Entry, error) {
	cur, ok := Clean(name)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	for hop := 0; hop <= maxLinkHops; hop++ {
		e := ix.entries[cur]
		if e == nil {
			return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		switch e.Type {
		case tar.TypeReg:
			if e.sparse {
				return nil, fmt.Errorf("%s: sparse archive members are not supported", name)
			}
			return e, nil
		case tar.TypeSymlink:
			target := e.Linkname
			if !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(cur), target)
			}
			next, ok := Clean(target)
			if !ok {
				return nil, fmt.Errorf("%s: link to %q leaves the archive: %w", name, e.Linkname, fs.ErrNotExist)
			}
			cur = next
		case tar.TypeLink:
			next, ok := Clean(e.Linkname)
			if !ok {
				return nil, fmt.Errorf("%s: link to %q leaves the archive: %w", name, e.Linkname, fs.ErrNotExist)
			}
			cur = next
		default:
			return nil, fmt.Errorf("%s: not a regular file (tar type %q): %w", name, e.Type, fs.ErrNotExist)
		}
	}
	return nil, fmt.Errorf("%s: more than %d links: %w", name, maxLinkHops, fs.ErrNotExist)
}

// MaxDecompressed caps how large a compressed image archive may grow when
// it is decompressed into the temporary directory.
const MaxDecompressed = 1 << 40

// Archive is an indexed archive file, possibly a decompressed copy of a
// gzip or zstd compressed one.
type Archive struct {
	*Index
	// Path is the file the user named.
	Path string
	// Compression is the compression of the file the user named.
	Compression layerio.Compression
	f           *os.File
	tempDir     string
}

// OpenFile opens and indexes the archive at p. A gzip- or zstd-compressed
// archive is first decompressed into a new directory under tempDir (the
// system default when empty), removed again by Close.
func OpenFile(ctx context.Context, p, tempDir string) (*Archive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	a := &Archive{Path: p, f: f}
	c, err := layerio.SniffAt(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	a.Compression = c
	if c != layerio.None {
		if err := a.decompress(ctx, tempDir); err != nil {
			a.Close()
			return nil, err
		}
	}
	st, err := a.f.Stat()
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Index, err = Build(ctx, a.f, st.Size())
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("index %s: %w", p, err)
	}
	return a, nil
}

func (a *Archive) decompress(ctx context.Context, tempDir string) error {
	src := a.f
	a.f = nil
	rc, err := layerio.Decompress(src, a.Path)
	if err != nil {
		return err
	}
	defer rc.Close()
	dir, err := os.MkdirTemp(tempDir, "vigil-archive-*")
	if err != nil {
		return fmt.Errorf("create temporary directory for %s: %w (set a writable temp dir)", a.Path, err)
	}
	a.tempDir = dir
	out, err := os.Create(filepath.Join(dir, "archive.tar"))
	if err != nil {
		return err
	}
	a.f = out
	n, err := io.Copy(out, &ctxReader{ctx: ctx, r: io.LimitReader(rc, MaxDecompressed+1)})
	if err != nil {
		return fmt.Errorf("decompress %s: %w", a.Path, err)
	}
	if n > MaxDecompressed {
		return fmt.Errorf("decompress %s: more than %d bytes uncompressed", a.Path, int64(MaxDecompressed))
	}
	return nil
}

// Close closes the archive and removes any decompressed copy.
func (a *Archive) Close() error {
	var err error
	if a.f != nil {
		err = a.f.Close()
		a.f = nil
	}
	if a.tempDir != "" {
		if rerr := os.RemoveAll(a.tempDir); rerr != nil && err == nil {
			err = rerr
		}
		a.tempDir = ""
	}
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
