package vulndb

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// A Builder does not write changes into the bbolt file as they come: random
// inserts into a B+tree that grows to hundreds of megabytes are slow and a
// single transaction would hold every dirty page in memory. Instead every
// change becomes an op (bucket tag, key, sequence number, put or delete,
// value), ops are buffered and, past a memory limit, sorted and spilled to a
// run file; Commit merges the runs and applies the ops to the file in key
// order, bucket by bucket, in bounded transactions. Sequence numbers order
// ops on the same key: the last one wins.

// Op tags, in the order Commit applies them.
const (
	tagDet byte = 'D'
	tagPkg byte = 'P'
	tagRec byte = 'R'
)

type op struct {
	tag byte
	key []byte
	seq uint64
	del bool
	val []byte
}

func compareOps(a, b *op) int {
	if a.tag != b.tag {
		return int(a.tag) - int(b.tag)
	}
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

// opRef locates an op in the arena: key and value are consecutive in one
// chunk.
type opRef struct {
	key, val []byte
	seq      uint64
	tag      byte
	del      bool
}

// opBuffer holds ops in an arena of fixed-size chunks, so that growing it
// never copies what is already there.
type opBuffer struct {
	chunks [][]byte
	used   int // bytes in all chunks
	refs   []opRef
}

const chunkSize = 4 << 20

func (b *opBuffer) add(tag byte, key []byte, seq uint64, del bool, val []byte) {
	n := len(key) + len(val)
	var c []byte
	if len(b.chunks) > 0 {
		c = b.chunks[len(b.chunks)-1]
	}
	if cap(c)-len(c) < n {
		// Reuse the next chunk of an earlier fill when it is big enough.
		c = nil
		if k := len(b.chunks); k < cap(b.chunks) {
			if old := b.chunks[:k+1][k]; cap(old) >= n {
				c = old[:0]
			}
		}
		if c == nil {
			c = make([]byte, 0, max(chunkSize, n))
		}
		b.chunks = append(b.chunks, c)
	}
	start := len(c)
	c = append(c, key...)
	c = append(c, val...)
	b.chunks[len(b.chunks)-1] = c
	b.used += n
	b.refs = append(b.refs, opRef{tag: tag, seq: seq, del: del, key: c[start : start+len(key) : start+len(key)], val: c[start+len(key) : start+n : start+n]})
}

func (b *opBuffer) size() int { return b.used + len(b.refs)*64 }

func (b *opBuffer) get(i int) op {
	r := &b.refs[i]
	return op{tag: r.tag, key: r.key, seq: r.seq, del: r.del, val: r.val}
}

func (b *opBuffer) sort() {
	slices.SortFunc(b.refs, func(x, y opRef) int {
		if x.tag != y.tag {
			return int(x.tag) - int(y.tag)
		}
		if c := bytes.Compare(x.key, y.key); c != 0 {
			return c
		}
		switch {
		case x.seq < y.seq:
			return -1
		case x.seq > y.seq:
			return 1
		}
		return 0
	})
}

// reset empties the buffer and keeps its memory for the next fill.
func (b *opBuffer) reset() {
	b.chunks = b.chunks[:0]
	b.used = 0
	clear(b.refs)
	b.refs = b.refs[:0]
}

// writeRun writes the sorted buffer to f.
func (b *opBuffer) writeRun(f *os.File) error {
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr []byte
	for i := range b.refs {
		o := b.get(i)
		hdr = hdr[:0]
		hdr = append(hdr, o.tag)
		hdr = binary.AppendUvarint(hdr, uint64(len(o.key)))
		hdr = append(hdr, o.key...)
		hdr = binary.BigEndian.AppendUint64(hdr, o.seq)
		if o.del {
			hdr = append(hdr, 1)
		} else {
			hdr = append(hdr, 0)
		}
		hdr = binary.AppendUvarint(hdr, uint64(len(o.val)))
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		if _, err := w.Write(o.val); err != nil {
			return err
		}
	}
	return w.Flush()
}

// opSource yields ops in sorted order.
type opSource interface {
	// next advances; it returns false at the end or on error (see err).
	next() bool
	cur() *op
	err() error
}

// memSource iterates a sorted opBuffer.
type memSource struct {
	b *opBuffer
	i int
	o op
}

func (m *memSource) next() bool {
	if m.i >= len(m.b.refs) {
		return false
	}
	m.o = m.b.get(m.i)
	m.i++
	return true
}
func (m *memSource) cur() *op   { return &m.o }
func (m *memSource) err() error { return nil }

// runSource reads a run file written by writeRun. The key and value of the
// current op are valid until the next call to next.
type runSource struct {
	name string
	f    *os.File
	r    *bufio.Reader
	o    op
	kbuf []byte
	vbuf []byte
	e    error
}

func openRun(name string) (*runSource, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &runSource{name: name, f: f, r: bufio.NewReaderSize(f, 64<<10)}, nil
}

func (s *runSource) next() bool {
	if s.e != nil {
		return false
	}
	tag, err := s.r.ReadByte()
	if err == io.EOF {
		return false
	}
	if err != nil {
		s.e = err
		return false
	}
	fail := func(err error) bool {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		s.e = fmt.Errorf("read run file %s: %w", s.name, err)
		return false
	}
	kl, err := binary.ReadUvarint(s.r)
	if err != nil {
		return fail(err)
	}
	if kl > maxStringLen {
		return fail(fmt.Errorf("key length %d", kl))
	}
	s.kbuf = slices.Grow(s.kbuf[:0], int(kl))[:kl]
	if _, err := io.ReadFull(s.r, s.kbuf); err != nil {
		return fail(err)
	}
	var tail [9]byte
	if _, err := io.ReadFull(s.r, tail[:]); err != nil {
		return fail(err)
	}
	vl, err := binary.ReadUvarint(s.r)
	if err != nil {
		return fail(err)
	}
	if vl > maxValueSize {
		return fail(fmt.Errorf("value length %d", vl))
	}
	s.vbuf = slices.Grow(s.vbuf[:0], int(vl))[:vl]
	if _, err := io.ReadFull(s.r, s.vbuf); err != nil {
		return fail(err)
	}
	s.o = op{tag: tag, key: s.kbuf, seq: binary.BigEndian.Uint64(tail[:8]), del: tail[8] == 1, val: s.vbuf}
	return true
}

func (s *runSource) cur() *op   { return &s.o }
func (s *runSource) err() error { return s.e }
func (s *runSource) close()     { s.f.Close() }

// merger merges sorted sources. The op returned by next is valid until the
// following call.
type merger struct {
	h mergeHeap
}

type mergeHeap []opSource

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return compareOps(h[i].cur(), h[j].cur()) < 0 }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(opSource)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newMerger(srcs []opSource) (*merger, error) {
	m := &merger{}
	for _, s := range srcs {
		if s.next() {
			m.h = append(m.h, s)
		} else if err := s.err(); err != nil {
			return nil, err
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// pending is the source whose current op was handed out last; it is
// advanced on the following call so that the op stays valid meanwhile.
type mergeIter struct {
	m       *merger
	pending opSource
	o       op
}

func (it *mergeIter) next() (*op, error) {
	if p := it.pending; p != nil {
		it.pending = nil
		if p.next() {
			heap.Push(&it.m.h, p)
		} else if err := p.err(); err != nil {
			return nil, err
		}
	}
	if it.m.h.Len() == 0 {
		return nil, nil
	}
	s := heap.Pop(&it.m.h).(opSource)
	it.pending = s
	it.o = *s.cur()
	return &it.o, nil
}
