// Package extracttest helps extractor tests: a file info to hand Wants, and
// a one-call Extract on bytes. Imported only from _test files.
package extracttest

import (
	"bytes"
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/vigilsec/vigil/extract"
)

// FileInfo is a minimal fs.FileInfo of a given size and mode.
type FileInfo struct {
	Sz  int64
	Mod fs.FileMode
}

func (f FileInfo) Name() string       { return "" }
func (f FileInfo) Size() int64        { return f.Sz }
func (f FileInfo) Mode() fs.FileMode  { return f.Mod }
func (f FileInfo) ModTime() time.Time { return time.Time{} }
func (f FileInfo) IsDir() bool        { return f.Mod.IsDir() }
func (f FileInfo) Sys() any           { return nil }

// Run hands b to the extractor as the file at path p.
func Run(t testing.TB, ex extract.Extractor, p string, b []byte) (*extract.Result, error) {
	t.Helper()
	return ex.Extract(context.Background(), &extract.Input{Path: p, Info: FileInfo{Sz: int64(len(b))}, Reader: bytes.NewReader(b), Size: int64(len(b))})
}
