package tarindex

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type member struct {
	name, body, link string
	typ              byte
	format           tar.Format
}

func mkTar(t testing.TB, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: m.name, Typeflag: typ, Linkname: m.link, Mode: 0o644, Format: m.format}
		if typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, m.body)
	}
	tw.Close()
	return buf.Bytes()
}

func TestBuildAndOpen(t *testing.T) {
	long := strings.Repeat("d/", 80) + "file" // needs a PAX/GNU long name
	data := mkTar(t, []member{
		{name: "./manifest.json", body: `[]`},
		{name: "blobs/", typ: tar.TypeDir},
		{name: "blobs/sha256/aa", body: strings.Repeat("A", 1000)},
		{name: "/abs.txt", body: "abs"},
		{name: long, body: "long", format: tar.FormatPAX},
		{name: "x/layer.tar", typ: tar.TypeSymlink, link: "../blobs/sha256/aa"},
		{name: "y/layer.tar", typ: tar.TypeSymlink, link: "/blobs/sha256/aa"},
		{name: "hard", typ: tar.TypeLink, link: "abs.txt"},
		{name: "dup", body: "first"},
		{name: "dup", body: "second"},
		{name: "../escape", body: "no"},
		{name: "dir-link", typ: tar.TypeSymlink, link: "blobs"},
	})
	ix, err := Build(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want, wantErr string
	}{
		{name: "manifest.json", want: "[]"},
		{name: "./manifest.json", want: "[]"},
		{name: "blobs/sha256/aa", want: strings.Repeat("A", 1000)},
		{name: "abs.txt", want: "abs"},
		{name: long, want: "long"},
		{name: "x/layer.tar", want: strings.Repeat("A", 1000)},
		{name: "y/layer.tar", want: strings.Repeat("A", 1000)},
		{name: "hard", want: "abs"},
		{name: "dup", want: "second"},
		{name: "../escape", wantErr: "file does not exist"},
		{name: "escape", wantErr: "file does not exist"},
		{name: "blobs", wantErr: "not a regular file"},
		{name: "dir-link", wantErr: "not a regular file"},
		{name: "nope", wantErr: "file does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr, err := ix.Open(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("err = %v, want %q wrapping fs.ErrNotExist", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(sr)
			if string(b) != tc.want {
				t.Errorf("body = %q, want %q", b, tc.want)
			}
		})
	}
	want := []string{"abs.txt", "blobs", "blobs/sha256/aa", long, "dir-link", "dup", "hard", "manifest.json", "x/layer.tar", "y/layer.tar"}
	sort.Strings(want)
	if d := cmp.Diff(want, ix.Names()); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	if _, err := ix.ReadFile("blobs/sha256/aa", 999); err == nil || !strings.Contains(err.Error(), "more than the 999 allowed") {
		t.Errorf("ReadFile over the cap: err = %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	good := mkTar(t, []member{{name: "a", body: strings.Repeat("x", 4000)}, {name: "b", body: "y"}})
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "empty archive or not a tar file"},
		{"garbage", bytes.Repeat([]byte{0xff}, 1024), "read tar header"},
		{"truncated body", good[:1024], "runs past the end of the archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, bytes.NewReader(good), int64(len(good))); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestOpenFileCompressed(t *testing.T) {
	data := mkTar(t, []member{{name: "manifest.json", body: "[]"}})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	dir := t.TempDir()
	p := filepath.Join(dir, "a.tar.gz")
	os.WriteFile(p, gz.Bytes(), 0o644)
	tmp := t.TempDir()
	a, err := OpenFile(context.Background(), p, tmp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.ReadFile("manifest.json", 10)
	if err != nil || string(b) != "[]" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Errorf("temp dir holds %v, want one spool directory", left)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temp dir not cleaned: %v", left)
	}
}

func FuzzBuild(f *testing.F) {
	f.Add(mkTar(f, []member{{name: "a", body: "x"}, {name: "l", typ: tar.TypeSymlink, link: "a"}, {name: "h", typ: tar.TypeLink, link: "l"}}))
	f.Add(mkTar(f, []member{{name: "../../x", body: "x"}, {name: "s", typ: tar.TypeSymlink, link: "/../../../etc/passwd"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Build(context.Background(), bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, n := range ix.Names() {
			if strings.HasPrefix(n, "/") || n == ".." || strings.HasPrefix(n, "../") {
				t.Fatalf("name %q escapes", n)
			}
			sr, err := ix.Open(n)
			if err != nil {
				continue
			}
			if _, err := io.Copy(io.Discard, sr); err != nil {
				t.Fatalf("read %s: %v", n, err)
			}
		}
	})
}
