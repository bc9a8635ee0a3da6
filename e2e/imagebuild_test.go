package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// layerSpec is a layer to build: a directory tree to copy (src -> dest
// prefix inside the image), extra files, and whiteouts.
type layerSpec struct {
	createdBy string
	trees     [][2]string       // {source dir, destination path in image}
	files     map[string][]byte // image path -> content
	modes     map[string]int64  // image path -> mode for files
	whiteouts []string          // image paths to delete
}

// buildLayer writes one uncompressed layer tar and returns its bytes.
func buildLayer(t testing.TB, ls layerSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, tr := range ls.trees {
		src, dest := tr[0], strings.Trim(tr[1], "/")
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			name := filepath.ToSlash(filepath.Join(dest, rel))
			if name == "." || name == "" {
				return nil
			}
			// Runtime mounts of a debootstrap root are not image content.
			if d.IsDir() && (rel == "proc" || rel == "sys" || rel == "dev") && dest == "" {
				return filepath.SkipDir
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			if fi.Mode()&fs.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			}
			if !fi.Mode().IsRegular() && !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 {
				return nil // sockets, devices: not needed
			}
			h, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			h.Name = name
			if fi.IsDir() {
				h.Name += "/"
			}
			h.ModTime, h.AccessTime, h.ChangeTime = mtime, time.Time{}, time.Time{}
			h.Uname, h.Gname = "", ""
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				if _, err := io.Copy(tw, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range ls.files {
		mode := int64(0o644)
		if m, ok := ls.modes[name]; ok {
			mode = m
		}
		h := &tar.Header{Name: strings.TrimPrefix(name, "/"), Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range ls.whiteouts {
		dir, base := filepath.Split(strings.Trim(w, "/"))
		h := &tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// writeOCILayout writes an OCI image layout with uncompressed layers and a
// config carrying history, returning the layout directory.
func writeOCILayout(t testing.TB, dir, tag string, layers [][]byte, specs []layerSpec, cfg map[string]any) string {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(b []byte) string {
		d := digestOf(b)
		if err := os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	var diffIDs []string
	var history []map[string]any
	var layerDescs []map[string]any
	for i, l := range layers {
		d := put(l)
		diffIDs = append(diffIDs, d)
		layerDescs = append(layerDescs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": len(l)})
		history = append(history, map[string]any{"created": "2026-01-01T00:00:00Z", "created_by": specs[i].createdBy})
	}
	history = append(history, map[string]any{"created": "2026-01-01T00:00:00Z", "created_by": "CMD [\"node\",\"server.js\"]", "empty_layer": true})
	config := map[string]any{
		"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
		"config":  cfg,
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": history,
	}
	cb, _ := json.Marshal(config)
	cd := put(cb)
	manifest := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cb)},
		"layers": layerDescs}
	mb, _ := json.Marshal(manifest)
	md := put(mb)
	index := map[string]any{"schemaVersion": 2, "manifests": []map[string]any{{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(mb),
		"annotations": map[string]string{"org.opencontainers.image.ref.name": tag},
	}}}
	ib, _ := json.Marshal(index)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), ib, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
