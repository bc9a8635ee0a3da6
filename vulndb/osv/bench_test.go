package osv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// BenchmarkParseJSON parses every OSV JSON record in the fixtures, as a
// full database build does 500,000 times.
func BenchmarkParseJSON(b *testing.B) {
	var recs [][]byte
	total := 0
	root := testutil.Fixtures(b, "vulndata")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := ParseJSON(data); err == nil {
			recs = append(recs, data)
			total += len(data)
		}
		return nil
	})
	if len(recs) == 0 {
		b.Fatal("no records")
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if _, err := ParseJSON(r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
