package vulndb

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// keyNames is the meta key of the name table: the ecosystem and feed names
// the file refers to by number, so that every package key starts with two
// bytes instead of a string like "SUSE:SUSE Linux Enterprise Server 15 SP5".
var keyNames = []byte("names")

// maxNames bounds the table: IDs are two bytes.
const maxNames = 1<<16 - 1

// nameTable maps names to IDs 1..maxNames. It is safe for concurrent use.
type nameTable struct {
	mu    sync.RWMutex
	list  []string // list[i] has ID i+1
	idx   map[string]uint16
	dirty bool
}

func newNameTable() *nameTable { return &nameTable{idx: map[string]uint16{}} }

func loadNames(mb *bolt.Bucket) (*nameTable, error) {
	t := newNameTable()
	raw := mb.Get(keyNames)
	if raw == nil {
		return t, nil
	}
	if err := json.Unmarshal(raw, &t.list); err != nil {
		return nil, fmt.Errorf("%w: name table: %v", ErrCorrupt, err)
	}
	if len(t.list) > maxNames {
		return nil, fmt.Errorf("%w: name table of %d names", ErrCorrupt, len(t.list))
	}
	for i, n := range t.list {
		t.idx[n] = uint16(i + 1)
	}
	return t, nil
}

func (t *nameTable) save(mb *bolt.Bucket) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	raw, err := json.Marshal(t.list)
	if err != nil {
		return err
	}
	return mb.Put(keyNames, raw)
}

// id returns the ID of name, assigning the next one for a new name.
func (t *nameTable) id(name string) (uint16, error) {
	t.mu.RLock()
	id, ok := t.idx[name]
	t.mu.RUnlock()
	if ok {
		return id, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.idx[name]; ok {
		return id, nil
	}
	if len(t.list) >= maxNames {
		return 0, fmt.Errorf("vulndb: more than %d ecosystem and feed names", maxNames)
	}
	t.list = append(t.list, name)
	id = uint16(len(t.list))
	t.idx[name] = id
	t.dirty = true
	return id, nil
}

func (t *nameTable) lookup(name string) (uint16, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.idx[name]
	return id, ok
}

func (t *nameTable) name(id uint16) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if id == 0 || int(id) > len(t.list) {
		return "", false
	}
	return t.list[id-1], true
}

// pkgKey is the key of a package: the ecosystem's ID (two bytes, big
// endian) and the normalised name.
func pkgKey(eco uint16, normName string) []byte {
	k := make([]byte, 2, 2+len(normName))
	binary.BigEndian.PutUint16(k, eco)
	return append(k, normName...)
}

// appendPkgKey is pkgKey appending to dst.
func appendPkgKey(dst []byte, eco uint16, normName string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, eco)
	return append(dst, normName...)
}

func splitPkgKey(k []byte) (eco uint16, name string, ok bool) {
	if len(k) < 2 {
		return 0, "", false
	}
	return binary.BigEndian.Uint16(k), string(k[2:]), true
}
