package java

import (
	"encoding/binary"
	"errors"
	"io"
)

// Layout of the zip end records (APPNOTE.TXT 4.3.14-4.3.16).
const (
	eocdLen      = 22 // end of central directory record, without comment
	eocd64LocLen = 20 // zip64 end of central directory locator
	eocd64Len    = 56 // zip64 end of central directory record, fixed part
	// searchWindow is how far from the end archive/zip looks for the end
	// record.
	searchWindow = 65 * 1024
)

var errNotZip = errors.New("no zip end-of-central-directory record")

// centralDir describes an archive's central directory as archive/zip will
// find it.
type centralDir struct {
	entries uint64 // entry count the end record claims
	start   int64  // where archive/zip starts reading directory headers
}

// span is the most bytes archive/zip may read as directory headers: it
// reads from start until a header fails to parse, which can run to the end
// of the file whatever the end record claims.
func (d centralDir) span(size int64) int64 { return size - d.start }

// readCentralDir locates the central directory the way archive/zip does
// (the last end record in the final 65 KiB, the zip64 record when a field is
// saturated, and the same correction for data prepended to the archive), so
// that its size can be checked before archive/zip allocates an index for it.
func readCentralDir(r io.ReaderAt, size int64) (centralDir, error) {
	if size < eocdLen {
		return centralDir{}, errNotZip
	}
	n := int64(searchWindow)
	if n > size {
		n = size
	}
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return centralDir{}, err
	}
	at := -1
	for i := len(tail) - eocdLen; i >= 0; i-- {
		if tail[i] == 'P' && tail[i+1] == 'K' && tail[i+2] == 5 && tail[i+3] == 6 {
			at = i
			break
		}
	}
	if at < 0 {
		return centralDir{}, errNotZip
	}
	rec := tail[at : at+eocdLen]
	if comment := int(binary.LittleEndian.Uint16(rec[20:])); at+eocdLen+comment > len(tail) {
		return centralDir{}, errors.New("zip comment overruns the file")
	}
	endOff := size - n + int64(at)
	entries := uint64(binary.LittleEndian.Uint16(rec[10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(rec[12:]))
	dirOff := uint64(binary.LittleEndian.Uint32(rec[16:]))

	// archive/zip looks for a zip64 record when one of these is saturated
	// (it compares the 32-bit size with 0xffff; do the same).
	if entries == 0xffff || dirSize == 0xffff || dirOff == 0xffffffff {
		if off, ok := zip64End(r, endOff); ok && off >= 0 {
			var b [eocd64Len]byte
			if off > size-eocd64Len {
				return centralDir{}, errors.New("zip64 end record outside the file")
			}
			if _, err := r.ReadAt(b[:], off); err != nil {
				return centralDir{}, err
			}
			if binary.LittleEndian.Uint32(b[0:]) != 0x06064b50 {
				return centralDir{}, errors.New("zip64 end record has a bad signature")
			}
			entries = binary.LittleEndian.Uint64(b[32:])
			dirSize = binary.LittleEndian.Uint64(b[40:])
			dirOff = binary.LittleEndian.Uint64(b[48:])
			endOff = off
		}
	}
	if dirSize > uint64(size) || dirOff > 1<<63-1 {
		return centralDir{}, errors.New("zip central directory outside the file")
	}
	// archive/zip assumes the directory ends where the end record starts;
	// a gap to the recorded offset is data prepended to the archive (an
	// executable jar's launcher script). It reads from the recorded offset
	// instead when a directory header parses there; count from the earlier
	// of the two.
	start := endOff - int64(dirSize)
	if start < 0 || start >= size {
		return centralDir{}, errors.New("zip central directory outside the file")
	}
	if int64(dirOff) < start {
		start = int64(dirOff)
	}
	return centralDir{entries: entries, start: start}, nil
}

// zip64End returns the offset of the zip64 end record named by the locator
// just before the end record at endOff, if there is one. The offset is
// negative when the locator's value does not fit an int64, which
// archive/zip treats as no zip64 record.
func zip64End(r io.ReaderAt, endOff int64) (int64, bool) {
	if endOff < eocd64LocLen {
		return 0, false
	}
	var b [eocd64LocLen]byte
	if _, err := r.ReadAt(b[:], endOff-eocd64LocLen); err != nil {
		return 0, false
	}
	if binary.LittleEndian.Uint32(b[0:]) != 0x07064b50 {
		return 0, false
	}
	if binary.LittleEndian.Uint32(b[4:]) != 0 || binary.LittleEndian.Uint32(b[16:]) != 1 {
		return 0, false // multi-disk archives: archive/zip ignores the locator too
	}
	return int64(binary.LittleEndian.Uint64(b[8:])), true
}
