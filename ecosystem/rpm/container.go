package rpm

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// go-rpmdb v0.1.1 reads BerkeleyDB and NDB pages in a goroutine of its own
// and trusts the offsets it finds there: a crafted database makes it index
// out of range (a panic no recover in the caller can catch), loop forever
// on an overflow chain, allocate a blob of any length, or print to stdout;
// and when its caller stops at a bad header, that goroutine stays blocked
// for good. So vigil reads the three containers itself, with bounds, cycle
// and work limits, and hands go-rpmdb one header at a time (see
// parseHeader), keeping its reader only for a well-formed NDB file that
// vigil wrote.

// errCorrupt marks a database whose structure is broken.
var errCorrupt = errors.New("corrupt database")

const (
	sqliteMagic   = "SQLite format 3\x00"
	ndbMagic      = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic  = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic  = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbMaxPages   = 2048 // go-rpmdb refuses more slot pages itself
	bdbHashMagic  = 0x00061561
	bdbHeaderSize = 26
	bdbHashOffLen = 12
	bdbMetaType   = 8
	bdbOverflow   = 7
	bdbHashOff    = 3
)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// blobs calls fn with each rpm header blob of the database, in storage
// order, and stops at the first structural error (fn's or the file's). It
// picks the format as go-rpmdb's Open does: SQLite, then NDB, then
// BerkeleyDB.
func blobs(f *os.File, size int64, fn func([]byte) error) error {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(sqliteMagic)):
		return sqliteBlobs(f.Name(), fn)
	case len(head) >= 16 && binary.LittleEndian.Uint32(head) == ndbMagic &&
		binary.LittleEndian.Uint32(head[4:]) == 0 && binary.LittleEndian.Uint32(head[12:]) != 0:
		return ndbBlobs(f, size, binary.LittleEndian.Uint32(head[12:]), fn)
	default:
		return bdbBlobs(f, size, head, fn)
	}
}

// sqliteBlobs reads the Packages table of rpmdb.sqlite.
func sqliteBlobs(path string, fn func([]byte) error) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("SELECT blob FROM Packages")
	if err != nil {
		return corrupt("%v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return corrupt("%v", err)
		}
		if err := fn(blob); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return corrupt("%v", err)
	}
	return nil
}

// ndbBlobs reads Packages.db: a header, slot pages naming each package's
// block, and per block a blob header followed by the rpm header.
func ndbBlobs(f *os.File, size int64, slotPages uint32, fn func([]byte) error) error {
	if slotPages > ndbMaxPages {
		return corrupt("NDB claims %d slot pages", slotPages)
	}
	nslots := int64(slotPages)*256 - 2
	if 32+nslots*16 > size {
		return corrupt("NDB slot pages run past the end of the file")
	}
	slots := make([]byte, nslots*16)
	if _, err := f.ReadAt(slots, 32); err != nil {
		return err
	}
	var blob [16]byte
	for i := int64(0); i < nslots; i++ {
		s := slots[i*16 : i*16+16]
		if binary.LittleEndian.Uint32(s) != ndbSlotMagic {
			return corrupt("NDB slot %d has a bad magic", i)
		}
		pkg := binary.LittleEndian.Uint32(s[4:])
		if pkg == 0 {
			continue
		}
		off := int64(binary.LittleEndian.Uint32(s[8:])) * 16
		if off+16 > size {
			return corrupt("NDB slot %d points past the end of the file", i)
		}
		if _, err := f.ReadAt(blob[:], off); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(blob[:]) != ndbBlobMagic || binary.LittleEndian.Uint32(blob[4:]) != pkg {
			return corrupt("NDB blob of package %d has a bad header", pkg)
		}
		n := int64(binary.LittleEndian.Uint32(blob[12:]))
		if off+16+n > size {
			return corrupt("NDB blob of package %d runs past the end of the file", pkg)
		}
		data := make([]byte, n)
		if _, err := f.ReadAt(data, off+16); err != nil {
			return err
		}
		if err := fn(data); err != nil {
			return err
		}
	}
	return nil
}

// bdbBlobs reads a BerkeleyDB hash database (Packages): every value on a
// hash page that lives off-page is an rpm header spread over a chain of
// overflow pages.
func bdbBlobs(f *os.File, size int64, meta []byte, fn func([]byte) error) error {
	if len(meta) < 512 {
		return corrupt("not an rpm database (%d bytes)", size)
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch {
	case order.Uint32(meta[12:]) == bdbHashMagic:
	case binary.BigEndian.Uint32(meta[12:]) == bdbHashMagic:
		order = binary.BigEndian
	default:
		return corrupt("not an rpm database: no SQLite, NDB or BerkeleyDB hash magic")
	}
	pageSize := int64(order.Uint32(meta[20:]))
	switch pageSize {
	case 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536:
	default:
		return corrupt("BerkeleyDB page size %d", pageSize)
	}
	if meta[24] != 0 || meta[25] != bdbMetaType {
		return corrupt("BerkeleyDB metadata page is encrypted or not a hash database")
	}
	lastPage := int64(order.Uint32(meta[32:]))
	if (lastPage+1)*pageSize > size {
		return corrupt("BerkeleyDB claims %d pages of %d bytes in a %d-byte file", lastPage+1, pageSize, size)
	}
	page := make([]byte, pageSize)
	chain := make([]byte, pageSize)
	// A sound database has each overflow page in one chain; allow some
	// slack, but never the quadratic walk a crafted one could ask for.
	budget := 2*(lastPage+1) + 1024
	for pn := int64(0); pn <= lastPage; pn++ {
		if _, err := f.ReadAt(page, pn*pageSize); err != nil {
			return err
		}
		if t := page[25]; t != 2 && t != 13 {
			continue // not a hash page
		}
		entries := int64(order.Uint16(page[20:]))
		if entries%2 != 0 || bdbHeaderSize+2*entries > pageSize {
			return corrupt("BerkeleyDB page %d has %d index entries", pn, entries)
		}
		// The index holds a 2-byte offset per item, keys and values
		// alternating; only values matter.
		for i := int64(0); i < entries/2; i++ {
			v := int64(order.Uint16(page[bdbHeaderSize+4*i+2:]))
			if v >= pageSize {
				return corrupt("BerkeleyDB page %d: item offset %d out of the page", pn, v)
			}
			if page[v] != bdbHashOff {
				continue
			}
			if v+bdbHashOffLen > pageSize {
				return corrupt("BerkeleyDB page %d: item at %d overruns the page", pn, v)
			}
			seen := map[uint32]bool{}
			var value []byte
			for next := order.Uint32(page[v+4:]); next != 0; {
				if seen[next] {
					return corrupt("BerkeleyDB overflow chain from page %d loops", pn)
				}
				seen[next] = true
				if budget--; budget < 0 {
					return corrupt("BerkeleyDB overflow chains share pages")
				}
				off := int64(next) * pageSize
				if off+pageSize > size {
					return corrupt("BerkeleyDB overflow page %d is past the end of the file", next)
				}
				if _, err := f.ReadAt(chain, off); err != nil {
					return err
				}
				if chain[25] != bdbOverflow {
					return corrupt("BerkeleyDB overflow chain reaches page %d of type %d", next, chain[25])
				}
				next = order.Uint32(chain[16:])
				if next != 0 {
					value = append(value, chain[bdbHeaderSize:]...)
					continue
				}
				free := int64(order.Uint16(chain[22:]))
				if bdbHeaderSize+free > pageSize {
					return corrupt("BerkeleyDB overflow page length %d overruns the page", free)
				}
				value = append(value, chain[bdbHeaderSize:bdbHeaderSize+free]...)
			}
			if err := fn(value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkHeader validates an rpm header blob as far as go-rpmdb's parser
// needs: the index must fit in the blob (it allocates from the entry count
// first),
// and every string an entry points at must be NUL-terminated inside the
// data area (its string-length loop otherwise repeats once per claimed
// string, up to four billion times), within a linear work budget.
func checkHeader(blob []byte) error {
	if len(blob) < 8 {
		return corrupt("rpm header of %d bytes", len(blob))
	}
	il := int64(int32(binary.BigEndian.Uint32(blob)))
	dl := int64(int32(binary.BigEndian.Uint32(blob[4:])))
	if il < 1 || dl < 0 || 8+16*il+dl > int64(len(blob)) {
		return corrupt("rpm header claims %d entries and %d data bytes in %d bytes", il, dl, len(blob))
	}
	dataStart := 8 + 16*il
	dataEnd := dataStart + dl
	budget := 16*int64(len(blob)) + 4096
	for i := int64(0); i < il; i++ {
		e := blob[8+16*i:]
		typ := binary.BigEndian.Uint32(e[4:])
		off := int64(int32(binary.BigEndian.Uint32(e[8:])))
		count := int64(binary.BigEndian.Uint32(e[12:]))
		switch typ {
		case 6: // STRING: one string
			if count != 1 {
				continue
			}
		case 8, 9: // STRING_ARRAY, I18NSTRING
		default:
			continue
		}
		start := dataStart + off
		if start < 0 || start >= dataEnd {
			continue // rejected by go-rpmdb without work
		}
		for o := start; count > 0 && o < dataEnd; count-- {
			n := int64(bytes.IndexByte(blob[o:dataEnd], 0))
			if n < 0 {
				return corrupt("rpm header entry %d: unterminated string", i)
			}
			if budget -= n + 1; budget < 0 {
				return corrupt("rpm header entries overlap too much")
			}
			o += n + 1
		}
		if count > 0 {
			return corrupt("rpm header entry %d: %d strings missing", i, count)
		}
	}
	return nil
}
