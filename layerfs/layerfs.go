// Package layerfs walks an image's layers, each exactly once, and offers
// every file to the registered extractors. It applies whiteouts and opaque
// directories, decides which extracted files are still visible in the final
// image, and attributes every package to the layer that introduced it.
//
// Walking is split in two: each layer is reduced independently (and in
// parallel) to a LayerResult, which is small, serialisable and cacheable by
// diffID; the merge folds each finished layer at once into what the image's
// inventory needs, so that per-layer state is released as the walk goes.
// Nothing holds a whole layer in memory: bodies nobody wants are skipped
// (with Seek when the stream allows it) and wanted files are read under a
// size cap.
package layerfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
)

// Version is bumped whenever the shape or meaning of a LayerResult changes;
// it is part of the layer cache key.
const Version = 2

// Limits that protect the walk from hostile layers.
const (
	DefaultMaxEntries   = 5_000_000
	DefaultMemFileLimit = 4 << 20
	maxPathLen          = 4096
)

// Options control a walk.
type Options struct {
	// Registry holds the extractors to run. Required.
	Registry *extract.Registry
	// Parallel is how many layers are walked at once (default: GOMAXPROCS).
	Parallel int
	// TempDir is where wanted files larger than MemFileLimit are spooled.
	TempDir string
	// MemFileLimit is the largest wanted file read into memory.
	MemFileLimit int64
	// MaxFileSize is the largest file handed to an extractor at all.
	MaxFileSize int64
	// MaxEntries caps the entries of one layer (tar bombs).
	MaxEntries int
	// Verify says which layers are hashed and checked against their diffID.
	// VerifyAuto (the zero value) hashes only streams that have no integrity
	// check of their own: a gzip stream carries a CRC-32 and length of its
	// content that the decompressor checks, registry blobs are checked
	// against their digest as they download, and a seekable local layer is
	// not read whole at all. Hashing costs as much CPU as inflating (0.47 s
	// of 1.15 s on the reference image), so VerifyAll is an opt-in.
	Verify VerifyMode
	// KeepIndex keeps every entry of every layer, and every layer's result,
	// in the Result (for inspect, audits and tests); without it only
	// compact path hashes are kept, and only until the merge needs them no
	// more.
	KeepIndex bool
	// Cache, when set, stores and reuses per-layer results by diffID.
	Cache Cache
	// OnLayer, when set, is called as each layer finishes (from the goroutine
	// that walked it); cached reports a cache hit.
	OnLayer func(index int, cached bool)
}

// Cache stores per-layer results. Implementations must be safe for
// concurrent use by several goroutines and processes.
type Cache interface {
	Get(ctx context.Context, key string) (*LayerResult, bool)
	Put(ctx context.Context, key string, lr *LayerResult) error
}

func (o *Options) defaults() {
	if o.Parallel <= 0 {
		o.Parallel = runtime.GOMAXPROCS(0)
	}
	if o.MemFileLimit <= 0 {
		o.MemFileLimit = DefaultMemFileLimit
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = extract.DefaultMaxFileSize
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
}

// VerifyMode selects which layers are checked against their diffID.
type VerifyMode int

// Verify modes.
const (
	VerifyAuto VerifyMode = iota
	VerifyAll
	VerifyNone
)

// ParseVerifyMode parses "auto", "all" or "none".
func ParseVerifyMode(s string) (VerifyMode, error) {
	switch s {
	case "auto", "":
		return VerifyAuto, nil
	case "all", "true":
		return VerifyAll, nil
	case "none", "off", "false":
		return VerifyNone, nil
	}
	return 0, fmt.Errorf("verify mode %q: want auto, all or none", s)
}

// Entry is one file-system entry of a layer, kept with Options.KeepIndex.
type Entry struct {
	Path     string      `json:"path"`
	Type     EntryType   `json:"type"`
	Mode     fs.FileMode `json:"mode"`
	Size     int64       `json:"size,omitempty"`
	Linkname string      `json:"linkname,omitempty"`
	UID      int         `json:"uid,omitempty"`
	GID      int         `json:"gid,omitempty"`
}

// EntryType is the kind of an entry.
type EntryType byte

// Entry kinds.
const (
	TypeFile     EntryType = 'f'
	TypeDir      EntryType = 'd'
	TypeSymlink  EntryType = 'l'
	TypeHardlink EntryType = 'h'
	TypeOther    EntryType = 'o'
)

// FileResult is what one extractor made of one file of a layer.
type FileResult struct {
	Path      string          `json:"path"`
	Extractor string          `json:"extractor"`
	Result    *extract.Result `json:"result,omitempty"`
}

// LayerResult is everything the merge needs from one layer.
type LayerResult struct {
	DiffID string       `json:"diffID,omitempty"`
	Files  []FileResult `json:"files,omitempty"`
	// Dirs and NonDirs are sorted 64-bit hashes of the paths of the
	// layer's directories and of its other entries: enough to decide whether
	// the layer replaces or hides a path of a lower layer, at 8 bytes an
	// entry.
	Dirs    []uint64 `json:"dirs,omitempty"`
	NonDirs []uint64 `json:"nonDirs,omitempty"`
	// Whiteouts are paths this layer deletes from lower layers; Opaques are
	// directories whose lower-layer contents it hides.
	Whiteouts []string            `json:"whiteouts,omitempty"`
	Opaques   []string            `json:"opaques,omitempty"`
	Warnings  []inventory.Warning `json:"warnings,omitempty"`
	Entries   []Entry             `json:"entries,omitempty"`
	// Count is the number of entries; Bytes the sum of regular file sizes.
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Result is a finished walk.
type Result struct {
	Inventory *inventory.Inventory
	// Layers holds each layer's result, lowest first, with
	// Options.KeepIndex (or for a root file system); otherwise nil.
	Layers []*LayerResult
}

// ErrDiffIDMismatch is returned when a layer's content does not hash to its
// diffID.
var ErrDiffIDMismatch = errors.New("layer content does not match its diffID")

// Walk reads every layer of img once and returns the merged inventory.
func Walk(ctx context.Context, img *image.Image, opts Options) (*Result, error) {
	if opts.Registry == nil {
		return nil, errors.New("layerfs: no extractor registry")
	}
	opts.defaults()
	res := &Result{}
	if img.RootDir != "" {
		lr, err := walkDir(ctx, img.RootDir, &opts)
		if err != nil {
			return nil, err
		}
		res.Layers = []*LayerResult{lr}
		if res.Inventory, err = Merge(res.Layers); err != nil {
			return nil, err
		}
	} else {
		var err error
		res.Inventory, res.Layers, err = walkLayers(ctx, img.Layers, &opts)
		if err != nil {
			return nil, err
		}
	}
	res.Inventory.Layers = LayerInfo(img)
	res.Inventory.Sort()
	return res, nil
}

// LayerInfo describes the image's layers for the inventory.
func LayerInfo(img *image.Image) []inventory.Layer {
	if img.RootDir != "" {
		return []inventory.Layer{{Index: 0, CreatedBy: "root file system " + img.RootDir}}
	}
	out := make([]inventory.Layer, len(img.Layers))
	for i, l := range img.Layers {
		out[i] = inventory.Layer{Index: i, DiffID: l.DiffID, Digest: l.Digest, Size: l.Size}
		if l.History != nil {
			out[i].CreatedBy = l.History.CreatedBy
		}
	}
	return out
}

// walkLayers walks the layers in parallel and merges each as it finishes.
// It returns the layers' results too with opts.KeepIndex.
func walkLayers(ctx context.Context, layers []image.Layer, opts *Options) (*inventory.Inventory, []*LayerResult, error) {
	var results []*LayerResult
	if opts.KeepIndex {
		results = make([]*LayerResult, len(layers))
	}
	sizes := make([]int64, len(layers))
	for i := range layers {
		sizes[i] = layers[i].Size
	}
	workers := min(opts.Parallel, len(layers))
	order := walkOrder(sizes, workers)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	m := newMerger(len(layers))
	var mergeMu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel(err)
		}
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body bodyBuffer
			defer body.free()
			for i := range work {
				lr, err := walkOne(ctx, i, &layers[i], opts, &body)
				if err != nil {
					fail(err)
					continue
				}
				r, err := newRun(i, lr)
				if err != nil {
					fail(err)
					continue
				}
				mergeMu.Lock()
				m.add(r)
				if results != nil {
					results[i] = lr
				}
				mergeMu.Unlock()
			}
		}()
	}
feed:
	for _, i := range order {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	inv, err := m.inventory()
	if err != nil {
		return nil, nil, err
	}
	return inv, results, nil
}

// walkOrder returns the order in which to start walking layers of the
// given sizes with the given number of workers. Bottom up keeps the merge
// small: each finished layer joins the run of finished layers below it,
// and that run needs neither its path sets nor the results its upper
// layers hide. But a layer left to the end can make the walk as long as
// itself plus all the rest, so a layer starts out of turn, largest first,
// as soon as it is more than each other worker's share of what is left.
func walkOrder(sizes []int64, workers int) []int {
	order := make([]int, 0, len(sizes))
	started := make([]bool, len(sizes))
	var left int64
	for _, s := range sizes {
		left += s
	}
	next := 0 // the lowest layer not started
	for len(order) < len(sizes) {
		for started[next] {
			next++
		}
		pick := next
		if workers > 1 {
			big := -1
			for i, s := range sizes {
				if !started[i] && (big < 0 || s > sizes[big]) {
					big = i
				}
			}
			if sizes[big]*int64(workers-1) > left-sizes[big] {
				pick = big
			}
		}
		started[pick] = true
		left -= sizes[pick]
		order = append(order, pick)
	}
	return order
}

func walkOne(ctx context.Context, i int, l *image.Layer, opts *Options, body *bodyBuffer) (*LayerResult, error) {
	key := ""
	if opts.Cache != nil && l.DiffID != "" && !opts.KeepIndex {
		key = CacheKey(l.DiffID, opts.Registry)
		if lr, ok := opts.Cache.Get(ctx, key); ok {
			if opts.OnLayer != nil {
				opts.OnLayer(i, true)
			}
			return lr, nil
		}
	}
	if l.Open == nil {
		return nil, fmt.Errorf("layerfs: layer %d (%s) cannot be opened", i, l.DiffID)
	}
	lr, err := walkTar(ctx, i, l, opts, body)
	if err != nil {
		return nil, err
	}
	if key != "" {
		if err := opts.Cache.Put(ctx, key, lr); err != nil {
			lr.Warnings = append(lr.Warnings, inventory.Warning{Layer: i, Component: "cache", Message: err.Error()})
		}
	}
	if opts.OnLayer != nil {
		opts.OnLayer(i, false)
	}
	return lr, nil
}

// CacheKey is the layer cache key: the diffID, the walk's version and every
// extractor's name and version.
func CacheKey(diffID string, reg *extract.Registry) string {
	return fmt.Sprintf("%s|layerfs@%d|%s", diffID, Version, reg.Fingerprint())
}

// cleanPath turns a tar entry name into a clean relative path. It rejects
// names that climb out of the root; absolute names are taken relative to
// the root, as container runtimes do.
func cleanPath(name string) (string, error) {
	if len(name) > maxPathLen {
		return "", fmt.Errorf("path longer than %d bytes", maxPathLen)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", errors.New("path contains a NUL byte")
	}
	// path.Clean of "/"+name cannot climb above "/", so a name with "../"
	// that would escape is caught by looking at the raw segments.
	clean := true
	for rest := name; ; {
		seg, tail, more := strings.Cut(rest, "/")
		switch seg {
		case "..":
			return "", errors.New("path climbs out of the root with ..")
		case ".", "":
			clean = false
		}
		if !more {
			break
		}
		rest = tail
	}
	if clean {
		return name, nil // most names; no need to allocate
	}
	if rest, ok := strings.CutPrefix(name, "./"); ok && rest != "" {
		if p, err := cleanPath(rest); err != nil || p == rest {
			return p, err // "./usr/bin/x", as tar writes names
		}
	}
	p := path.Clean("/" + name)
	if p == "/" {
		return "", nil
	}
	return p[1:], nil
}

// hashPath is FNV-1a 64: stable across processes, so it can be cached.
func hashPath(p string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(p); i++ {
		h ^= uint64(p[i])
		h *= 1099511628211
	}
	return h
}

func has(sorted []uint64, h uint64) bool {
	_, ok := slices.BinarySearch(sorted, h)
	return ok
}
