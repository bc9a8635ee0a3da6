package layerfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
)

// layerWalker accumulates one layer's result.
type layerWalker struct {
	ctx    context.Context
	index  int
	opts   *Options
	lr     *LayerResult
	wanted []extract.Extractor // scratch
	body   *bodyBuffer         // the walking goroutine's, for file bodies
}

func newLayerWalker(ctx context.Context, index int, diffID string, opts *Options) *layerWalker {
	return &layerWalker{ctx: ctx, index: index, opts: opts, lr: &LayerResult{DiffID: diffID}}
}

func (w *layerWalker) warn(p, component, msg string) {
	w.lr.Warnings = append(w.lr.Warnings, inventory.Warning{Path: p, Layer: w.index, Component: component, Message: msg})
}

// observerName labels FileResults made by observers.
const observerName = "(observe)"

// observe offers an entry to the registry's observers.
func (w *layerWalker) observe(p string, fi fs.FileInfo) {
	if !w.opts.Registry.HasObservers() {
		return
	}
	if f := w.opts.Registry.Observe(p, fi); len(f) > 0 {
		w.lr.Files = append(w.lr.Files, FileResult{Path: p, Extractor: observerName, Result: &extract.Result{Files: f}})
	}
}

// record notes an entry in the layer's path index.
func (w *layerWalker) record(e Entry) {
	h := hashPath(e.Path)
	if e.Type == TypeDir {
		w.lr.Dirs = append(w.lr.Dirs, h)
	} else {
		w.lr.NonDirs = append(w.lr.NonDirs, h)
	}
	if e.Type == TypeFile {
		w.lr.Bytes += e.Size
	}
	if w.opts.KeepIndex {
		w.lr.Entries = append(w.lr.Entries, e)
	}
}

func (w *layerWalker) finish() *LayerResult {
	lr := w.lr
	slices.Sort(lr.Dirs)
	lr.Dirs = slices.Compact(lr.Dirs)
	slices.Sort(lr.NonDirs)
	lr.NonDirs = slices.Compact(lr.NonDirs)
	slices.Sort(lr.Whiteouts)
	slices.Sort(lr.Opaques)
	slices.SortStableFunc(lr.Files, func(a, b FileResult) int {
		return strings.Compare(a.Path+"\x00"+a.Extractor, b.Path+"\x00"+b.Extractor)
	})
	return lr
}

// offer runs the extractors that want a regular file. open returns the
// file's bytes as a ReaderAt; it is called at most once, and only when some
// extractor wants the file.
func (w *layerWalker) offer(p string, fi fs.FileInfo, open func() (io.ReaderAt, func(), error)) error {
	w.wanted = w.opts.Registry.Wanting(w.wanted[:0], p, fi)
	if len(w.wanted) == 0 {
		return nil
	}
	if fi.Size() > w.opts.MaxFileSize {
		w.warn(p, "layerfs", fmt.Sprintf("file of %d bytes exceeds the %d-byte limit for extractors; skipped", fi.Size(), w.opts.MaxFileSize))
		return nil
	}
	ra, release, err := open()
	if err != nil {
		return err
	}
	defer release()
	for _, ex := range w.wanted {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		res, err := runExtractor(w.ctx, ex, &extract.Input{Path: p, Info: fi, Reader: ra, Size: fi.Size(), Layer: w.index})
		if err != nil {
			w.warn(p, ex.Name(), err.Error())
		}
		if res == nil {
			continue
		}
		for _, m := range res.Warnings {
			w.warn(p, ex.Name(), m)
		}
		res.Warnings = nil
		if len(res.Packages) == 0 && res.Distro == nil && len(res.Owned) == 0 && len(res.Files) == 0 {
			continue
		}
		w.lr.Files = append(w.lr.Files, FileResult{Path: p, Extractor: ex.Name(), Result: res})
	}
	return nil
}

// runExtractor calls an extractor, turning a panic on hostile input into an
// error so that one bad file cannot abort the scan.
func runExtractor(ctx context.Context, ex extract.Extractor, in *extract.Input) (res *extract.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("extractor %s failed on this file: %v", ex.Name(), r)
		}
	}()
	return ex.Extract(ctx, in)
}

// whiteout handles ".wh." entries; it reports whether name was one.
func (w *layerWalker) whiteout(name string) bool {
	dir, base := path.Split(name)
	if !strings.HasPrefix(base, ".wh.") {
		return false
	}
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == ".wh..wh..opq":
		w.lr.Opaques = append(w.lr.Opaques, dir)
	case strings.HasPrefix(base, ".wh..wh."):
		// aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the view.
	default:
		w.lr.Whiteouts = append(w.lr.Whiteouts, path.Join(dir, base[len(".wh."):]))
	}
	return true
}

// SelfChecking is implemented by layer streams that verify their own
// content as they are read (a decompressor checking a gzip CRC, a registry
// blob checked against its digest).
type SelfChecking interface {
	SelfChecking() bool
}

func selfChecking(r io.Reader) bool {
	sc, ok := r.(SelfChecking)
	return ok && sc.SelfChecking()
}

// countingHash hashes what passes through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func walkTar(ctx context.Context, index int, l *image.Layer, opts *Options, body *bodyBuffer) (*LayerResult, error) {
	rc, err := l.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("layerfs: open layer %d (%s): %w", index, l.DiffID, err)
	}
	defer rc.Close()
	var src io.Reader = rc
	_, seekable := rc.(io.Seeker)
	if !seekable {
		// tar reads 512-byte headers; batch them into larger reads. More
		// than 256 KiB saves no measurable time and costs heap.
		src = bufio.NewReaderSize(rc, 256<<10)
	}
	var hr *hashingReader
	verify := opts.Verify == VerifyAll || opts.Verify == VerifyAuto && !seekable && !selfChecking(rc)
	if verify && strings.HasPrefix(l.DiffID, "sha256:") {
		hr = &hashingReader{r: src, h: sha256.New()}
		src = hr // hides any Seeker: every byte must be hashed
	}
	w := newLayerWalker(ctx, index, l.DiffID, opts)
	w.body = body
	var hardlinks [][2]string // wanted hard links: {name, target}
	tr := tar.NewReader(src)
	fail := func(err error) (*LayerResult, error) {
		return nil, fmt.Errorf("layerfs: layer %d (%s): %w", index, l.DiffID, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("reading tar after %d entries: %w (the layer blob is truncated or corrupt; re-pull or re-export the image)", w.lr.Count, err))
		}
		w.lr.Count++
		if w.lr.Count > opts.MaxEntries {
			return fail(fmt.Errorf("more than %d entries; refusing to walk a possible tar bomb", opts.MaxEntries))
		}
		name, err := cleanPath(hdr.Name)
		if err != nil {
			w.warn(hdr.Name, "layerfs", "entry skipped: "+err.Error())
			continue
		}
		if name == "" || w.whiteout(name) {
			continue
		}
		e := Entry{Path: name, Mode: hdr.FileInfo().Mode(), Size: hdr.Size, UID: hdr.Uid, GID: hdr.Gid}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			e.Type = TypeFile
		case tar.TypeDir:
			e.Type, e.Size = TypeDir, 0
		case tar.TypeSymlink:
			e.Type, e.Size, e.Linkname = TypeSymlink, 0, hdr.Linkname
		case tar.TypeLink:
			e.Type, e.Size = TypeHardlink, 0
			target, err := cleanPath(hdr.Linkname)
			if err != nil || target == "" {
				w.warn(name, "layerfs", fmt.Sprintf("hard link to %q skipped: outside the root", hdr.Linkname))
				continue
			}
			e.Linkname = target
		default:
			e.Type, e.Size = TypeOther, 0
		}
		w.record(e)
		w.observe(name, hdr.FileInfo())
		switch e.Type {
		case TypeFile:
			if hdr.Size < 0 {
				w.warn(name, "layerfs", "negative size; skipped")
				continue
			}
			fi := hdr.FileInfo()
			err := w.offer(name, fi, func() (io.ReaderAt, func(), error) {
				return readBody(tr, hdr.Size, opts, body)
			})
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fail(fmt.Errorf("%s: %w (the layer blob is truncated or corrupt; re-pull or re-export the image)", name, err))
			}
			if err != nil {
				return fail(fmt.Errorf("%s: %w", name, err))
			}
		case TypeHardlink:
			// The body lives with the target; offer the link under its own
			// name after the pass if an extractor wants that name.
			fi := linkInfo{hdr: hdr}
			if len(opts.Registry.Wanting(nil, name, fi)) > 0 {
				hardlinks = append(hardlinks, [2]string{name, e.Linkname})
			}
		}
	}
	if hr != nil {
		if _, err := io.Copy(io.Discard, hr); err != nil {
			return fail(fmt.Errorf("reading to the end: %w", err))
		}
		got := "sha256:" + hex.EncodeToString(hr.h.Sum(nil))
		if got != l.DiffID {
			return fail(fmt.Errorf("%w: content hashes to %s; the image is corrupt or was altered", ErrDiffIDMismatch, got))
		}
	}
	if len(hardlinks) > 0 {
		if err := w.resolveHardlinks(ctx, l, hardlinks); err != nil {
			return fail(err)
		}
	}
	return w.finish(), nil
}

// linkInfo presents a hard link as the regular file it names. Its size is
// unknown until the target is found, so it reports the header's.
type linkInfo struct{ hdr *tar.Header }

func (li linkInfo) Name() string       { return path.Base(li.hdr.Name) }
func (li linkInfo) Size() int64        { return li.hdr.Size }
func (li linkInfo) Mode() fs.FileMode  { return li.hdr.FileInfo().Mode().Perm() }
func (li linkInfo) ModTime() time.Time { return li.hdr.ModTime }
func (li linkInfo) IsDir() bool        { return false }
func (li linkInfo) Sys() any           { return li.hdr }

// resolveHardlinks makes a second pass over the layer to read the targets of
// wanted hard links. It costs a second read of the layer, and only happens
// when an extractor wants a path that is a hard link in this layer.
func (w *layerWalker) resolveHardlinks(ctx context.Context, l *image.Layer, links [][2]string) error {
	targets := map[string][]string{}
	for _, hl := range links {
		targets[hl[1]] = append(targets[hl[1]], hl[0])
	}
	rc, err := l.Open(ctx)
	if err != nil {
		return fmt.Errorf("reopen for hard links: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for len(targets) > 0 {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading tar for hard links: %w", err)
		}
		name, err := cleanPath(hdr.Name)
		if err != nil || hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		names, ok := targets[name]
		if !ok {
			continue
		}
		delete(targets, name)
		ra, release, err := readBody(tr, hdr.Size, w.opts, w.body)
		if err != nil {
			return err
		}
		for _, n := range names {
			hh := *hdr
			hh.Name = n
			if err := w.offer(n, hh.FileInfo(), func() (io.ReaderAt, func(), error) { return ra, func() {}, nil }); err != nil {
				release()
				return err
			}
		}
		release()
	}
	for t, names := range targets {
		for _, n := range names {
			w.warn(n, "layerfs", fmt.Sprintf("hard link target %s is not a regular file in this layer; skipped", t))
		}
	}
	return nil
}

// readBody reads a file body for extractors: into body's memory when small
// (valid until the next readBody with the same buffer), else into a
// temporary file in opts.TempDir that release removes.
func readBody(r io.Reader, size int64, opts *Options, body *bodyBuffer) (io.ReaderAt, func(), error) {
	if size <= opts.MemFileLimit {
		buf := body.get(int(size))
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, nil, fmt.Errorf("reading file body: %w", err)
		}
		return bytes.NewReader(buf), func() {}, nil
	}
	f, err := os.CreateTemp(opts.TempDir, "vigil-file-*")
	if err != nil {
		return nil, nil, fmt.Errorf("spooling a large file: %w (set --cache-dir or TMPDIR to a writable directory)", err)
	}
	release := func() { f.Close(); os.Remove(f.Name()) }
	if n, err := io.CopyN(f, r, size); err != nil {
		release()
		return nil, nil, fmt.Errorf("spooling a large file after %d bytes: %w", n, err)
	}
	return f, release, nil
}

// walkDir walks an unpacked root file system as a single layer. Files are
// handed to extractors directly (no copy). Top-level proc, sys and dev are
// skipped, so that `vigil rootfs /` scans a live host sensibly.
func walkDir(ctx context.Context, root string, opts *Options) (*LayerResult, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("layerfs: root file system %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("layerfs: root file system %s is not a directory", root)
	}
	w := newLayerWalker(ctx, 0, "", opts)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			w.warn(rel, "layerfs", err.Error())
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if rel == "." {
			return nil
		}
		if d.IsDir() && (rel == "proc" || rel == "sys" || rel == "dev") {
			return fs.SkipDir
		}
		w.lr.Count++
		if w.lr.Count > opts.MaxEntries {
			return fmt.Errorf("more than %d entries", opts.MaxEntries)
		}
		info, ierr := d.Info()
		if ierr != nil {
			w.warn(rel, "layerfs", ierr.Error())
			return nil
		}
		e := Entry{Path: rel, Mode: info.Mode(), Size: info.Size()}
		if st, ok := statOwner(info); ok {
			e.UID, e.GID = st[0], st[1]
		}
		switch {
		case info.Mode().IsRegular():
			e.Type = TypeFile
		case info.IsDir():
			e.Type, e.Size = TypeDir, 0
		case info.Mode()&fs.ModeSymlink != 0:
			e.Type, e.Size = TypeSymlink, 0
			e.Linkname, _ = os.Readlink(p)
		default:
			e.Type, e.Size = TypeOther, 0
		}
		w.record(e)
		w.observe(rel, info)
		if e.Type != TypeFile {
			return nil
		}
		return w.offer(rel, info, func() (io.ReaderAt, func(), error) {
			f, err := os.Open(p)
			if err != nil {
				return nil, nil, err
			}
			return f, func() { f.Close() }, nil
		})
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("layerfs: walking %s: %w", root, err)
	}
	return w.finish(), nil
}
