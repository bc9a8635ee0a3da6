package update

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime/debug"
	"sync"

	kflate "github.com/klauspost/compress/flate"

	"github.com/vigilsec/vigil/vulndb/osv"
)

// zipArchive is an all.zip open for reading. Where the platform allows, the
// file is mapped into memory and members inflate straight from the
// mapping: a full build reads about 500,000 members, and going through
// archive/zip costs each of them two pread calls and a fresh read buffer.
// Elsewhere, and for compression methods other than store and deflate,
// members are read through archive/zip.
type zipArchive struct {
	*zip.Reader
	f     *os.File
	data  []byte // the mapping; nil when the file is not mapped
	unmap func() error
	pool  sync.Pool // inflaters for the archive/zip path
}

func openZip(file string) (*zipArchive, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	z := &zipArchive{f: f}
	var ra io.ReaderAt = f
	if data, unmap, err := mapFile(f, st.Size()); err == nil && data != nil {
		z.data, z.unmap = data, unmap
		ra = bytes.NewReader(data)
	}
	// Reading the central directory touches the mapping; a fault there
	// (the file shrank under us) becomes an error, not a crash.
	err = guardFault(func() error {
		var err error
		z.Reader, err = zip.NewReader(ra, st.Size())
		return err
	})
	if err != nil {
		z.Close()
		return nil, err
	}
	z.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser {
		if fr, ok := z.pool.Get().(io.ReadCloser); ok {
			if fr.(kflate.Resetter).Reset(r, nil) == nil {
				return &pooledInflater{ReadCloser: fr, pool: &z.pool}
			}
		}
		return &pooledInflater{ReadCloser: kflate.NewReader(r), pool: &z.pool}
	})
	return z, nil
}

func (z *zipArchive) Close() error {
	var err error
	if z.unmap != nil {
		err = z.unmap()
		z.unmap, z.data = nil, nil
	}
	if cerr := z.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pooledInflater goes back to its pool when closed.
type pooledInflater struct {
	io.ReadCloser
	pool *sync.Pool
}

func (p *pooledInflater) Close() error {
	err := p.ReadCloser.Close()
	if p.pool != nil {
		p.pool.Put(p.ReadCloser)
		p.pool = nil
	}
	return err
}

// zipReader reads members for one goroutine; it is not safe for
// concurrent use.
type zipReader struct {
	z   *zipArchive
	buf []byte
	src bytes.Reader
	inf io.ReadCloser // inflater for mapped members
}

// read returns the member's uncompressed bytes, valid until the next call.
// It fails when the member is over osv.MaxRecordSize, when its data does
// not have the size the directory states, or when its CRC-32 is wrong.
func (r *zipReader) read(zf *zip.File) (data []byte, err error) {
	if zf.UncompressedSize64 > osv.MaxRecordSize {
		return nil, fmt.Errorf("record of %d bytes is over the %d byte limit", zf.UncompressedSize64, osv.MaxRecordSize)
	}
	if r.z.data == nil || (zf.Method != zip.Store && zf.Method != zip.Deflate) {
		return r.readOpen(zf)
	}
	err = guardFault(func() error {
		data, err = r.readMapped(zf)
		return err
	})
	return data, err
}

func (r *zipReader) readMapped(zf *zip.File) ([]byte, error) {
	off, err := zf.DataOffset()
	if err != nil {
		return nil, err
	}
	size := uint64(len(r.z.data))
	if off < 0 || uint64(off) > size || zf.CompressedSize64 > size-uint64(off) {
		return nil, fmt.Errorf("%w: member data runs past the end of the archive", zip.ErrFormat)
	}
	body := r.z.data[off : uint64(off)+zf.CompressedSize64]
	want := int(zf.UncompressedSize64)
	if cap(r.buf) < want+1 {
		r.buf = make([]byte, 0, want+1+want/4)
	}
	var data []byte
	if zf.Method == zip.Store {
		data = append(r.buf[:0], body...)
	} else {
		r.src.Reset(body)
		if r.inf == nil {
			r.inf = kflate.NewReader(&r.src)
		} else if err := r.inf.(kflate.Resetter).Reset(&r.src, nil); err != nil {
			return nil, err
		}
		// Read one byte past the stated size, to catch a member that
		// inflates to more than the directory says.
		n, err := io.ReadFull(r.inf, r.buf[:want+1])
		data = r.buf[:n]
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
		case err != nil:
			return nil, err
		}
	}
	if len(data) != want {
		return nil, fmt.Errorf("%w: member inflates to %d bytes, the directory says %d", zip.ErrFormat, len(data), want)
	}
	if zf.CRC32 != 0 && crc32.ChecksumIEEE(data) != zf.CRC32 {
		return nil, zip.ErrChecksum
	}
	return data, nil
}

// readOpen reads a member through archive/zip.
func (r *zipReader) readOpen(zf *zip.File) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The header's size is only a hint (a hostile zip can lie, though
	// archive/zip stops at it): read at most one byte past the limit.
	buf := bytes.NewBuffer(r.buf[:0])
	buf.Grow(int(min(zf.UncompressedSize64, osv.MaxRecordSize)) + bytes.MinRead)
	_, err = buf.ReadFrom(io.LimitReader(rc, osv.MaxRecordSize+1))
	r.buf = buf.Bytes()
	data := r.buf
	if err != nil {
		return data, err
	}
	if len(data) > osv.MaxRecordSize {
		return data, fmt.Errorf("record inflates past the %d byte limit", osv.MaxRecordSize)
	}
	return data, nil
}

// guardFault runs fn and turns a memory fault in it (a mapped file that
// shrank while it was read) into an error.
func guardFault(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(interface{ Addr() uintptr }); !ok {
				panic(p)
			}
			err = errors.New("the archive changed while it was read (memory fault); download it again")
		}
	}()
	return fn()
}
