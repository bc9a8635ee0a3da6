package java

import (
	"archive/zip"
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func seedArchives(f *testing.F) {
	f.Add(jar(f, "org.apache.logging.log4j", "log4j-core", "2.14.1"))
	f.Add(buildZip(f, manifestEntry("Bundle-SymbolicName: org.example.x", "Bundle-Version: 1.0", `Bundle-License: "A, B";link=x`)))
	f.Add(buildZip(f, pomProps("g", "a", "1"), entry{name: "WEB-INF/lib/b-2.jar", body: jar(f, "g", "b", "2")},
		entry{name: "BOOT-INF/lib/c-3.jar", body: jar(f, "g", "c", "3"), stored: true}))
	f.Add(nest(f, 5))
	f.Add(overlapBomb(f, jar(f, "g", "o", "1"), 50))
	f.Add(append([]byte("#!/bin/sh\n"), jar(f, "g", "s", "1")...))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00"))
}

// FuzzExtract runs the extractor on arbitrary bytes: it must not panic,
// must stay within its limits, and what it reports must be well formed.
func FuzzExtract(f *testing.F) {
	seedArchives(f)
	lim := defaultLimits()
	lim.budget = 4 << 20
	lim.maxNestedInflate = 1 << 20
	ex := &extractor{lim: lim}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := run(t, ex, "opt/app.war", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "java: read opt/app.war: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		for _, p := range res.Packages {
			if p.Name == "" || !validVersion(p.Version) || (p.Group != "" && !isIdentifier(p.Group)) {
				t.Fatalf("malformed package %+v", p)
			}
			for _, l := range p.Locations {
				if !strings.HasPrefix(l.Path, "opt/app.war!") {
					t.Fatalf("location %q outside the archive", l.Path)
				}
			}
		}
		if len(res.Warnings) > 100 {
			t.Fatalf("%d warnings", len(res.Warnings))
		}
	})
}

// FuzzCentralDir checks readCentralDir against archive/zip: whatever
// archive/zip opens, readCentralDir must find too, with the same entry count
// (modulo 2^16, as archive/zip checks it) and a span that covers every
// directory header archive/zip parsed, which is what bounds its memory.
func FuzzCentralDir(f *testing.F) {
	seedArchives(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cd, cdErr := readCentralDir(bytes.NewReader(data), int64(len(data)))
		zr, zErr := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if zErr != nil {
			return
		}
		if cdErr != nil {
			t.Fatalf("archive/zip opens it but readCentralDir says %v", cdErr)
		}
		if uint16(cd.entries) != uint16(len(zr.File)) {
			t.Fatalf("entries %d, archive/zip read %d", cd.entries, len(zr.File))
		}
		var parsed int64
		for _, zf := range zr.File {
			parsed += 46 + int64(len(zf.Name)) + int64(len(zf.Extra)) + int64(len(zf.Comment))
		}
		if parsed > cd.span(int64(len(data))) {
			t.Fatalf("archive/zip parsed %d directory bytes, span is %d", parsed, cd.span(int64(len(data))))
		}
	})
}

func FuzzProperties(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		f.Add(genProperties(r))
	}
	f.Add([]byte("a\\u12"))
	f.Add([]byte("\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, v := range parseProperties(data) {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 in %q=%q", k, v)
			}
		}
	})
}

func FuzzManifest(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		f.Add(genManifest(r))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := parseManifest(data)
		for k, v := range m {
			if k != strings.ToLower(k) || v == "" || strings.HasPrefix(v, "%") {
				t.Fatalf("attribute %q=%q", k, v)
			}
		}
		for _, l := range m.licenses() {
			if l == "" {
				t.Fatal("empty license")
			}
		}
		_ = m.bundleSymbolicName()
		c, _ := identify(m, parseFileName(string(data)))
		if c.Artifact != "" && !isIdentifier(c.Artifact) {
			t.Fatalf("artifact %q", c.Artifact)
		}
	})
}
