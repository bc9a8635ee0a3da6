package vulndb

import "bytes"

// groupReader runs the merge of the op runs on its own goroutine and hands
// the writer batches of groups (the ops of one key, or of one package key),
// so that merging and applying to the file run at the same time: each was
// about half of Commit's serial work.
type groupReader struct {
	out  chan *groupBatch
	free chan *groupBatch
	stop chan struct{}
	done chan struct{}
	cur  *groupBatch
	i    int
}

// groupBatch holds groups copied out of the merge sources into its own
// memory, valid until the writer moves to the next batch.
type groupBatch struct {
	groups []opGroup
	ops    []op
	arena  []byte
	spans  []span
	err    error
}

type opGroup struct {
	tag      byte
	key      []byte
	from, to int // the group's ops: ops[from:to]
}

// Batch limits: big enough that handing over a batch costs nothing next
// to filling it, small enough that three of them are a few MiB.
const (
	groupBatchBytes  = 1 << 20
	groupBatchGroups = 4096
	groupBatches     = 3
)

func newGroupReader(it *mergeIter) *groupReader {
	g := &groupReader{
		out:  make(chan *groupBatch, 1),
		free: make(chan *groupBatch, groupBatches),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range groupBatches {
		g.free <- &groupBatch{}
	}
	go g.produce(it)
	return g
}

func (g *groupReader) produce(it *mergeIter) {
	defer close(g.done)
	defer close(g.out)
	var peek *op
	for {
		var b *groupBatch
		select {
		case b = <-g.free:
		case <-g.stop:
			return
		}
		b.groups, b.ops, b.arena, b.spans, b.err = b.groups[:0], b.ops[:0], b.arena[:0], b.spans[:0], nil
		last := false
		for !last && len(b.arena) < groupBatchBytes && len(b.groups) < groupBatchGroups {
			var err error
			if peek == nil {
				if peek, err = it.next(); err != nil || peek == nil {
					b.err, last = err, true
					break
				}
			}
			tag := peek.tag
			key := bytes.Clone(groupKey(peek))
			from := len(b.ops)
			for peek != nil && peek.tag == tag && bytes.Equal(groupKey(peek), key) {
				sp := span{ko: len(b.arena), kl: len(peek.key)}
				b.arena = append(b.arena, peek.key...)
				sp.vo, sp.vl = len(b.arena), len(peek.val)
				b.arena = append(b.arena, peek.val...)
				b.spans = append(b.spans, sp)
				b.ops = append(b.ops, op{tag: tag, seq: peek.seq, del: peek.del})
				if peek, err = it.next(); err != nil {
					b.err, last = err, true
					break
				}
			}
			if b.err == nil {
				b.groups = append(b.groups, opGroup{tag: tag, key: key, from: from, to: len(b.ops)})
			}
		}
		for i, sp := range b.spans {
			b.ops[i].key = b.arena[sp.ko : sp.ko+sp.kl : sp.ko+sp.kl]
			b.ops[i].val = b.arena[sp.vo : sp.vo+sp.vl : sp.vo+sp.vl]
		}
		if len(b.groups) > 0 || b.err != nil {
			select {
			case g.out <- b:
			case <-g.stop:
				return
			}
		}
		if last {
			return
		}
	}
}

// next returns the next group; ops is nil at the end. The key is the
// caller's to keep; ops and their bytes are valid until the next call.
func (g *groupReader) next() (tag byte, key []byte, ops []op, err error) {
	for g.cur == nil || g.i == len(g.cur.groups) {
		if g.cur != nil {
			g.free <- g.cur
			g.cur = nil
		}
		b, ok := <-g.out
		if !ok {
			return 0, nil, nil, nil
		}
		if b.err != nil {
			return 0, nil, nil, b.err
		}
		g.cur, g.i = b, 0
	}
	gr := g.cur.groups[g.i]
	g.i++
	return gr.tag, gr.key, g.cur.ops[gr.from:gr.to:gr.to], nil
}

// close stops the reader and waits for its goroutine, which reads the
// merge sources: they may be closed after it returns.
func (g *groupReader) close() {
	close(g.stop)
	<-g.done
}
