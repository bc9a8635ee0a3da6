package vulndb

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// txPool keeps bbolt read transactions open between lookups. The file never
// changes under a DB (scans open it read-only; an update writes a new file
// and renames it), so a read transaction opened once sees what a new one
// would, and a lookup skips Begin and Rollback: an allocation, two locks
// and the statistics bookkeeping, on every one of the thousands of lookups
// of a scan. A transaction serves one goroutine at a time; the pool grows
// to the number of goroutines that look up at once.
type txPool struct {
	mu     sync.Mutex
	idle   []*readTx
	all    []*readTx
	closed bool
}

// readTx is a pooled transaction with its package bucket opened once: in
// a read transaction bbolt makes a new Bucket (a search of the root and
// four allocations) on every tx.Bucket call.
type readTx struct {
	tx  *bolt.Tx
	pkg *bolt.Bucket
	// cur is a cursor on pkg kept for get: Bucket.Get makes a new cursor
	// (and its stack) every time, Seek on this one reuses them.
	cur *bolt.Cursor
}

// get returns the package value stored under key, or nil.
func (rt *readTx) get(key []byte) []byte {
	k, v := rt.cur.Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil
	}
	return v
}

var errClosed = errors.New("vulndb: database is closed")

func (p *txPool) get(bdb *bolt.DB) (*readTx, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		tx := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return tx, nil
	}
	tx, err := bdb.Begin(false)
	if err != nil {
		return nil, err
	}
	rt := &readTx{tx: tx, pkg: tx.Bucket(bucketPkg)}
	if rt.pkg != nil {
		rt.cur = rt.pkg.Cursor()
	}
	p.all = append(p.all, rt)
	return rt, nil
}

func (p *txPool) put(tx *readTx) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.idle = append(p.idle, tx)
	}
}

// close ends every transaction; none may be in use.
func (p *txPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, rt := range p.all {
		_ = rt.tx.Rollback()
	}
	p.all, p.idle = nil, nil
}

// view runs fn in one of the pool's read transactions, turning a panic
// from a corrupt page into ErrCorrupt as safeView does.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	return db.viewTx(func(rt *readTx) error { return fn(rt.tx) })
}

// viewTx is view with the pooled transaction's opened package bucket.
func (db *DB) viewTx(fn func(rt *readTx) error) (err error) {
	rt, err := db.txs.get(db.bolt)
	if err != nil {
		return err
	}
	defer db.txs.put(rt)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer corruptOnPanic(&err)
	if rt.pkg == nil {
		return fmt.Errorf("%w: no package bucket", ErrCorrupt)
	}
	return fn(rt)
}
