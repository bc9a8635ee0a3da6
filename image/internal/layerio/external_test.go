package layerio

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
)

func gz(t *testing.T, parts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts { // several members, as concatenated gzip files have
		w := gzip.NewWriter(&buf)
		w.Write(p)
		w.Close()
	}
	return buf.Bytes()
}

func TestExternalGzipMatchesGo(t *testing.T) {
	for _, tool := range externalGzip {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Logf("%s not installed", tool)
			continue
		}
		t.Run(tool, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			a := make([]byte, 3<<20)
			rng.Read(a[:1<<20]) // incompressible part
			b := bytes.Repeat([]byte("layer data "), 50000)
			blob := gz(t, a, b)

			er, err := newExternalGzip(path, bytes.NewReader(blob), "test blob")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(er)
			er.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append(append([]byte{}, a...), b...)) {
				t.Fatalf("%s output differs from the input (%d bytes vs %d)", tool, len(got), len(a)+len(b))
			}

			// Truncated input must be an error, not a short clean stream.
			er, err = newExternalGzip(path, bytes.NewReader(blob[:len(blob)/2]), "cut blob")
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(er)
			er.Close()
			if err == nil || !strings.Contains(err.Error(), "cut blob") {
				t.Errorf("truncated input: err = %v, want an error naming the blob", err)
			}

			// Garbage after a valid header.
			bad := append([]byte{}, blob[:20]...)
			bad = append(bad, bytes.Repeat([]byte{0xff}, 4096)...)
			er, err = newExternalGzip(path, bytes.NewReader(bad), "bad blob")
			if err != nil {
				t.Fatal(err)
			}
			if _, err = io.ReadAll(er); err == nil {
				t.Error("corrupt input read without error")
			}
			er.Close()

			// Closing early stops the process.
			er, err = newExternalGzip(path, bytes.NewReader(blob), "early")
			if err != nil {
				t.Fatal(err)
			}
			io.ReadFull(er, make([]byte, 10))
			er.Close()
			if er.cmd.ProcessState == nil {
				t.Error("process not reaped after Close")
			}
		})
	}
}
