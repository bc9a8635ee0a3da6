package vulndb

import (
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

func TestZZZstd(t *testing.T) {
	path := os.Getenv("VB_DB")
	if path == "" {
		t.Skip()
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raws [][]byte
	total := 0
	db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDet).Cursor()
		for k, v := c.First(); k != nil && len(raws) < 1500; k, v = c.Next() {
			r, err := decompressValue(db.dec, v, nil)
			if err != nil {
				t.Fatal(err)
			}
			raws = append(raws, append([]byte(nil), r...))
			total += len(r)
		}
		return nil
	})
	for _, lvl := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression} {
		for _, win := range []int{64 << 10, 256 << 10} {
			enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(win))
			out := 0
			st := time.Now()
			var buf []byte
			for _, r := range raws {
				buf = enc.EncodeAll(r, buf[:0])
				out += len(buf)
			}
			el := time.Since(st)
			t.Logf("level %v window %dK: %.1f MB/s, ratio %.2f (%d blocks, %.1f MB)", lvl, win>>10, float64(total)/el.Seconds()/1e6, float64(total)/float64(out), len(raws), float64(total)/1e6)
		}
	}
}
