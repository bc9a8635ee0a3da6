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
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigilsec/vigil/layerfs"
)

// formatVersion is bumped when the on-disk encoding changes.
const formatVersion = 1

// DefaultMaxBytes bounds the cache's size on disk.
const DefaultMaxBytes = 2 << 30

// Layers is an on-disk layer-result cache.
type Layers struct {
	dir      string
	maxBytes int64
	now      func() time.Time
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
	var e entry
	if err := gob.NewDecoder(zr).Decode(&e); err != nil || e.Key != key {
		os.Remove(p)
		return nil, false
	}
	// Touch for LRU eviction; failure is harmless.
	now := c.now()
	_ = os.Chtimes(p, now, now)
	return e.Result, true
}

type entry struct {
	Key    string
	Result *layerfs.LayerResult
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
	zw, err := zstd.NewWriter(bw, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	if err != nil {
		tmp.Close()
		return fmt.Errorf("cache: %w", err)
	}
	if err := gob.NewEncoder(zw).Encode(entry{Key: key, Result: lr}); err != nil {
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
