// Command mksynthetic writes a synthetic image N times larger than the
// reference image, for the flat-memory benchmark: every layer of the
// reference OCI layout is emitted N times, each copy with its paths moved
// under copyK/ so that contents, diffIDs and package locations differ (N
// times the packages too), or with -same-paths at the original paths, so
// that each copy rewrites the one before (N times the bytes, the same
// final packages).
// Layers are compressed with pigz (or igzip) when installed.
//
//	go run ./bench/mksynthetic -in bench/out/reference-oci -tag ref -n 10 -out bench/out/synthetic-oci
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func blobPath(layout, digest string) string {
	return filepath.Join(layout, "blobs", strings.Replace(digest, ":", "/", 1))
}

func readJSON(p string, v any) {
	b, err := os.ReadFile(p)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", p, err)
	}
}

type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// rewrite copies the layer tar from r to w with every name under prefix,
// and adds a marker file naming the copy, so no two copies share a diffID.
func rewrite(r io.Reader, w io.Writer, prefix, marker string) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		h.Name = prefix + strings.TrimPrefix(h.Name, "./")
		if h.Typeflag == tar.TypeLink {
			h.Linkname = prefix + strings.TrimPrefix(h.Linkname, "./")
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: marker, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(marker))}); err != nil {
		return err
	}
	if _, err := tw.Write([]byte(marker)); err != nil {
		return err
	}
	return tw.Close()
}

func main() {
	in := flag.String("in", "bench/out/reference-oci", "reference OCI layout")
	tag := flag.String("tag", "ref", "tag in the reference layout")
	n := flag.Int("n", 10, "copies of each layer")
	out := flag.String("out", "bench/out/synthetic-oci", "output OCI layout")
	samePaths := flag.Bool("same-paths", false, "keep every copy at the original paths (later copies overwrite earlier ones): 10x the bytes, the same final file system and packages")
	flag.Parse()

	var index struct {
		Manifests []desc `json:"manifests"`
	}
	readJSON(filepath.Join(*in, "index.json"), &index)
	var md *desc
	for i := range index.Manifests {
		if index.Manifests[i].Annotations["org.opencontainers.image.ref.name"] == *tag {
			md = &index.Manifests[i]
		}
	}
	if md == nil {
		log.Fatalf("no image tagged %q in %s", *tag, *in)
	}
	var manifest struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}
	readJSON(blobPath(*in, md.Digest), &manifest)
	var config map[string]any
	readJSON(blobPath(*in, manifest.Config.Digest), &config)

	gz := "pigz"
	if _, err := exec.LookPath(gz); err != nil {
		gz = "gzip"
	}
	os.MkdirAll(filepath.Join(*out, "blobs", "sha256"), 0o755)
	var layers []desc
	var diffIDs []any
	var history []any
	for k := 0; k < *n; k++ {
		for li, l := range manifest.Layers {
			src, err := os.Open(blobPath(*in, l.Digest))
			if err != nil {
				log.Fatal(err)
			}
			dec := exec.Command("igzip", "-dc")
			if _, err := exec.LookPath("igzip"); err != nil {
				dec = exec.Command("gzip", "-dc")
			}
			dec.Stdin = src
			raw, _ := dec.StdoutPipe()
			if err := dec.Start(); err != nil {
				log.Fatal(err)
			}
			tmp := filepath.Join(*out, "blobs", "tmp")
			f, _ := os.Create(tmp)
			enc := exec.Command(gz, "-c")
			pr, pw := io.Pipe()
			enc.Stdin = pr
			blobHash := &hashWriter{w: f, h: sha256.New()}
			enc.Stdout = blobHash
			if err := enc.Start(); err != nil {
				log.Fatal(err)
			}
			diff := &hashWriter{w: pw, h: sha256.New()}
			prefix := fmt.Sprintf("copy%d/", k)
			if *samePaths {
				prefix = ""
			}
			if err := rewrite(raw, diff, prefix, fmt.Sprintf("vigil-synthetic-copy-%d-of-layer-%d", k, li)); err != nil {
				log.Fatal(err)
			}
			io.Copy(io.Discard, raw)
			pw.Close()
			if err := enc.Wait(); err != nil {
				log.Fatal(err)
			}
			dec.Wait()
			src.Close()
			f.Close()
			d := "sha256:" + hex.EncodeToString(blobHash.h.Sum(nil))
			os.Rename(tmp, blobPath(*out, d))
			layers = append(layers, desc{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: d, Size: blobHash.n})
			diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(diff.h.Sum(nil)))
			history = append(history, map[string]any{"created_by": fmt.Sprintf("copy %d of reference layer %d", k, li)})
			fmt.Fprintf(os.Stderr, "layer %d/%d\n", len(layers), *n*len(manifest.Layers))
		}
	}
	config["rootfs"] = map[string]any{"type": "layers", "diff_ids": diffIDs}
	config["history"] = history
	put := func(v any) desc {
		b, _ := json.Marshal(v)
		s := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(s[:])
		os.WriteFile(blobPath(*out, d), b, 0o644)
		return desc{Digest: d, Size: int64(len(b))}
	}
	cd := put(config)
	cd.MediaType = "application/vnd.oci.image.config.v1+json"
	manifest.Config = cd
	manifest.Layers = layers
	m := put(manifest)
	m.MediaType = "application/vnd.oci.image.manifest.v1+json"
	m.Annotations = map[string]string{"org.opencontainers.image.ref.name": "synthetic"}
	ib, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []desc{m}})
	os.WriteFile(filepath.Join(*out, "index.json"), ib, 0o644)
	os.WriteFile(filepath.Join(*out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}
