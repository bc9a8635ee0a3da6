//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package layerfs

import "golang.org/x/sys/unix"

// mapAnon maps n bytes of anonymous memory, outside the Go heap. Pages
// count towards the process's memory only once written.
func mapAnon(n int) ([]byte, func(), bool) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	return b, func() { _ = unix.Munmap(b) }, true
}
