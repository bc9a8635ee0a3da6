package update

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/vulndb/osv"
)

// writeZip writes members (stored when the name starts with "store-") and
// returns the file's bytes.
func writeZip(t testing.TB, members map[string][]byte, order []string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		m := zip.Deflate
		if strings.HasPrefix(name, "store-") {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(members[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// saveZip writes raw to a new temporary file and returns its path.
func saveZip(t testing.TB, raw []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "all.zip")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// readAll reads every member through zipReader, keyed by name, with the
// error text for members that fail.
func readAll(t *testing.T, file string) map[string]string {
	t.Helper()
	z, err := openZip(file)
	if err != nil {
		t.Fatalf("openZip: %v", err)
	}
	defer z.Close()
	r := &zipReader{z: z}
	out := map[string]string{}
	for _, zf := range z.File {
		data, err := r.read(zf)
		if err != nil {
			out[zf.Name] = "error: " + err.Error()
		} else {
			out[zf.Name] = string(data)
		}
	}
	return out
}

// TestZipReader: members read from the mapping equal what archive/zip
// reads, for stored and deflated members of every size, and the mapping is
// what was used.
func TestZipReader(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	members := map[string][]byte{}
	var order []string
	for i, n := range []int{0, 1, 100, 4095, 4096, 70000, 300000} {
		for _, prefix := range []string{"store-", ""} {
			name := fmt.Sprintf("%s%d.json", prefix, i)
			data := make([]byte, n)
			for j := range data {
				data[j] = "abc{}\":,0123456789"[rng.Intn(18)]
			}
			members[name] = data
			order = append(order, name)
		}
	}
	file := saveZip(t, writeZip(t, members, order))
	z, err := openZip(file)
	if err != nil {
		t.Fatal(err)
	}
	mapped := z.data != nil
	z.Close()
	if !mapped && mapSupported {
		t.Error("the archive was not mapped")
	}
	got := readAll(t, file)
	for _, name := range order {
		if got[name] != string(members[name]) {
			t.Errorf("%s: got %d bytes (%.60q), want %d", name, len(got[name]), got[name], len(members[name]))
		}
	}
}

// TestZipReaderCorrupt: a member whose data is corrupt, whose sizes lie or
// that runs past the end of the file is an error for that member only, and
// each error is the one archive/zip reports, or says as much.
func TestZipReaderCorrupt(t *testing.T) {
	body := []byte(strings.Repeat(`{"id":"GO-2024-0001","summary":"x"}`, 50))
	members := map[string][]byte{"a.json": body, "b.json": body, "store-c.json": body, "d.json": body}
	order := []string{"a.json", "b.json", "store-c.json", "d.json"}
	raw := writeZip(t, members, order)
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	offsets := map[string]int64{}
	for _, zf := range zr.File {
		off, err := zf.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		offsets[zf.Name] = off
	}
	bad := bytes.Clone(raw)
	bad[offsets["a.json"]+5] ^= 0xff                                             // deflate stream broken
	binary.LittleEndian.PutUint32(bad[centralOf(t, bad, "b.json")+24:], 10)      // uncompressed size says 10
	binary.LittleEndian.PutUint32(bad[centralOf(t, bad, "store-c.json")+16:], 7) // CRC-32 wrong
	file := saveZip(t, bad)
	got := readAll(t, file)
	for _, name := range []string{"a.json", "b.json", "store-c.json"} {
		if !strings.HasPrefix(got[name], "error: ") {
			t.Errorf("%s: read %d bytes from a corrupt member, want an error", name, len(got[name]))
		}
	}
	if !strings.Contains(got["store-c.json"], "checksum") {
		t.Errorf("store-c.json: %s, want a checksum error", got["store-c.json"])
	}
	if got["d.json"] != string(body) {
		t.Errorf("d.json: %.80q, want the member intact", got["d.json"])
	}

	// Compressed size past the end of the file.
	bad = bytes.Clone(raw)
	binary.LittleEndian.PutUint32(bad[centralOf(t, bad, "d.json")+20:], uint32(len(raw)))
	if err := os.WriteFile(file, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, file)["d.json"]; !strings.HasPrefix(got, "error: ") {
		t.Errorf("d.json with a compressed size past the end: %.80q, want an error", got)
	}
}

// centralOf returns the offset of name's central directory record in raw.
func centralOf(t *testing.T, raw []byte, name string) int {
	t.Helper()
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte("PK\x01\x02"))
		if j < 0 {
			t.Fatalf("no central directory record for %s", name)
		}
		i += j
		n := int(binary.LittleEndian.Uint16(raw[i+28:]))
		if i+46+n <= len(raw) && string(raw[i+46:i+46+n]) == name {
			return i
		}
		i += 4
	}
}

// TestZipReaderLimit: a member over osv.MaxRecordSize is refused before it
// is inflated.
func TestZipReaderLimit(t *testing.T) {
	big := bytes.Repeat([]byte("a"), osv.MaxRecordSize+1)
	file := saveZip(t, writeZip(t, map[string][]byte{"big.json": big}, []string{"big.json"}))
	if got := readAll(t, file)["big.json"]; !strings.Contains(got, "limit") {
		t.Errorf("big.json: %.80q, want the size limit error", got)
	}
}

// TestZipReaderShrunk: a mapped archive cut short while it is read gives an
// error for the members past the cut, not a crash.
func TestZipReaderShrunk(t *testing.T) {
	if !mapSupported {
		t.Skip("archives are not mapped on this platform")
	}
	members := map[string][]byte{}
	var order []string
	rng := rand.New(rand.NewSource(2))
	for i := range 40 {
		name := fmt.Sprintf("%02d.json", i)
		data := make([]byte, 8192)
		rng.Read(data)
		members[name], order = data, append(order, name)
	}
	file := saveZip(t, writeZip(t, members, order))
	z, err := openZip(file)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if err := os.Truncate(file, 4096); err != nil {
		t.Fatal(err)
	}
	r := &zipReader{z: z}
	var faults int
	for _, zf := range z.File {
		if _, err := r.read(zf); err != nil && strings.Contains(err.Error(), "changed while it was read") {
			faults++
		}
	}
	if faults == 0 {
		t.Error("no member reported the archive as changed")
	}
}

// FuzzZipReader: an all.zip is hostile input. Reading any member from the
// mapping never panics, and a member read both from the mapping and
// through archive/zip reads the same.
func FuzzZipReader(f *testing.F) {
	body := []byte(`{"id":"GO-2024-0001","summary":"x"}`)
	f.Add(writeZip(f, map[string][]byte{"a.json": body, "store-b.json": body}, []string{"a.json", "store-b.json"}))
	f.Add(writeZip(f, map[string][]byte{"e.json": nil}, []string{"e.json"}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		file := saveZip(t, raw)
		z, err := openZip(file)
		if err != nil {
			return
		}
		defer z.Close()
		mapped := &zipReader{z: z}
		plain := &zipReader{z: z}
		for i, zf := range z.File {
			if i == 20 {
				break
			}
			a, aerr := mapped.read(zf)
			if zf.UncompressedSize64 > osv.MaxRecordSize {
				continue // read refuses it before choosing a path
			}
			a = bytes.Clone(a)
			b, berr := plain.readOpen(zf)
			if aerr == nil && berr == nil && !bytes.Equal(a, b) {
				t.Fatalf("%s: the mapping reads %q, archive/zip %q", zf.Name, a, b)
			}
		}
	})
}
