package vulndb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

// Doc is one advisory document as a source states it: an OSV record, or
// everything the Debian tracker or one Alpine secdb file says about one CVE.
type Doc struct {
	// Source is SourceOSV, SourceDebianTracker or SourceAlpineSecdb.
	Source string
	// Scope partitions a source whose feed comes in parts, so that a part
	// that failed to download keeps its documents ("v3.20/main" for Alpine
	// secdb). Empty for OSV and the Debian tracker.
	Scope string
	ID    string
	// Feed names the feed the document came from ("osv/PyPI",
	// "debian-tracker"); Meta.Feeds counts documents per feed.
	Feed     string
	Modified time.Time
	// Withdrawn documents keep their details but state nothing: their
	// entries are removed from the package index.
	Withdrawn bool
	Affected  []Affected
	// Details are what a finding shows; KEV and EPSS are ignored (they live
	// in their own tables). Nil stores an empty record.
	Details *Details
}

// Outcome says what Builder.Put did with a document.
type Outcome int

// Outcomes of Put.
const (
	Unchanged Outcome = iota // same content as stored
	Added                    // new document (a new withdrawn one too: its details are kept)
	Updated                  // replaced a stored document
	Removed                  // withdrawn: its stored entries were removed
)

func (o Outcome) String() string {
	return [...]string{"unchanged", "added", "updated", "removed"}[o]
}

// BuildOptions configure a Builder.
type BuildOptions struct {
	// Base is an existing database the new file starts as a copy of; empty
	// (or a missing file) starts from nothing.
	Base string
	// MemoryLimit caps the bytes of pending changes held in memory before
	// they are spilled to a temporary run file (default 16 MiB).
	MemoryLimit int
	// Now is the clock for Meta.Built (default time.Now).
	Now func() time.Time
	// PageSize of a new file (default 4 KiB).
	PageSize int
}

// Builder writes a new database file from documents. It writes to a
// temporary file beside the destination and Commit renames it into place,
// so readers of the old file are never disturbed and a failed or abandoned
// build leaves the old file as it was. Put, Delete and the other methods are
// safe for concurrent use; Commit and Abort end the Builder.
type Builder struct {
	path string
	tmp  string
	opts BuildOptions

	bdb *bolt.DB
	rtx *bolt.Tx
	// fresh: the file started empty, so Commit, which meets each key once,
	// finds nothing stored under any key and need not look.
	fresh bool
	meta  Meta // base metadata, updated at Commit
	names *nameTable

	encDet *zstd.Encoder // details blocks
	dec    *zstd.Decoder

	mu   sync.Mutex
	seq  uint64
	seen map[uint64]uint64 // hash of record key -> content hash last put (0: deleted)
	dups map[string]uint64 // record key -> seq of its last version, for keys touched twice
	buf  opBuffer
	runs []string
	// spilling receives the result of the spill in flight (nil: none),
	// with its buffer, emptied, for the next spill: the two buffers take
	// turns, so the builder does not allocate (and zero) a fresh 16 MiB of
	// chunks for each spill.
	spilling chan spillDone
	spare    opBuffer
	kev      []KEV
	kevSet   bool
	epss     []EPSS
	epssSet  bool
	epssDay  time.Time
	feeds    map[string]FeedState
	done     bool
}

// NewBuilder starts a build of the database at path.
func NewBuilder(path string, opts BuildOptions) (*Builder, error) {
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = 16 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 4 << 10
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("vulndb: create directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("vulndb: create temporary file in %s: %w", dir, err)
	}
	b := &Builder{path: path, tmp: f.Name(), opts: opts, seen: map[uint64]uint64{}, dups: map[string]uint64{}, feeds: map[string]FeedState{}}
	fresh := true
	if opts.Base != "" {
		// Validate the base read-only first (schema, buckets, a file cut
		// short): opening a damaged file for writing can fault inside
		// bbolt before any check of ours runs.
		if db, err := Open(opts.Base); err == nil {
			db.Close()
		} else if !errors.Is(err, fs.ErrNotExist) {
			f.Close()
			os.Remove(b.tmp)
			return nil, fmt.Errorf("vulndb: base %s: %w", opts.Base, err)
		}
		src, err := os.Open(opts.Base)
		switch {
		case err == nil:
			_, err = io.Copy(f, src)
			src.Close()
			if err != nil {
				f.Close()
				os.Remove(b.tmp)
				return nil, fmt.Errorf("vulndb: copy %s: %w", opts.Base, err)
			}
			fresh = false
		case !errors.Is(err, os.ErrNotExist):
			f.Close()
			os.Remove(b.tmp)
			return nil, fmt.Errorf("vulndb: open base %s: %w", opts.Base, err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(b.tmp)
		return nil, fmt.Errorf("vulndb: write %s: %w", b.tmp, err)
	}
	b.fresh = fresh
	if err := b.open(fresh); err != nil {
		b.Abort()
		return nil, err
	}
	return b, nil
}

func (b *Builder) open(fresh bool) error {
	// The freelist is written with each commit: the next update then reads
	// one page instead of scanning the whole file to rebuild it.
	bo := &bolt.Options{
		Timeout:         10 * time.Second,
		NoSync:          true,
		NoGrowSync:      true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
	}
	if fresh {
		bo.PageSize = b.opts.PageSize
	}
	bdb, err := bolt.Open(b.tmp, 0o644, bo)
	if err != nil {
		return fmt.Errorf("vulndb: open %s: %w", b.tmp, err)
	}
	b.bdb = bdb
	if fresh {
		b.meta = Meta{Schema: SchemaVersion}
		b.names = newNameTable()
		err = bdb.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketMeta, bucketPkg, bucketRec, bucketDet, bucketKEV, bucketEPSS} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("vulndb: initialise %s: %w", b.tmp, err)
		}
	} else {
		err = safeView(bdb, func(tx *bolt.Tx) error {
			mb := tx.Bucket(bucketMeta)
			if mb == nil || mb.Get(keyMeta) == nil {
				return fmt.Errorf("%w: no metadata", ErrCorrupt)
			}
			if err := json.Unmarshal(mb.Get(keyMeta), &b.meta); err != nil {
				return fmt.Errorf("%w: metadata: %v", ErrCorrupt, err)
			}
			if b.meta.Schema != SchemaVersion {
				return fmt.Errorf("%w: base has schema %d, want %d", ErrSchema, b.meta.Schema, SchemaVersion)
			}
			for _, name := range [][]byte{bucketPkg, bucketRec, bucketDet, bucketKEV, bucketEPSS} {
				if tx.Bucket(name) == nil {
					return fmt.Errorf("%w: no %s bucket", ErrCorrupt, name)
				}
			}
			var err error
			b.names, err = loadNames(mb)
			return err
		})
		if err != nil {
			return fmt.Errorf("vulndb: base %s: %w", b.opts.Base, err)
		}
	}
	// Details blocks are compressed at zstd's fastest level. On 64 KiB
	// blocks of advisory text the default level was 22% slower (130 against
	// 166 MB/s on the benchmark's blocks) for 4.5% less output, and a full
	// build compresses about 500 MB of them.
	level := zstd.SpeedFastest
	b.encDet, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(max(1, runtime.GOMAXPROCS(0))), zstd.WithWindowSize(256<<10))
	if err != nil {
		return fmt.Errorf("vulndb: zstd: %w", err)
	}
	b.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxValueSize))
	if err != nil {
		return fmt.Errorf("vulndb: zstd: %w", err)
	}
	b.rtx, err = bdb.Begin(false)
	if err != nil {
		return fmt.Errorf("vulndb: read %s: %w", b.tmp, err)
	}
	if b.meta.Feeds == nil {
		b.meta.Feeds = map[string]FeedState{}
	}
	if b.meta.Ecosystems == nil {
		b.meta.Ecosystems = map[string]int{}
	}
	return nil
}

func recKey(source, scope, id string) []byte {
	k := make([]byte, 0, len(source)+len(scope)+len(id)+2)
	k = append(k, source...)
	k = append(k, 0)
	k = append(k, scope...)
	k = append(k, 0)
	return append(k, id...)
}

func detKey(source, scope, id string) []byte {
	k := make([]byte, 0, len(source)+len(scope)+len(id)+2)
	k = append(k, id...)
	k = append(k, 0)
	k = append(k, source...)
	k = append(k, 0)
	return append(k, scope...)
}

func hash64(key []byte) uint64 { return xxhash.Sum64(key) }

// prepared is a document encoded for the file.
type prepared struct {
	rk      []byte
	dk      []byte
	pkgs    []pkgPart
	det     []byte // encoded details
	rec     record
	content uint64
}

type pkgPart struct {
	key []byte
	val []byte // encodeEntries of the document's entries under key
}

func (b *Builder) prepare(doc *Doc) (*prepared, error) {
	if doc.Source == "" || doc.ID == "" {
		return nil, fmt.Errorf("vulndb: document without source or ID (%q, %q)", doc.Source, doc.ID)
	}
	if strings.IndexByte(doc.ID, 0) >= 0 || strings.IndexByte(doc.Source, 0) >= 0 || strings.IndexByte(doc.Scope, 0) >= 0 {
		return nil, fmt.Errorf("vulndb: document %q: NUL byte in source, scope or ID", doc.ID)
	}
	p := &prepared{rk: recKey(doc.Source, doc.Scope, doc.ID), dk: detKey(doc.Source, doc.Scope, doc.ID)}
	// The content hash is compared with the one stored by earlier builds;
	// a change of hash function only costs one rewrite of every document.
	h := xxhash.New()
	h.Write(p.rk)
	h.Write([]byte{0})
	h.WriteString(doc.Feed)
	if !doc.Withdrawn {
		type group struct {
			eco, name string
			es        []entry
		}
		groups := map[string]*group{}
		for i := range doc.Affected {
			a := doc.Affected[i]
			if a.Ecosystem == "" || a.Package == "" {
				return nil, fmt.Errorf("vulndb: document %s: affected[%d] has no ecosystem or package", doc.ID, i)
			}
			if hasControl(a.Ecosystem) || hasControl(a.Package) {
				return nil, fmt.Errorf("vulndb: document %s: affected[%d]: control character in ecosystem or package %q", doc.ID, i, a.Package)
			}
			a.ID, a.Source, a.Withdrawn = doc.ID, doc.Source, false
			name := NormalizeName(a.Ecosystem, a.Package)
			eco, err := b.names.id(a.Ecosystem)
			if err != nil {
				return nil, err
			}
			k := string(pkgKey(eco, name))
			g := groups[k]
			if g == nil {
				g = &group{eco: a.Ecosystem, name: name}
				groups[k] = g
				if !slices.Contains(p.rec.Ecos, eco) {
					p.rec.Ecos = append(p.rec.Ecos, eco)
				}
			}
			g.es = append(g.es, entry{Scope: doc.Scope, A: a})
		}
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Sort(p.rec.Ecos)
		for _, k := range keys {
			g := groups[k]
			val := encodeEntries(nil, g.name, g.es)
			p.pkgs = append(p.pkgs, pkgPart{key: []byte(k), val: val})
			p.rec.PkgKeys = append(p.rec.PkgKeys, k)
			// The hash names the ecosystem, not its ID in this file.
			h.WriteString(g.eco)
			h.Write([]byte{0})
			h.WriteString(g.name)
			h.Write(val)
		}
	}
	d := Details{}
	if doc.Details != nil {
		d = *doc.Details
	}
	d.KEV, d.EPSS, d.Sources = nil, nil, nil
	if doc.Withdrawn && d.Withdrawn.IsZero() {
		d.Withdrawn = doc.Modified
		if d.Withdrawn.IsZero() {
			d.Withdrawn = time.Unix(0, 0).UTC()
		}
	}
	raw := encodeDetails(nil, &d)
	h.Write(raw)
	p.content = h.Sum64()
	p.rec.Hash = p.content
	feed, err := b.names.id(doc.Feed)
	if err != nil {
		return nil, err
	}
	p.rec.Feed = feed
	p.det = raw
	return p, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// compressValue returns the tagged value: zstd when that is smaller.
func compressValue(enc *zstd.Encoder, raw []byte) []byte {
	if len(raw) >= 48 {
		out := make([]byte, 1, len(raw)/2+16)
		out[0] = valZstd
		out = enc.EncodeAll(raw, out)
		if len(out) < len(raw)+1 {
			return out
		}
	}
	out := make([]byte, 0, len(raw)+1)
	out = append(out, valRaw)
	return append(out, raw...)
}

func (b *Builder) baseRecord(rk []byte) (*record, error) {
	if b.fresh {
		return nil, nil // nothing stored yet
	}
	v := b.rtx.Bucket(bucketRec).Get(rk)
	if v == nil {
		return nil, nil
	}
	return decodeRecord(v)
}

// Put stores a document, replacing the stored one with the same source,
// scope and ID. A document whose content equals the stored one costs no
// write.
func (b *Builder) Put(doc *Doc) (Outcome, error) {
	p, err := b.prepare(doc)
	if err != nil {
		return Unchanged, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return Unchanged, errors.New("vulndb: Put after Commit or Abort")
	}
	base, err := b.baseRecord(p.rk)
	if err != nil {
		return Unchanged, fmt.Errorf("vulndb: stored index of %s: %w", doc.ID, err)
	}
	kh := hash64(p.rk)
	prev, seenBefore := b.seen[kh]
	if seenBefore && prev == p.content || !seenBefore && base != nil && base.Hash == p.content {
		b.seen[kh] = p.content
		return Unchanged, nil
	}
	b.seq++
	seq := b.seq
	if seenBefore {
		b.dups[string(p.rk)] = seq
	}
	b.seen[kh] = p.content
	if base != nil {
		for _, k := range base.PkgKeys {
			b.buf.add(tagPkg, pkgOpKey(k, p.rk), seq, true, nil)
		}
	}
	for _, part := range p.pkgs {
		b.buf.add(tagPkg, pkgOpKey(string(part.key), p.rk), seq, false, part.val)
	}
	b.buf.add(tagRec, p.rk, seq, false, encodeRecord(nil, &p.rec))
	b.buf.add(tagDet, p.dk, seq, false, p.det)
	if err := b.maybeSpill(); err != nil {
		return Unchanged, err
	}
	switch {
	case doc.Withdrawn && (base != nil && len(base.PkgKeys) > 0 || seenBefore):
		return Removed, nil
	case base != nil || seenBefore:
		return Updated, nil
	}
	return Added, nil
}

// pkgOpKey is the sort key of a package op: the package key, a NUL, then
// the record key, so that all changes to one package come together. Names
// hold no NUL; the package key's first two bytes (the ecosystem ID) may.
func pkgOpKey(pk string, rk []byte) []byte {
	k := make([]byte, 0, len(pk)+1+len(rk))
	k = append(k, pk...)
	k = append(k, 0)
	return append(k, rk...)
}

func (b *Builder) maybeSpill() error {
	if b.buf.size() < b.opts.MemoryLimit {
		return nil
	}
	return b.spill()
}

// spill hands the full op buffer to a goroutine that sorts it and writes
// it as a run file, and carries on with an empty one: Put does not wait
// for the sort and the write, so the import workers keep parsing. At most
// one spill is in flight (the next one waits for it), so memory stays
// within two buffers.
func (b *Builder) spill() error {
	if len(b.buf.refs) == 0 {
		return nil
	}
	if err := b.waitSpill(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(b.path), filepath.Base(b.path)+".run-*")
	if err != nil {
		return fmt.Errorf("vulndb: spill changes: %w", err)
	}
	b.runs = append(b.runs, f.Name())
	full := b.buf
	b.buf, b.spare = b.spare, opBuffer{}
	done := make(chan spillDone, 1)
	b.spilling = done
	go func() {
		full.sort()
		err := full.writeRun(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("vulndb: spill changes to %s: %w", f.Name(), err)
		}
		full.reset()
		done <- spillDone{buf: full, err: err}
	}()
	return nil
}

type spillDone struct {
	buf opBuffer
	err error
}

// waitSpill waits for the spill in flight, if any, and returns its error.
func (b *Builder) waitSpill() error {
	if b.spilling == nil {
		return nil
	}
	d := <-b.spilling
	b.spilling = nil
	b.spare = d.buf
	return d.err
}

// Delete removes a stored document. It reports whether there was one.
func (b *Builder) Delete(source, scope, id string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return false, errors.New("vulndb: Delete after Commit or Abort")
	}
	return b.deleteLocked(recKey(source, scope, id), detKey(source, scope, id))
}

func (b *Builder) deleteLocked(rk, dk []byte) (bool, error) {
	base, err := b.baseRecord(rk)
	if err != nil {
		return false, fmt.Errorf("vulndb: stored index of %q: %w", rk, err)
	}
	kh := hash64(rk)
	prev, seenBefore := b.seen[kh]
	if base == nil && (!seenBefore || prev == 0) {
		return false, nil
	}
	b.seq++
	seq := b.seq
	if seenBefore {
		b.dups[string(rk)] = seq
	}
	b.seen[kh] = 0
	if base != nil {
		for _, k := range base.PkgKeys {
			b.buf.add(tagPkg, pkgOpKey(k, rk), seq, true, nil)
		}
	}
	b.buf.add(tagRec, rk, seq, true, nil)
	b.buf.add(tagDet, dk, seq, true, nil)
	return true, b.maybeSpill()
}

// DeleteMissing removes the stored documents of source and scope that were
// not Put in this build: a source that publishes complete snapshots (the
// Debian tracker, one Alpine secdb file) dropped them. It returns how many
// were removed.
func (b *Builder) DeleteMissing(source, scope string) (int, error) {
	return b.deleteWhere(recKey(source, scope, ""), nil)
}

// DeleteFeed removes every stored document of a feed that was not Put in
// this build (a feed no longer selected). It returns how many.
func (b *Builder) DeleteFeed(feed string) (int, error) {
	id, ok := b.names.lookup(feed)
	if !ok {
		return 0, nil
	}
	return b.deleteWhere(nil, func(r *record) bool { return r.Feed == id })
}

func (b *Builder) deleteWhere(prefix []byte, match func(*record) bool) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errors.New("vulndb: delete after Commit or Abort")
	}
	var victims [][]byte
	c := b.rtx.Bucket(bucketRec).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if _, ok := b.seen[hash64(k)]; ok {
			continue
		}
		if match != nil {
			r, err := decodeRecord(v)
			if err != nil {
				return 0, fmt.Errorf("vulndb: stored index of %q: %w", k, err)
			}
			if !match(r) {
				continue
			}
		}
		victims = append(victims, bytes.Clone(k))
	}
	n := 0
	for _, rk := range victims {
		parts := bytes.SplitN(rk, []byte{0}, 3)
		if len(parts) != 3 {
			return n, fmt.Errorf("vulndb: %w: record key %q", ErrCorrupt, rk)
		}
		ok, err := b.deleteLocked(rk, detKey(string(parts[0]), string(parts[1]), string(parts[2])))
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// SetKEV replaces the whole KEV table.
func (b *Builder) SetKEV(entries []KEV) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kev, b.kevSet = entries, true
}

// SetEPSS replaces the whole EPSS table; date is the feed's score date.
func (b *Builder) SetEPSS(entries []EPSS, date time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.epss, b.epssSet, b.epssDay = entries, true, date
}

// SetFeed records the state of a feed in the new file's metadata. Docs is
// computed at Commit and need not be set.
func (b *Builder) SetFeed(name string, st FeedState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.feeds[name] = st
}

// Meta returns the base's metadata (what the previous update recorded).
func (b *Builder) Meta() Meta {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.meta
	m.Feeds = cloneMap(m.Feeds)
	m.Ecosystems = cloneMap(m.Ecosystems)
	return m
}

// Abort discards the build; the destination is left as it was.
func (b *Builder) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	b.cleanup()
	os.Remove(b.tmp)
}

func (b *Builder) cleanup() {
	b.waitSpill()
	if b.rtx != nil {
		b.rtx.Rollback()
		b.rtx = nil
	}
	if b.bdb != nil {
		b.bdb.Close()
		b.bdb = nil
	}
	for _, r := range b.runs {
		os.Remove(r)
	}
	b.runs = nil
	if b.encDet != nil {
		b.encDet.Close()
		b.encDet = nil
	}
	if b.dec != nil {
		b.dec.Close()
		b.dec = nil
	}
}
