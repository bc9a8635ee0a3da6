package vulndb

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Details are stored in blocks: each det value holds the details records
// of a run of consecutive keys (about detBlockTarget bytes before
// compression), stored under the first key of the run. Compressing many
// records together costs far less per record than compressing each alone
// and finds the redundancy between them (reference URLs, boilerplate).
// Details are read only for findings, so decompressing a block per read is
// cheap enough.

const (
	detBlockVersion = 1
	detBlockTarget  = 64 << 10
)

type kv struct{ k, v []byte }

func encodeBlock(dst []byte, kvs []kv) []byte {
	e := encoder{b: dst}
	e.byte1(detBlockVersion)
	e.uvarint(uint64(len(kvs)))
	for _, x := range kvs {
		e.uvarint(uint64(len(x.k)))
		e.b = append(e.b, x.k...)
		e.uvarint(uint64(len(x.v)))
		e.b = append(e.b, x.v...)
	}
	return e.b
}

// decodeBlock returns the records of a raw block; the slices alias b.
func decodeBlock(b []byte) ([]kv, error) {
	d := decoder{b: b}
	if v := d.byte1(); d.err == nil && v != detBlockVersion {
		return nil, fmt.Errorf("%w: details block version %d", ErrCorrupt, v)
	}
	n := d.count()
	out := make([]kv, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.bytes()
		v := d.bytes()
		if d.err == nil && len(out) > 0 && bytes.Compare(out[len(out)-1].k, k) >= 0 {
			d.fail(fmt.Errorf("block keys out of order at %q", k))
		}
		out = append(out, kv{k, v})
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("length %d out of range", n))
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

// blockSize is the raw size one record adds to a block.
func blockSize(x kv) int { return len(x.k) + len(x.v) + 6 }

// scanDetails calls fn for every details record whose key starts with
// prefix, in key order.
func scanDetails(tx *bolt.Tx, dec decompressor, prefix []byte, fn func(k, v []byte) error) error {
	c := tx.Bucket(bucketDet).Cursor()
	k, v := c.Seek(prefix)
	// The records from prefix on may begin in the block before the one
	// whose first key is at or after prefix.
	if k == nil {
		k, v = c.Last()
	} else if !bytes.Equal(k, prefix) {
		if pk, pv := c.Prev(); pk != nil {
			k, v = pk, pv
		} else {
			k, v = c.First()
		}
	}
	for ; k != nil; k, v = c.Next() {
		if bytes.Compare(k, prefix) > 0 && !bytes.HasPrefix(k, prefix) {
			return nil
		}
		raw, err := dec(v)
		if err != nil {
			return fmt.Errorf("details block %q: %w", k, err)
		}
		kvs, err := decodeBlock(raw)
		if err != nil {
			return fmt.Errorf("details block %q: %w", k, err)
		}
		for _, x := range kvs {
			if bytes.HasPrefix(x.k, prefix) {
				if err := fn(x.k, x.v); err != nil {
					return err
				}
			} else if bytes.Compare(x.k, prefix) > 0 {
				return nil
			}
		}
	}
	return nil
}

type decompressor func(v []byte) ([]byte, error)
