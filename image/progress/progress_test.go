package progress

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/image"
)

var _ image.Progress = (*Bars)(nil)

func TestNewNotTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, quiet := range []bool{false, true} {
		r := New(context.Background(), f, quiet)
		if _, ok := r.(Nop); !ok {
			t.Errorf("quiet=%v: New on a regular file = %T, want Nop", quiet, r)
		}
		r.Start("a", "layer", 10)
		r.Advance("a", 10)
		r.Done("a", nil)
		r.Wait()
	}
	st, _ := f.Stat()
	if st.Size() != 0 {
		t.Errorf("wrote %d bytes to a non-terminal", st.Size())
	}
}

// TestBars draws to a buffer: finished bars show "done", failed ones
// "failed", and Wait returns even for a bar never reported done.
func TestBars(t *testing.T) {
	var buf syncBuffer
	b := NewBars(context.Background(), &buf, true)
	b.Start("ok", "vigil/test layer 1/3", 4096)
	b.Start("bad", "vigil/test layer 2/3", 1000)
	b.Start("open", "vigil/test layer 3/3", 0)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); b.Advance("ok", 1024) }()
	}
	wg.Wait()
	b.Advance("bad", 10)
	b.Advance("unknown", 10) // ignored
	b.Done("ok", nil)
	b.Done("bad", errors.New("boom"))
	done := make(chan struct{})
	go func() { b.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return")
	}
	out := buf.String()
	for _, want := range []string{"vigil/test layer 1/3", "vigil/test layer 2/3", "vigil/test layer 3/3", "done", "failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
