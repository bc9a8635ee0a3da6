package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzPaths are the file names the fuzzer scans its input as, so that the
// file-scoped parsers run too.
var fuzzPaths = [...]string{
	"app/config.txt", "app/.env", "root/.npmrc", "root/.pypirc", "root/.docker/config.json",
	"root/.dockercfg", "root/.git-credentials", "run/containers/0/auth.json", "root/.netrc",
}

// FuzzScan feeds arbitrary bytes to every rule. It checks that nothing
// panics, that spans and lines are in range, and that evidence is short,
// printable UTF-8 that never holds the secret it masks.
func FuzzScan(f *testing.F) {
	for i, tc := range ruleCases() {
		f.Add(uint8(i), []byte(tc.content))
	}
	seeds, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for i, p := range seeds {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	e := New().(*extractor)
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		p := fuzzPaths[int(kind)%len(fuzzPaths)]
		for _, h := range e.hits(p, data) {
			if h.start < 0 || h.start > h.end || h.end > len(data) {
				t.Fatalf("%s: span [%d,%d) outside %d bytes", p, h.start, h.end, len(data))
			}
			if len(h.value) >= 6 && !strings.Contains(h.value, "*") && strings.Contains(h.evidence(), h.value) {
				t.Fatalf("%s: evidence %q holds the secret %q", p, h.evidence(), h.value)
			}
		}
		files, _ := e.scan(p, data)
		lines := bytes.Count(data, []byte{'\n'}) + 1
		prev := 0
		for _, ff := range files {
			if ff.Line < 1 || ff.Line > lines || ff.Line < prev {
				t.Fatalf("%s: line %d (previous %d) outside 1..%d", p, ff.Line, prev, lines)
			}
			prev = ff.Line
			ev := ff.Evidence
			if len(ev) > maxEvidence || !utf8.ValidString(ev) {
				t.Fatalf("%s: evidence %q too long or not UTF-8", p, ev)
			}
			for _, r := range ev {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("%s: evidence %q holds a control character", p, ev)
				}
			}
			if !ff.Persistent {
				t.Fatalf("%s: finding %+v is not persistent", p, ff)
			}
		}
		if len(files) > maxFindingsPerFile {
			t.Fatalf("%s: %d findings, over the cap", p, len(files))
		}
	})
}

// FuzzWants checks that the path filter never panics on hostile paths and
// never accepts a file outside the size range.
func FuzzWants(f *testing.F) {
	for _, p := range []string{"usr/lib/python", "a/node_modules/", "node_modules/x/TEST/y", "lib/python3/dist-packages/A.egg-info/PKG-INFO", "", "/", ".env"} {
		f.Add(p, int64(10))
	}
	e := New()
	f.Fuzz(func(t *testing.T, p string, size int64) {
		got := e.Wants(p, fileInfo{name: p, size: size})
		if got && (size <= 0 || size > DefaultMaxFileSize) {
			t.Fatalf("Wants(%q, %d) = true outside the size range", p, size)
		}
	})
}
