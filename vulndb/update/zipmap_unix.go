//go:build unix

package update

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f read-only. It returns nil data for a file
// too small or too large to map, and the caller reads it instead.
const mapSupported = true

func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size <= 0 || size != int64(int(size)) {
		return nil, nil, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	// Workers read members roughly in file order.
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return data, func() error { return unix.Munmap(data) }, nil
}
