package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"
)

// txBytes bounds the data written in one bbolt transaction during Commit
// (bbolt holds a transaction's dirty pages in memory).
const txBytes = 8 << 20

// Commit applies every change, writes the metadata, syncs the new file and
// renames it over the destination. On error the destination is untouched.
func (b *Builder) Commit(ctx context.Context) (Meta, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return Meta{}, errors.New("vulndb: Commit after Commit or Abort")
	}
	b.done = true
	m, err := b.commit(ctx)
	if err != nil {
		b.cleanup()
		os.Remove(b.tmp)
		return Meta{}, err
	}
	return m, nil
}

func (b *Builder) commit(ctx context.Context) (Meta, error) {
	if err := b.waitSpill(); err != nil {
		return Meta{}, fmt.Errorf("vulndb: commit: %w", err)
	}
	b.rtx.Rollback()
	b.rtx = nil
	srcs := make([]opSource, 0, len(b.runs)+1)
	var runs []*runSource
	defer func() {
		for _, r := range runs {
			r.close()
		}
	}()
	for _, name := range b.runs {
		r, err := openRun(name)
		if err != nil {
			return Meta{}, fmt.Errorf("vulndb: commit: %w", err)
		}
		runs = append(runs, r)
		srcs = append(srcs, r)
	}
	b.buf.sort()
	srcs = append(srcs, &memSource{b: &b.buf})
	m, err := newMerger(srcs)
	if err != nil {
		return Meta{}, fmt.Errorf("vulndb: commit: %w", err)
	}
	groups := newGroupReader(&mergeIter{m: m})
	defer groups.close() // before the runs are closed
	w := &writer{b: b, groups: groups, meta: &b.meta, ctx: ctx}
	w.det.w = w
	if err := w.run(); err != nil {
		return Meta{}, fmt.Errorf("vulndb: commit %s: %w", b.path, err)
	}
	meta, err := b.finish(ctx)
	if err != nil {
		return Meta{}, fmt.Errorf("vulndb: commit %s: %w", b.path, err)
	}
	if err := b.maybeCompact(); err != nil {
		return Meta{}, fmt.Errorf("vulndb: commit %s: %w", b.path, err)
	}
	b.cleanup()
	if err := syncFile(b.tmp); err != nil {
		return Meta{}, fmt.Errorf("vulndb: sync %s: %w", b.tmp, err)
	}
	if err := os.Chmod(b.tmp, 0o644); err != nil {
		return Meta{}, fmt.Errorf("vulndb: chmod %s: %w", b.tmp, err)
	}
	if err := os.Rename(b.tmp, b.path); err != nil {
		return Meta{}, fmt.Errorf("vulndb: replace %s: %w", b.path, err)
	}
	if err := syncFile(filepath.Dir(b.path)); err != nil {
		return Meta{}, fmt.Errorf("vulndb: sync directory of %s: %w", b.path, err)
	}
	return meta, nil
}

// compactFree is the share of free pages past which Commit rewrites the
// file compactly. An incremental build copies the old file and rewrites
// the pages it changes elsewhere in it; the freed pages are reused by the
// next update, so the file stays within about this much of its compact
// size.
const compactFree = 0.25

// maybeCompact rewrites the file into a fresh one when too much of it is
// free pages.
func (b *Builder) maybeCompact() error {
	st := b.bdb.Stats()
	var size int64
	if err := b.bdb.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return err
	}
	free := int64(st.FreePageN+st.PendingPageN) * int64(b.bdb.Info().PageSize)
	if size == 0 || float64(free) < compactFree*float64(size) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(b.path), filepath.Base(b.path)+".tmp-*")
	if err != nil {
		return err
	}
	f.Close()
	dst, err := bolt.Open(f.Name(), 0o644, &bolt.Options{NoSync: true, NoGrowSync: true,
		FreelistType: bolt.FreelistMapType, PageSize: b.bdb.Info().PageSize})
	if err == nil {
		err = bolt.Compact(dst, b.bdb, txBytes)
		if err == nil {
			err = dst.Sync()
		}
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("compact: %w", err)
	}
	old := b.tmp
	b.bdb.Close()
	b.bdb = nil
	b.tmp = f.Name()
	os.Remove(old)
	return nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// finish replaces the KEV and EPSS tables when set and writes the metadata.
func (b *Builder) finish(ctx context.Context) (Meta, error) {
	if b.kevSet {
		slices.SortFunc(b.kev, func(x, y KEV) int { return strings.Compare(x.CVE, y.CVE) })
		b.kev = slices.CompactFunc(b.kev, func(x, y KEV) bool { return x.CVE == y.CVE })
		err := b.replaceTable(ctx, bucketKEV, len(b.kev), func(i int) ([]byte, []byte) {
			return []byte(b.kev[i].CVE), encodeKEV(nil, &b.kev[i])
		})
		if err != nil {
			return Meta{}, err
		}
		b.meta.KEV = len(b.kev)
	}
	if b.epssSet {
		slices.SortFunc(b.epss, func(x, y EPSS) int { return strings.Compare(x.CVE, y.CVE) })
		b.epss = slices.CompactFunc(b.epss, func(x, y EPSS) bool { return x.CVE == y.CVE })
		err := b.replaceTable(ctx, bucketEPSS, len(b.epss), func(i int) ([]byte, []byte) {
			return []byte(b.epss[i].CVE), encodeEPSS(nil, &b.epss[i])
		})
		if err != nil {
			return Meta{}, err
		}
		b.meta.EPSS = len(b.epss)
		b.meta.EPSSDate = b.epssDay
	}
	for name, st := range b.feeds {
		st.Docs = b.meta.Feeds[name].Docs
		b.meta.Feeds[name] = st
	}
	for name, st := range b.meta.Feeds {
		if st.Docs <= 0 && st.URL == "" && st.Updated.IsZero() {
			delete(b.meta.Feeds, name)
		}
	}
	for eco, n := range b.meta.Ecosystems {
		if n <= 0 {
			delete(b.meta.Ecosystems, eco)
		}
	}
	b.meta.Docs = 0
	for _, st := range b.meta.Feeds {
		b.meta.Docs += st.Docs
	}
	b.meta.Schema = SchemaVersion
	b.meta.Built = b.opts.Now().UTC()
	raw, err := json.Marshal(&b.meta)
	if err != nil {
		return Meta{}, err
	}
	err = b.bdb.Update(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		if err := b.names.save(mb); err != nil {
			return err
		}
		return mb.Put(keyMeta, raw)
	})
	if err != nil {
		return Meta{}, err
	}
	if err := b.bdb.Sync(); err != nil {
		return Meta{}, err
	}
	m := b.meta
	m.Feeds = cloneMap(m.Feeds)
	m.Ecosystems = cloneMap(m.Ecosystems)
	return m, nil
}

func (b *Builder) replaceTable(ctx context.Context, name []byte, n int, kv func(int) ([]byte, []byte)) error {
	i := 0
	first := true
	for first || i < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := b.bdb.Update(func(tx *bolt.Tx) error {
			if first {
				if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
					return err
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
				first = false
			}
			bk := tx.Bucket(name)
			bk.FillPercent = 1
			written := 0
			for ; i < n && written < txBytes; i++ {
				k, v := kv(i)
				if err := bk.Put(k, v); err != nil {
					return err
				}
				written += len(k) + len(v) + 32
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("write %s table: %w", name, err)
		}
	}
	return nil
}

// writer applies the merged op stream to the file.
type writer struct {
	b      *Builder
	groups *groupReader
	meta   *Meta
	ctx    context.Context

	tx      *bolt.Tx
	written int
	rawBuf  []byte
	det     detWriter
	q       putQueue
}

// putQueue compresses values on several goroutines and puts them into the
// file in the order they were submitted (key order, which is what keeps
// bbolt's appends cheap). Everything queued is written before a
// transaction commits.
type putQueue struct {
	w     *writer
	items []*queued
	sem   chan struct{}
}

type queued struct {
	bucket []byte
	key    []byte
	val    []byte
	done   chan struct{}
}

func (q *putQueue) put(bucket, key, raw []byte, compress func([]byte) []byte) error {
	it := &queued{bucket: bucket, key: key, done: make(chan struct{})}
	q.sem <- struct{}{}
	go func() {
		defer close(it.done)
		defer func() { <-q.sem }()
		it.val = compress(raw)
	}()
	q.items = append(q.items, it)
	if len(q.items) >= 2*cap(q.sem)+8 {
		return q.drainTo(cap(q.sem))
	}
	return nil
}

func (q *putQueue) drainTo(n int) error {
	for len(q.items) > n {
		it := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		<-it.done
		if err := q.w.tx.Bucket(it.bucket).Put(it.key, it.val); err != nil {
			return err
		}
		q.w.written += len(it.key) + len(it.val)
	}
	return nil
}

// wait lets every queued compression finish (after an error).
func (q *putQueue) wait() {
	for _, it := range q.items {
		<-it.done
	}
	q.items = nil
}

type span struct{ ko, kl, vo, vl int }

func (w *writer) begin() error {
	tx, err := w.b.bdb.Begin(true)
	if err != nil {
		return err
	}
	w.tx = tx
	w.written = 0
	for _, name := range [][]byte{bucketPkg, bucketRec, bucketDet} {
		tx.Bucket(name).FillPercent = 1
	}
	return nil
}

func (w *writer) maybeCommit() error {
	if w.written < txBytes {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.q.drainTo(0); err != nil {
		return err
	}
	if err := w.tx.Commit(); err != nil {
		return err
	}
	return w.begin()
}

// groupKey is the key ops are grouped by: the package key for package ops
// (their sort key is package key, NUL, record key), the whole key
// otherwise.
func groupKey(o *op) []byte {
	if o.tag == tagPkg && len(o.key) > 2 {
		if i := bytes.IndexByte(o.key[2:], 0); i >= 0 {
			return o.key[:2+i]
		}
	}
	return o.key
}

func (w *writer) run() (err error) {
	if err := w.begin(); err != nil {
		return err
	}
	w.q = putQueue{w: w, sem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
	defer func() {
		if err == nil {
			err = w.q.drainTo(0)
		}
		w.q.wait()
		if w.tx != nil {
			if err != nil {
				w.tx.Rollback()
			} else {
				err = w.tx.Commit()
			}
		}
	}()
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		tag, key, ops, err := w.groups.next()
		if err != nil {
			return err
		}
		if tag != tagDet {
			if err := w.det.flush(); err != nil {
				return err
			}
		}
		if ops == nil {
			return nil
		}
		switch tag {
		case tagDet:
			last := ops[len(ops)-1]
			err = w.det.apply(key, last.val, last.del)
		case tagPkg:
			err = w.applyPkg(key, ops)
		case tagRec:
			err = w.applyRec(key, ops[len(ops)-1])
		default:
			err = fmt.Errorf("%w: op tag %q", ErrCorrupt, tag)
		}
		if err != nil {
			return err
		}
		if err := w.maybeCommit(); err != nil {
			return err
		}
	}
}

// decompress undoes compressValue with the builder's decoder.
func (w *writer) decompress(v []byte) ([]byte, error) {
	return decompressValue(w.b.dec, v, nil)
}

// stored returns the value stored under key, or nil; in a build from an
// empty file there is none, and looking would cost a descent of the tree.
func (w *writer) stored(bk *bolt.Bucket, key []byte) []byte {
	if w.b.fresh {
		return nil
	}
	return bk.Get(key)
}

// applyPkg rewrites one package value: the stored entries minus those of
// the documents the ops touch, plus the documents' new entries.
func (w *writer) applyPkg(key []byte, ops []op) error {
	bk := w.tx.Bucket(bucketPkg)
	if _, _, ok := splitPkgKey(key); !ok {
		return fmt.Errorf("%w: package key %q", ErrCorrupt, key)
	}
	var keep []rawEntry
	if v := w.stored(bk, key); v != nil {
		touched := make(map[string]bool, len(ops))
		for i := range ops {
			touched[string(ops[i].key[len(key)+1:])] = true
		}
		raw, err := w.decompress(v)
		if err != nil {
			return fmt.Errorf("package %q: %w", key, err)
		}
		es, err := splitEntries(raw)
		if err != nil {
			return fmt.Errorf("package %q: %w", key, err)
		}
		for _, e := range es {
			if !touched[string(recKey(e.source, e.scope, e.id))] {
				keep = append(keep, e)
			}
		}
	}
	// Ops come sorted by record key, then sequence number. Per document the
	// last version wins; a put and a tombstone of the same version (the
	// document stays under this package) mean the put.
	for i := 0; i < len(ops); {
		j := i
		for j < len(ops) && bytes.Equal(ops[j].key, ops[i].key) {
			j++
		}
		last := ops[j-1].seq
		var put *op
		for k := i; k < j; k++ {
			if ops[k].seq == last && !ops[k].del {
				put = &ops[k]
			}
		}
		rk := ops[i].key[len(key)+1:]
		i = j
		if put == nil {
			continue
		}
		if s, ok := w.b.dups[string(rk)]; ok && s != put.seq {
			continue // from a version of the document replaced later in the build
		}
		es, err := splitEntries(put.val)
		if err != nil {
			return fmt.Errorf("package %q: %w", key, err)
		}
		keep = append(keep, es...)
	}
	if len(keep) == 0 {
		return bk.Delete(key)
	}
	slices.SortStableFunc(keep, func(x, y rawEntry) int {
		if c := strings.Compare(x.id, y.id); c != 0 {
			return c
		}
		if c := strings.Compare(x.source, y.source); c != 0 {
			return c
		}
		return strings.Compare(x.scope, y.scope)
	})
	raw := joinEntries(w.rawBuf[:0], keep)
	w.rawBuf = raw
	if len(raw) < pkgCompressMin {
		val := make([]byte, 0, len(raw)+1)
		val = append(append(val, valRaw), raw...)
		w.written += len(key) + len(val)
		return bk.Put(key, val)
	}
	return w.q.put(bucketPkg, key, bytes.Clone(raw), compressS2)
}

// compressS2 returns the tagged value, S2-compressed when that is smaller.
func compressS2(raw []byte) []byte {
	out := make([]byte, 1, s2.MaxEncodedLen(len(raw))+1)
	out[0] = valS2
	out = append(out, s2.EncodeBetter(out[1:cap(out)], raw)...)
	if len(out) < len(raw)+1 {
		return out
	}
	out = out[:0]
	out = append(out, valRaw)
	return append(out, raw...)
}

// pkgCompressMin is the smallest package value worth compressing: below
// it the per-call cost and frame overhead outweigh the saving, and a
// lookup of the value needs no decompression at all.
const pkgCompressMin = 128

func (w *writer) applyRec(key []byte, last op) error {
	bk := w.tx.Bucket(bucketRec)
	var old *record
	if v := w.stored(bk, key); v != nil {
		r, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("record %q: %w", key, err)
		}
		old = r
	}
	names := w.b.names
	if old != nil {
		for _, id := range old.Ecos {
			if e, ok := names.name(id); ok {
				w.meta.Ecosystems[e]--
			}
		}
		if f, ok := names.name(old.Feed); ok {
			st := w.meta.Feeds[f]
			st.Docs--
			w.meta.Feeds[f] = st
		}
	}
	if last.del {
		return bk.Delete(key)
	}
	r, err := decodeRecord(last.val)
	if err != nil {
		return fmt.Errorf("record %q: %w", key, err)
	}
	for _, id := range r.Ecos {
		if e, ok := names.name(id); ok {
			w.meta.Ecosystems[e]++
		}
	}
	if f, ok := names.name(r.Feed); ok {
		st := w.meta.Feeds[f]
		st.Docs++
		w.meta.Feeds[f] = st
	}
	w.written += len(key) + len(last.val)
	// bbolt keeps the slices it is given until the transaction ends, and
	// the group's arena is reused: copy.
	return bk.Put(key, bytes.Clone(last.val))
}

// detWriter applies details ops, which arrive in key order, to the stored
// blocks: it loads the block a key falls in, edits it in memory, and
// writes it back (split when it grew too big) when the ops move past it.
type detWriter struct {
	w      *writer
	loaded bool
	oldKey []byte // key the loaded block is stored under; nil for a new block
	upper  []byte // first key of the next stored block; nil when none
	kvs    []kv
	size   int
}

func (d *detWriter) apply(key, val []byte, del bool) error {
	if !d.loaded || d.upper != nil && bytes.Compare(key, d.upper) >= 0 {
		if err := d.flush(); err != nil {
			return err
		}
		if err := d.load(key); err != nil {
			return err
		}
	}
	i, found := slices.BinarySearchFunc(d.kvs, key, func(e kv, k []byte) int { return bytes.Compare(e.k, k) })
	switch {
	case del && found:
		d.size -= blockSize(d.kvs[i])
		d.kvs = slices.Delete(d.kvs, i, i+1)
	case del:
	case found:
		d.size -= blockSize(d.kvs[i])
		d.kvs[i].v = bytes.Clone(val)
		d.size += blockSize(d.kvs[i])
	default:
		x := kv{bytes.Clone(key), bytes.Clone(val)}
		d.kvs = slices.Insert(d.kvs, i, x)
		d.size += blockSize(x)
		// A build that appends to the end writes full blocks as it goes.
		if i == len(d.kvs)-1 && d.size >= detBlockTarget && d.upper == nil {
			if err := d.flush(); err != nil {
				return err
			}
			d.loaded = true
		}
	}
	return nil
}

// load reads the stored block key falls in (or starts a new one).
func (d *detWriter) load(key []byte) error {
	d.loaded, d.oldKey, d.upper, d.kvs, d.size = true, nil, nil, d.kvs[:0], 0
	c := d.w.tx.Bucket(bucketDet).Cursor()
	k, v := c.Seek(key)
	var bk, bv []byte
	switch {
	case k != nil && bytes.Equal(k, key):
		bk, bv = k, v
		if nk, _ := c.Next(); nk != nil {
			d.upper = bytes.Clone(nk)
		}
	case k == nil:
		bk, bv = c.Last()
	default:
		d.upper = bytes.Clone(k)
		bk, bv = c.Prev()
	}
	if bk == nil {
		return nil // before every block, or no blocks: a new block
	}
	raw, err := d.w.decompress(bv)
	if err != nil {
		return fmt.Errorf("details block %q: %w", bk, err)
	}
	kvs, err := decodeBlock(raw)
	if err != nil {
		return fmt.Errorf("details block %q: %w", bk, err)
	}
	d.oldKey = bytes.Clone(bk)
	d.kvs = append(d.kvs, kvs...) // alias raw, which is not reused
	for _, x := range kvs {
		d.size += blockSize(x)
	}
	return nil
}

// flush writes the loaded block back, split into blocks of about the
// target size.
func (d *detWriter) flush() error {
	if !d.loaded {
		return nil
	}
	bk := d.w.tx.Bucket(bucketDet)
	if d.oldKey != nil && (len(d.kvs) == 0 || !bytes.Equal(d.oldKey, d.kvs[0].k)) {
		if err := bk.Delete(d.oldKey); err != nil {
			return err
		}
	}
	for start := 0; start < len(d.kvs); {
		end, size := start, 0
		for end < len(d.kvs) && (end == start || size+blockSize(d.kvs[end]) <= detBlockTarget) {
			size += blockSize(d.kvs[end])
			end++
		}
		enc := d.w.b.encDet
		if err := d.w.q.put(bucketDet, bytes.Clone(d.kvs[start].k), encodeBlock(nil, d.kvs[start:end]), func(raw []byte) []byte { return compressValue(enc, raw) }); err != nil {
			return err
		}
		start = end
	}
	d.loaded, d.oldKey, d.kvs, d.size = false, nil, nil, 0
	return nil
}
