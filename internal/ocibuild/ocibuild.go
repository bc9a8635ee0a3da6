// Package ocibuild writes small, deterministic OCI image layouts from
// directory trees and in-memory files: the end-to-end tests and the sample
// image that ships with the repository are built with it. Layers are plain
// (uncompressed) tars so that the output is byte-for-byte reproducible.
package ocibuild

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
	"sort"
	"strings"
	"time"
)

// Layer is a layer to build: directory trees to copy, extra files, and
// whiteouts (paths the layer deletes).
type Layer struct {
	CreatedBy string
	Trees     [][2]string       // {source dir, destination path in the image}
	Files     map[string][]byte // image path -> content
	Modes     map[string]int64  // image path -> mode, for Files
	Whiteouts []string          // image paths to delete
	// Normalize makes trees reproducible across checkouts: owner root, and
	// modes 0755 for directories and executables, 0644 for other files.
	Normalize bool
}

// Tar returns the layer as an uncompressed tar. Entries are written in a
// stable order with fixed times, so the same input gives the same bytes.
func (ls Layer) Tar() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, tr := range ls.Trees {
		src, dest := tr[0], strings.Trim(tr[1], "/")
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
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
			if ls.Normalize {
				h.Uid, h.Gid = 0, 0
				switch {
				case fi.IsDir() || fi.Mode()&0o111 != 0:
					h.Mode = 0o755
				case fi.Mode()&fs.ModeSymlink != 0:
					h.Mode = 0o777
				default:
					h.Mode = 0o644
				}
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
			return nil, err
		}
	}
	names := make([]string, 0, len(ls.Files))
	for name := range ls.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		body := ls.Files[name]
		mode := int64(0o644)
		if m, ok := ls.Modes[name]; ok {
			mode = m
		}
		h := &tar.Header{Name: strings.TrimPrefix(name, "/"), Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	for _, w := range ls.Whiteouts {
		dir, base := filepath.Split(strings.Trim(w, "/"))
		h := &tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// WriteLayout writes an OCI image layout to dir with the layers (built
// with Tar), a config holding cfg (the "config" object: Env, Cmd, User,
// ExposedPorts, ...) and a history line per layer plus the extra
// empty-layer steps, and tags it.
func WriteLayout(dir, tag string, layers []Layer, cfg map[string]any, emptySteps ...string) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	var werr error
	put := func(b []byte) string {
		d := digestOf(b)
		if err := os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), b, 0o644); err != nil && werr == nil {
			werr = err
		}
		return d
	}
	var diffIDs []string
	var history []map[string]any
	var layerDescs []map[string]any
	for _, spec := range layers {
		l, err := spec.Tar()
		if err != nil {
			return err
		}
		d := put(l)
		diffIDs = append(diffIDs, d)
		layerDescs = append(layerDescs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": len(l)})
		history = append(history, map[string]any{"created": "2026-01-01T00:00:00Z", "created_by": spec.CreatedBy})
	}
	for _, s := range emptySteps {
		history = append(history, map[string]any{"created": "2026-01-01T00:00:00Z", "created_by": s, "empty_layer": true})
	}
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
	if werr != nil {
		return werr
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), ib, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}
