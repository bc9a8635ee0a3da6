package vulndb

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// PrefetchMode says how far Prefetch goes.
type PrefetchMode int

const (
	// PrefetchRead reads the package index into the page cache. Lookups
	// then take a minor page fault (about a microsecond) for each page of
	// the index they touch first, and the process maps only those pages:
	// what a scan, which looks up a few hundred packages, wants.
	PrefetchRead PrefetchMode = iota
	// PrefetchMap also maps every page of the index into the process, so
	// that no lookup takes a page fault; the index (about 125 MB for
	// 500,000 records) then counts in the process's resident set. For a
	// process that looks up many packages for a long time.
	PrefetchMap
)

// Prefetch reads the package index into the page cache, so that lookups
// do not wait for the disk one page at a time: in a file nobody read
// lately a lookup otherwise costs a random read. A scan runs it in the
// background while it reads the image. It returns when done, or when ctx
// is canceled.
//
// It finds the pages of the package bucket by reading its branch pages
// (bbolt's page layout: a 16-byte header of ID, flags, count and overflow,
// then 16-byte branch elements of position, key size and child page ID),
// sorts the leaf pages and reads them in file order, large runs at a time:
// about the disk's sequential speed instead of a seek a page. With
// PrefetchMap, or when the file could not be read that way, it then walks
// the bucket with a cursor, touching every page, which maps the pages into
// the process (and reads any the first step missed).
func (db *DB) Prefetch(ctx context.Context, mode PrefetchMode) error {
	var root uint64
	var pageSize int
	err := safeView(db.bolt, func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket(bucketPkg).Root())
		pageSize = db.bolt.Info().PageSize
		return nil
	})
	if err != nil {
		return fmt.Errorf("vulndb: prefetch %s: %w", db.path, err)
	}
	read := false
	if db.file != nil && root != 0 {
		_, err := prefetchPages(ctx, db.file, root, pageSize)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		read = err == nil
	}
	if read && mode == PrefetchRead {
		return nil
	}
	return db.prefetchCursor(ctx, pageSize)
}

// prefetchCursor touches every page of every key and value of the package
// bucket, in key order.
func (db *DB) prefetchCursor(ctx context.Context, pageSize int) error {
	var sink byte
	err := safeView(db.bolt, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPkg).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			// A value need not start on a page boundary: its last byte
			// may lie one page past the strided touches.
			for i := 0; i < len(v); i += pageSize {
				sink ^= v[i]
			}
			if len(v) > 0 {
				sink ^= v[len(v)-1]
			}
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	_ = sink
	if err != nil {
		return fmt.Errorf("vulndb: prefetch %s: %w", db.path, err)
	}
	return nil
}

// bbolt page layout.
const (
	pageHeaderSize    = 16
	branchElementSize = 16
	branchPageFlag    = 0x01
	leafPageFlag      = 0x02
	// prefetchGap is the largest run of pages between two leaves that is
	// read rather than skipped: they are mostly the first leaf's overflow
	// pages (a value larger than a page continues in the pages after it).
	prefetchGap = 64
	// prefetchChunk is the size of one read.
	prefetchChunk = 1 << 20
)

// prefetchPages walks the branch pages under root, then reads the leaf
// pages in file order. It returns how many leaf pages it found.
func prefetchPages(ctx context.Context, f *os.File, root uint64, pageSize int) (int, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if pageSize < 512 || st.Size() < int64(pageSize) {
		return 0, fmt.Errorf("page size %d, file size %d", pageSize, st.Size())
	}
	npages := uint64(st.Size()) / uint64(pageSize)
	page := make([]byte, pageSize)
	var leaves []uint64
	seen := map[uint64]bool{}
	queue := []uint64{root}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		id := queue[0]
		queue = queue[1:]
		if id >= npages || seen[id] {
			return 0, fmt.Errorf("%w: page %d out of range or reached twice", ErrCorrupt, id)
		}
		seen[id] = true
		if _, err := f.ReadAt(page, int64(id)*int64(pageSize)); err != nil {
			return 0, err
		}
		ne := binary.NativeEndian
		flags, count, overflow := ne.Uint16(page[8:]), int(ne.Uint16(page[10:])), ne.Uint32(page[12:])
		if ne.Uint64(page) != id {
			return 0, fmt.Errorf("%w: page %d names itself %d", ErrCorrupt, id, ne.Uint64(page))
		}
		switch flags {
		case leafPageFlag:
			leaves = append(leaves, id)
		case branchPageFlag:
			body := page
			if overflow > 0 {
				if uint64(overflow) >= npages-id {
					return 0, fmt.Errorf("%w: branch page %d overflows the file", ErrCorrupt, id)
				}
				body = make([]byte, (int(overflow)+1)*pageSize)
				if _, err := f.ReadAt(body, int64(id)*int64(pageSize)); err != nil {
					return 0, err
				}
			}
			if pageHeaderSize+count*branchElementSize > len(body) {
				return 0, fmt.Errorf("%w: branch page %d holds %d elements", ErrCorrupt, id, count)
			}
			for i := range count {
				queue = append(queue, ne.Uint64(body[pageHeaderSize+i*branchElementSize+8:]))
			}
		default:
			return 0, fmt.Errorf("%w: page %d of the package index has flags %#x", ErrCorrupt, id, flags)
		}
	}
	slices.Sort(leaves)
	buf := make([]byte, prefetchChunk)
	for i := 0; i < len(leaves); {
		// A run of leaves whose gaps are small enough to read through.
		j := i + 1
		for j < len(leaves) && leaves[j]-leaves[j-1] <= prefetchGap {
			j++
		}
		start := int64(leaves[i]) * int64(pageSize)
		end := min(int64(leaves[j-1]+1)*int64(pageSize), st.Size())
		for off := start; off < end; off += prefetchChunk {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			n := min(int64(prefetchChunk), end-off)
			if _, err := f.ReadAt(buf[:n], off); err != nil {
				return 0, err
			}
		}
		i = j
	}
	return len(leaves), nil
}
