package layerio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func compress(t *testing.T, c Compression, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch c {
	case Gzip:
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case Zstd:
		w, _ := zstd.NewWriter(&buf)
		w.Write(data)
		w.Close()
	default:
		buf.Write(data)
	}
	return buf.Bytes()
}

func TestOpen(t *testing.T) {
	data := bytes.Repeat([]byte("vigil layer bytes "), 1000)
	for _, c := range []Compression{None, Gzip, Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			blob := compress(t, c, data)
			if got := Sniff(blob); got != c {
				t.Fatalf("Sniff = %v, want %v", got, c)
			}
			rc, err := OpenSection(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))), nil, "blob")
			if err != nil {
				t.Fatal(err)
			}
			_, seekable := rc.(io.Seeker)
			if seekable != (c == None) {
				t.Errorf("seekable = %v for %v", seekable, c)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("OpenSection: %d bytes, %v", len(got), err)
			}
			rc, err = Decompress(io.NopCloser(bytes.NewReader(blob)), "blob")
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Decompress: %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 5000)
	for _, c := range []Compression{Gzip, Zstd} {
		blob := compress(t, c, data)
		for name, bad := range map[string][]byte{"truncated": blob[:len(blob)/2], "flipped": flip(blob)} {
			t.Run(c.String()+"/"+name, func(t *testing.T) {
				rc, err := Decompress(io.NopCloser(bytes.NewReader(bad)), "layer X of img")
				if err == nil {
					_, err = io.Copy(io.Discard, rc)
					rc.Close()
				}
				if err == nil || !strings.Contains(err.Error(), "layer X of img") {
					t.Fatalf("err = %v, want an error naming the blob", err)
				}
			})
		}
	}
}

func flip(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[len(out)/2] ^= 0xff
	out[len(out)-3] ^= 0xff
	return out
}

type rec struct {
	mu    sync.Mutex
	n     int64
	dones []error
}

func (r *rec) Start(string, string, int64) {}
func (r *rec) Advance(_ string, n int64) {
	r.mu.Lock()
	r.n += n
	r.mu.Unlock()
}
func (r *rec) Done(_ string, err error) { r.dones = append(r.dones, err) }

func TestCounting(t *testing.T) {
	r := &rec{}
	rc := Counting(io.NopCloser(strings.NewReader("hello world")), r, "id")
	io.Copy(io.Discard, rc)
	rc.Close()
	rc.Close()
	if d := cmp.Diff([]any{int64(11), 1, nil}, []any{r.n, len(r.dones), r.dones[0]}, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) })); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
