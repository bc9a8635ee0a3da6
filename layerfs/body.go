package layerfs

// bodyBuffer is one walking goroutine's memory for the wanted file bodies
// it reads whole (those up to Options.MemFileLimit). It is reused for every
// such file the goroutine reads, so bodies take at most Parallel ×
// MemFileLimit bytes however many layers and files an image has. Where the
// platform allows, it lives outside the Go heap, in an anonymous mapping:
// bodies are a walk's largest and most frequent allocations (executables of
// a few MiB offered to the Go and Rust binary readers), and one held on the
// heap while the collector marks raises the heap goal by twice its size.
type bodyBuffer struct {
	buf   []byte
	unmap func() // nil for heap memory
}

// bodyBufferStep rounds buffer sizes up, so that a buffer grows a few times
// per walk at most.
const bodyBufferStep = 1 << 20

// get returns a buffer of n bytes, valid until the next get or free.
func (b *bodyBuffer) get(n int) []byte {
	if n <= cap(b.buf) {
		return b.buf[:n]
	}
	b.free()
	size := (n + bodyBufferStep - 1) / bodyBufferStep * bodyBufferStep
	if buf, unmap, ok := mapAnon(size); ok {
		b.buf, b.unmap = buf, unmap
	} else {
		b.buf = make([]byte, size)
	}
	return b.buf[:n]
}

// free releases the buffer.
func (b *bodyBuffer) free() {
	if b.unmap != nil {
		b.unmap()
	}
	b.buf, b.unmap = nil, nil
}
