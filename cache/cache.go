// Package cache stores per-layer walk results on disk, keyed by the layer's
// diffID plus the walk and extractor versions, so a rescan of an image, or
// of a rebuilt image whose base layers did not change, skips the layers it
// has already seen. Several vigil processes may share one cache: entries are
// written to a temporary file and renamed into place, so a reader sees a
// whole entry or none, and nobody waits on a lock.
package cache

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigilsec/vigil/layerfs"
)

// formatVersion is bumped when the on-disk encoding changes.
const formatVersion = 2

// DefaultMaxBytes bounds the cache's size on disk.
const DefaultMaxBytes = 2 << 30

// Layers is an on-disk layer-result cache.
type Layers struct {
	dir      string
	maxBytes int64
	now      func() time.Time
	// encoders holds idle zstd encoders: making one allocates about
	// 1 MiB, more than encoding a typical entry does.
	encoders sync.Pool
}

// Open returns the layer cache in dir (created if missing). maxBytes <= 0
// means DefaultMaxBytes.
func Open(dir string, maxBytes int64) (*Layers, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	d := filepath.Join(dir, "layers")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("cache: create %s: %w (choose another --cache-dir)", d, err)
	}
	return &Layers{dir: d, maxBytes: maxBytes, now: time.Now}, nil
}

func (c *Layers) file(key string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("v%d|%s", formatVersion, key)))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, h[:2], h+".gob.zst")
}

// Get returns the cached result for key. A missing, unreadable or corrupt
// entry is a miss (a corrupt one is removed).
func (c *Layers) Get(_ context.Context, key string) (*layerfs.LayerResult, bool) {
	p := c.file(key)
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	zr, err := zstd.NewReader(bufio.NewReader(f), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, false
	}
	defer zr.Close()
	lr, err := decode(zr, key)
	if err != nil {
		os.Remove(p)
		return nil, false
	}
	// Touch for LRU eviction; failure is harmless.
	now := c.now()
	_ = os.Chtimes(p, now, now)
	return lr, true
}

// An entry is a stream of gob messages: a header holding the key and the
// layer result without its file results, then the file results in chunks.
// Each message is buffered whole by gob, so chunks bound the memory an
// entry takes to write or read beyond the result itself.
type header struct {
	Key    string
	Result *layerfs.LayerResult // Files left out
	Files  int                  // how many file results follow
}

// chunkFiles is how many file results one message holds.
const chunkFiles = 32

func encode(w io.Writer, key string, lr *layerfs.LayerResult) error {
	enc := gob.NewEncoder(w)
	head := *lr
	head.Files = nil
	if err := enc.Encode(header{Key: key, Result: &head, Files: len(lr.Files)}); err != nil {
		return err
	}
	for fs := lr.Files; len(fs) > 0; {
		n := min(len(fs), chunkFiles)
		if err := enc.Encode(fs[:n]); err != nil {
			return err
		}
		fs = fs[n:]
	}
	return nil
}

func decode(r io.Reader, key string) (*layerfs.LayerResult, error) {
	dec := gob.NewDecoder(r)
	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, err
	}
	if h.Key != key || h.Result == nil || h.Files < 0 {
		return nil, errors.New("cache: entry is for another key, or corrupt")
	}
	lr := h.Result
	lr.Files = make([]layerfs.FileResult, 0, min(h.Files, 1<<16))
	for len(lr.Files) < h.Files {
		var chunk []layerfs.FileResult
		if err := dec.Decode(&chunk); err != nil {
			return nil, err
		}
		if len(chunk) == 0 || len(lr.Files)+len(chunk) > h.Files {
			return nil, errors.New("cache: corrupt entry")
		}
		lr.Files = append(lr.Files, chunk...)
	}
	if len(lr.Files) == 0 {
		lr.Files = nil
	}
	return lr, nil
}

// Put stores a result atomically.
func (c *Layers) Put(_ context.Context, key string, lr *layerfs.LayerResult) error {
	p := c.file(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	zw, _ := c.encoders.Get().(*zstd.Encoder)
	if zw != nil {
		zw.Reset(bw)
	} else if zw, err = zstd.NewWriter(bw, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(128<<10), zstd.WithLowerEncoderMem(true)); err != nil {
		tmp.Close()
		return fmt.Errorf("cache: %w", err)
	}
	defer c.encoders.Put(zw)
	if err := encode(zw, key, lr); err != nil {
		tmp.Close()
		return fmt.Errorf("cache: encode layer %s: %w", lr.DiffID, err)
	}
	if err := errors.Join(zw.Close(), bw.Flush(), tmp.Close()); err != nil {
		return fmt.Errorf("cache: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return c.trim()
}

// Stats describes the cache contents.
type Stats struct {
	Entries int
	Bytes   int64
}

type fileInfo struct {
	path string
	size int64
	mod  time.Time
}

func (c *Layers) list() ([]fileInfo, error) {
	var out []fileInfo
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".gob.zst") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		out = append(out, fileInfo{p, fi.Size(), fi.ModTime()})
		return nil
	})
	return out, err
}

// Stats returns the number of entries and their total size.
func (c *Layers) Stats() (Stats, error) {
	files, err := c.list()
	var s Stats
	for _, f := range files {
		s.Entries++
		s.Bytes += f.size
	}
	return s, err
}

// trim evicts least recently used entries while the cache is over its bound.
func (c *Layers) trim() error {
	files, err := c.list()
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	if total <= c.maxBytes {
		return nil
	}
	slices.SortFunc(files, func(a, b fileInfo) int { return a.mod.Compare(b.mod) })
	for _, f := range files {
		if total <= c.maxBytes {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
	return nil
}

// Clean removes every cached layer result.
func (c *Layers) Clean() error {
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("cache: clean %s: %w", c.dir, err)
	}
	return os.MkdirAll(c.dir, 0o755)
}
