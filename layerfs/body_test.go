package layerfs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

func TestBodyBuffer(t *testing.T) {
	var b bodyBuffer
	defer b.free()
	small := b.get(10)
	if len(small) != 10 || cap(small) != bodyBufferStep {
		t.Fatalf("get(10): len %d cap %d, want 10 and one step", len(small), cap(small))
	}
	copy(small, "0123456789")
	if again := b.get(bodyBufferStep); &again[0] != &small[0] || string(again[:10]) != "0123456789" {
		t.Error("a body within the buffer's size got new memory")
	}
	big := b.get(bodyBufferStep + 1)
	if len(big) != bodyBufferStep+1 || cap(big) != 2*bodyBufferStep {
		t.Fatalf("grown: len %d cap %d", len(big), cap(big))
	}
	big[len(big)-1] = 'x' // writable to the end
	if got := b.get(0); len(got) != 0 {
		t.Errorf("get(0) = %d bytes", len(got))
	}
	b.free()
	if b.buf != nil || b.unmap != nil {
		t.Error("free kept the buffer")
	}
}

// sumExtractor reports every "*.bin" file as a package named for its path
// whose version is its content's SHA-256, as the extractor read it.
type sumExtractor struct{}

func (sumExtractor) Name() string                       { return "sum" }
func (sumExtractor) Version() int                       { return 1 }
func (sumExtractor) Wants(p string, _ fs.FileInfo) bool { return strings.HasSuffix(p, ".bin") }
func (sumExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(in.Reader, 0, in.Size)); err != nil {
		return nil, err
	}
	return &extract.Result{Packages: []inventory.Package{{Ecosystem: inventory.NPM, Name: in.Path, Version: fmt.Sprintf("%x", h.Sum(nil))}}}, nil
}

// TestWalkReusesBodyBuffer: files of growing and shrinking sizes, in
// parallel layers and through hard links, each reach the extractor whole
// although every walking goroutine reads them all into one buffer.
func TestWalkReusesBodyBuffer(t *testing.T) {
	sizes := []int{3000, bodyBufferStep + 5, 10, 2*bodyBufferStep + 1, 0, 700}
	var layers [][]byte
	want := map[string]string{}
	for l := 0; l < 4; l++ {
		var entries []tEntry
		for k, n := range sizes {
			name := fmt.Sprintf("l%d/f%d.bin", l, k)
			body := strings.Repeat(string(rune('a'+(l*7+k)%26)), n)
			entries = append(entries, file(name, body))
			want[name] = fmt.Sprintf("%x", sha256.Sum256([]byte(body)))
		}
		entries = append(entries, hardlink(fmt.Sprintf("l%d/link.bin", l), fmt.Sprintf("l%d/f3.bin", l)))
		want[fmt.Sprintf("l%d/link.bin", l)] = want[fmt.Sprintf("l%d/f3.bin", l)]
		layers = append(layers, mkTar(t, entries...))
	}
	res, err := Walk(context.Background(), mkImage(layers...), Options{
		Registry: extract.NewRegistry(sumExtractor{}), Parallel: 2, MemFileLimit: 3 * bodyBufferStep, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range res.Inventory.Packages {
		got[p.Name] = p.Version
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bodies as the extractor read them (-want +got):\n%s", diff)
	}
}
