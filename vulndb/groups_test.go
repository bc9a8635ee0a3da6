package vulndb

import (
	"errors"
	"fmt"
	"testing"
)

// failSource yields n ops and then fails.
type failSource struct {
	n, i int
	o    op
}

func (f *failSource) next() bool {
	if f.i >= f.n {
		return false
	}
	f.o = op{tag: tagRec, key: []byte(fmt.Sprintf("z%08d", f.i)), seq: uint64(f.i)}
	f.i++
	return true
}
func (f *failSource) cur() *op { return &f.o }
func (f *failSource) err() error {
	if f.i >= f.n {
		return errors.New("run file cut short")
	}
	return nil
}

// TestGroupReader: the groups come out in key order with all their ops,
// across many batches; a source's error reaches the writer; closing the
// reader early does not hang.
func TestGroupReader(t *testing.T) {
	var buf opBuffer
	const keys = 20000
	for i := range keys {
		k := []byte(fmt.Sprintf("k%06d", i))
		val := make([]byte, 100+i%300)
		buf.add(tagDet, k, uint64(2*i), false, val)
		if i%3 == 0 {
			buf.add(tagDet, k, uint64(2*i+1), true, nil)
		}
	}
	buf.sort()
	m, err := newMerger([]opSource{&memSource{b: &buf}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGroupReader(&mergeIter{m: m})
	n := 0
	for {
		tag, key, ops, err := g.next()
		if err != nil {
			t.Fatal(err)
		}
		if ops == nil {
			break
		}
		want := fmt.Sprintf("k%06d", n)
		if tag != tagDet || string(key) != want {
			t.Fatalf("group %d: tag %q key %q, want %q", n, tag, key, want)
		}
		wantOps := 1
		if n%3 == 0 {
			wantOps = 2
		}
		if len(ops) != wantOps || string(ops[0].key) != want || len(ops[0].val) != 100+n%300 || ops[len(ops)-1].del != (n%3 == 0) {
			t.Fatalf("group %d: %d ops, first %q (%d bytes)", n, len(ops), ops[0].key, len(ops[0].val))
		}
		n++
	}
	g.close()
	if n != keys {
		t.Fatalf("%d groups, want %d", n, keys)
	}

	m, err = newMerger([]opSource{&failSource{n: 10000}})
	if err != nil {
		t.Fatal(err)
	}
	g = newGroupReader(&mergeIter{m: m})
	for {
		_, _, ops, err := g.next()
		if err != nil {
			break
		}
		if ops == nil {
			t.Fatal("the source's error was lost")
		}
	}
	g.close()

	// Closed after one group: the producer is blocked on a full channel.
	m, err = newMerger([]opSource{&failSource{n: 100000}})
	if err != nil {
		t.Fatal(err)
	}
	g = newGroupReader(&mergeIter{m: m})
	if _, _, ops, err := g.next(); err != nil || ops == nil {
		t.Fatalf("first group: %v, %v", ops, err)
	}
	g.close()
}
