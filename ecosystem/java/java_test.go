package java

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWants(t *testing.T) {
	ex := New()
	tests := []struct {
		path string
		fi   fs.FileInfo
		want bool
	}{
		{"usr/share/java/log4j-core.jar", fileInfo{size: 10}, true},
		{"srv/app/ROOT.war", fileInfo{size: 10}, true},
		{"opt/app.EAR", fileInfo{size: 10}, true},
		{"var/jenkins_home/plugins/git.jpi", fileInfo{size: 10}, true},
		{"var/jenkins_home/plugins/git.hpi", fileInfo{size: 10}, true},
		{"opt/nifi/lib/nifi-standard-nar-1.23.2.nar", fileInfo{size: 10}, true},
		{"opt/jboss/deploy/x.sar", fileInfo{size: 10}, true},
		{"opt/jboss/deploy/x.par", fileInfo{size: 10}, true},
		{"opt/karaf/deploy/x.kar", fileInfo{size: 10}, true},
		{"opt/liferay/deploy/x.lpkg", fileInfo{size: 10}, true},
		{"usr/share/java/log4j-core.jar", nil, true},
		{"usr/share/java/log4j-core.jar", fileInfo{size: 0}, false},
		{"usr/share/java/log4j-core.jar", fileInfo{size: 10, mode: fs.ModeSymlink}, false},
		{"usr/share/java", fileInfo{size: 10, mode: fs.ModeDir}, false},
		{"usr/share/java/huge.jar", fileInfo{size: 1 << 40}, false},
		{"usr/share/doc/jar", fileInfo{size: 10}, false},
		{"app/x.jar.sha1", fileInfo{size: 10}, false},
		{"app/x.zip", fileInfo{size: 10}, false},
		{".jar", fileInfo{size: 10}, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := ex.Wants(tt.path, tt.fi); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// TestIdentify covers one archive: pom.properties, manifest and file name.
func TestIdentify(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		entries []entry
		want    []gav
		warn    string
	}{{
		name: "pom.properties wins over the manifest",
		file: "app-1.0.jar",
		entries: []entry{
			manifestEntry("Implementation-Title: Example App", "Implementation-Version: 9.9", "Bundle-License: Apache-2.0"),
			pomProps("com.example", "app", "1.0"),
			classEntry("com/example/App.class"),
		},
		want: []gav{{Group: "com.example", Name: "app", Version: "1.0", Licenses: []string{"Apache-2.0"}}},
	}, {
		name: "shaded jar: one package per pom.properties, the license on its own",
		file: "service-2.0.jar",
		entries: []entry{
			manifestEntry("Bundle-License: MIT"),
			pomProps("com.google.guava", "guava", "31.1-jre"),
			pomProps("com.example", "service", "2.0"),
			pomProps("org.slf4j", "slf4j-api", "1.7.36"),
			pomProps("org.slf4j", "slf4j-api", "1.7.36"),
		},
		want: []gav{
			{Group: "com.google.guava", Name: "guava", Version: "31.1-jre"},
			{Group: "com.example", Name: "service", Version: "2.0", Licenses: []string{"MIT"}},
			{Group: "org.slf4j", Name: "slf4j-api", Version: "1.7.36"},
		},
	}, {
		name: "gradle jar shading a dependency: the jar itself from manifest and file name",
		file: "mylib-3.1.4.jar",
		entries: []entry{
			manifestEntry("Implementation-Title: mylib", "Implementation-Version: 3.1.4", "Implementation-Vendor-Id: com.example"),
			pomProps("com.google.code.gson", "gson", "2.10"),
		},
		want: []gav{
			{Group: "com.google.code.gson", Name: "gson", Version: "2.10"},
			{Group: "com.example", Name: "mylib", Version: "3.1.4"},
		},
	}, {
		name: "renamed jar shading a dependency: no identity guessed from the bare name",
		file: "app.jar",
		entries: []entry{
			manifestEntry("Main-Class: com.example.Main", "Implementation-Version: 1.0"),
			pomProps("com.google.code.gson", "gson", "2.10"),
		},
		want: []gav{{Group: "com.google.code.gson", Name: "gson", Version: "2.10"}},
	}, {
		name: "renamed classifier jar owns its pom.properties",
		file: "wagon-http-shaded-3.5.3.jar",
		entries: []entry{
			pomProps("commons-codec", "commons-codec", "1.15"),
			pomProps("org.apache.maven.wagon", "wagon-http", "3.5.3"),
		},
		want: []gav{
			{Group: "commons-codec", Name: "commons-codec", Version: "1.15"},
			{Group: "org.apache.maven.wagon", Name: "wagon-http", Version: "3.5.3"},
		},
	}, {
		name: "no pom.properties: group from the bundle symbolic name, not the vendor",
		file: "log4j-core.jar",
		entries: []entry{manifestEntry(
			"Implementation-Title: Apache Log4j Core", "Implementation-Vendor-Id: org.apache",
			"Implementation-Version: 2.14.1", "Bundle-SymbolicName: org.apache.logging.log4j.core",
			"Bundle-Version: 2.14.1", "Bundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt")},
		want: []gav{{Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1",
			Licenses: []string{"https://www.apache.org/licenses/LICENSE-2.0.txt"}}},
	}, {
		name: "no pom.properties: group.artifact symbolic name, version from Bundle-Version",
		file: "jackson-databind.jar",
		entries: []entry{manifestEntry(
			"Bundle-SymbolicName: com.fasterxml.jackson.core.jackson-databind;singleton:=true", "Bundle-Version: 2.9.10.1",
			"Bundle-Name: Jackson-databind")},
		want: []gav{{Group: "com.fasterxml.jackson.core", Name: "jackson-databind", Version: "2.9.10.1"}},
	}, {
		name:    "file name only; the last numeric part starts the version",
		file:    "log4j-1.2-api-2.17.1.jar",
		entries: []entry{manifestEntry("Created-By: Apache Maven")},
		want:    []gav{{Name: "log4j-1.2-api", Version: "2.17.1"}},
	}, {
		name:    "file name with a split pre-release qualifier",
		file:    "netty-codec-4.0-beta-2.jar",
		entries: []entry{classEntry("io/netty/X.class")},
		want:    []gav{{Name: "netty-codec", Version: "4.0-beta-2"}},
	}, {
		name:    "file name version with a classifier",
		file:    "spring-core-5.3.4-SNAPSHOT.jar",
		entries: []entry{classEntry("org/springframework/X.class")},
		want:    []gav{{Name: "spring-core", Version: "5.3.4-SNAPSHOT"}},
	}, {
		name:    "implementation version beats the file name, which beats bundle version",
		file:    "foo-1.0.jar",
		entries: []entry{manifestEntry("Implementation-Version: 1.0.1", "Bundle-Version: 1.0.1.v2020")},
		want:    []gav{{Name: "foo", Version: "1.0.1"}},
	}, {
		name: "Jenkins plugin",
		file: "git.hpi",
		entries: []entry{manifestEntry("Group-Id: org.jenkins-ci.plugins", "Short-Name: git", "Extension-Name: git",
			"Implementation-Title: git", "Plugin-Version: 4.11.0", "Plugin-License-Name: MIT License")},
		want: []gav{{Group: "org.jenkins-ci.plugins", Name: "git", Version: "4.11.0"}},
	}, {
		name:    "human-readable title is not an artifact ID; the bare file name is",
		file:    "commons-text.jar",
		entries: []entry{manifestEntry("Implementation-Title: Apache Commons Text", "Specification-Version: 1.9")},
		want:    []gav{{Name: "commons-text", Version: "1.9"}},
	}, {
		name: "localised and wrapped manifest values",
		file: "x.jar",
		entries: []entry{{name: "META-INF/MANIFEST.MF", body: []byte(
			"Manifest-Version: 1.0\nBundle-Name: %bundle.name\nImplementation-Title: long-artif\n act-name\nImplementat\n" +
				"Implementation-Version: 7.0.\n 1\n\nName: org/x/\nImplementation-Version: 9\n")}},
		want: []gav{{Name: "long-artifact-name", Version: "7.0.1"}},
	}, {
		name: "Bundle-License with quoted commas and external licenses",
		file: "lib-2.0.jar",
		entries: []entry{manifestEntry(`Bundle-License: "Apache-2.0";link="https://a/b,c", MIT;description="The MIT, License", <<EXTERNAL>>`),
			pomProps("org.example", "lib", "2.0")},
		want: []gav{{Group: "org.example", Name: "lib", Version: "2.0", Licenses: []string{"Apache-2.0", "MIT"}}},
	}, {
		name: "unresolved version placeholder is skipped with a warning",
		file: "thing-4.2.jar",
		entries: []entry{
			{name: "META-INF/maven/org.example/thing/pom.properties", body: []byte("groupId=org.example\nartifactId=thing\nversion=${project.version}\n")},
		},
		want: []gav{{Name: "thing", Version: "4.2"}},
		warn: "META-INF/maven/org.example/thing/pom.properties: no usable groupId, artifactId and version",
	}, {
		name: "pom.properties missing keys: the directory names stand in",
		file: "x.jar",
		entries: []entry{
			{name: "META-INF/maven/org.example/thing/pom.properties", body: []byte("version: 1.2.3\n")},
		},
		want: []gav{{Group: "org.example", Name: "thing", Version: "1.2.3"}},
	}, {
		name: "pom.properties outside META-INF/maven/<g>/<a>/ is not the archive's",
		file: "x.jar",
		entries: []entry{
			{name: "test-resources/pom.properties", body: []byte("groupId=a\nartifactId=b\nversion=1\n")},
			{name: "META-INF/maven/a/b/c/pom.properties", body: []byte("groupId=a\nartifactId=b\nversion=1\n")},
		},
	}, {
		name:    "no version anywhere: nothing",
		file:    "app.jar",
		entries: []entry{manifestEntry("Main-Class: com.example.Main")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, New(), "opt/"+tt.file, buildZip(t, tt.entries...))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, gavs(res.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			for _, p := range res.Packages {
				if p.Ecosystem != "maven" {
					t.Errorf("ecosystem %q", p.Ecosystem)
				}
				wantPURL := ""
				if p.Group != "" {
					wantPURL = "pkg:maven/" + p.Group + "/" + p.Name + "@" + p.Version
				}
				if p.PURL != wantPURL {
					t.Errorf("PURL %q, want %q", p.PURL, wantPURL)
				}
			}
			var wantWarn []string
			if tt.warn != "" {
				wantWarn = []string{tt.warn}
			}
			if diff := cmp.Diff(wantWarn, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func jar(t testing.TB, g, a, v string) []byte {
	return buildZip(t, manifestEntry("Created-By: test"), pomProps(g, a, v), classEntry("x/Y.class"))
}

// TestNested covers archives inside archives.
func TestNested(t *testing.T) {
	log4j := jar(t, "org.apache.logging.log4j", "log4j-core", "2.14.1")
	text := buildZip(t, manifestEntry("Implementation-Version: 1.9"), classEntry("org/apache/commons/text/X.class"))
	war := buildZip(t,
		pomProps("com.example", "shop", "1.0"),
		entry{name: "WEB-INF/lib/", body: nil},
		entry{name: "WEB-INF/lib/log4j-core-2.14.1.jar", body: log4j},
		entry{name: "WEB-INF/lib/commons-text-1.9.jar", body: text, stored: true},
		entry{name: "WEB-INF/lib/broken.jar", body: []byte("not a zip")},
	)
	ear := buildZip(t, entry{name: "shop.war", body: war}, entry{name: "lib/jackson-databind-2.9.8.jar", body: jar(t, "com.fasterxml.jackson.core", "jackson-databind", "2.9.8")})
	boot := buildZip(t,
		manifestEntry("Main-Class: org.springframework.boot.loader.JarLauncher", "Start-Class: com.example.Main"),
		pomProps("com.example", "api", "0.0.1-SNAPSHOT"),
		entry{name: "BOOT-INF/classes/com/example/Main.class", body: []byte{0xca, 0xfe}},
		entry{name: "BOOT-INF/lib/log4j-core-2.14.1.jar", body: log4j, stored: true},
		entry{name: "BOOT-INF/lib/spring-core-5.3.9.jar", body: jar(t, "org.springframework", "spring-core", "5.3.9"), stored: true},
	)

	tests := []struct {
		name  string
		path  string
		data  []byte
		want  []gav
		warns []string
	}{{
		name: "war with WEB-INF/lib",
		path: "srv/shop.war",
		data: war,
		want: []gav{
			{Group: "com.example", Name: "shop", Version: "1.0"},
			{Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", Location: "srv/shop.war!WEB-INF/lib/log4j-core-2.14.1.jar"},
			{Name: "commons-text", Version: "1.9", Location: "srv/shop.war!WEB-INF/lib/commons-text-1.9.jar"},
		},
		warns: []string{"WEB-INF/lib/broken.jar: no zip end-of-central-directory record"},
	}, {
		name: "ear holding a war holding jars",
		path: "opt/app.ear",
		data: ear,
		want: []gav{
			{Group: "com.example", Name: "shop", Version: "1.0", Location: "opt/app.ear!shop.war"},
			{Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", Location: "opt/app.ear!shop.war!WEB-INF/lib/log4j-core-2.14.1.jar"},
			{Name: "commons-text", Version: "1.9", Location: "opt/app.ear!shop.war!WEB-INF/lib/commons-text-1.9.jar"},
			{Group: "com.fasterxml.jackson.core", Name: "jackson-databind", Version: "2.9.8", Location: "opt/app.ear!lib/jackson-databind-2.9.8.jar"},
		},
		warns: []string{"shop.war!WEB-INF/lib/broken.jar: no zip end-of-central-directory record"},
	}, {
		name: "Spring Boot jar with stored BOOT-INF/lib",
		path: "app/app.jar",
		data: boot,
		want: []gav{
			{Group: "com.example", Name: "api", Version: "0.0.1-SNAPSHOT"},
			{Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", Location: "app/app.jar!BOOT-INF/lib/log4j-core-2.14.1.jar"},
			{Group: "org.springframework", Name: "spring-core", Version: "5.3.9", Location: "app/app.jar!BOOT-INF/lib/spring-core-5.3.9.jar"},
		},
	}, {
		name: "executable jar: launcher script before the zip, offsets relative to the zip",
		path: "app/app.jar",
		data: append([]byte("#!/bin/bash\nexec java -jar \"$0\" \"$@\"\n"), boot...),
		want: []gav{
			{Group: "com.example", Name: "api", Version: "0.0.1-SNAPSHOT"},
			{Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", Location: "app/app.jar!BOOT-INF/lib/log4j-core-2.14.1.jar"},
			{Group: "org.springframework", Name: "spring-core", Version: "5.3.9", Location: "app/app.jar!BOOT-INF/lib/spring-core-5.3.9.jar"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, New(), tt.path, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, gavs(res.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// nest wraps a jar n times: level i is l<i>.jar holding l<i+1>.jar.
func nest(t testing.TB, n int) []byte {
	b := jar(t, "org.example", fmt.Sprintf("l%d", n), "1.0")
	for i := n - 1; i >= 0; i-- {
		b = buildZip(t, pomProps("org.example", fmt.Sprintf("l%d", i), "1.0"), entry{name: fmt.Sprintf("l%d.jar", i+1), body: b})
	}
	return b
}

// TestLimits checks that hostile archives are cut off where the limits say,
// with a warning, and that ordinary ones are not.
func TestLimits(t *testing.T) {
	big := buildZip(t, pomProps("org.example", "big", "1.0"), entry{name: "data.bin", body: bytes.Repeat([]byte("0123456789abcdef"), 4096), stored: true})
	many := make([]entry, 0, 20)
	for i := range 20 {
		many = append(many, classEntry(fmt.Sprintf("c/C%d.class", i)))
	}
	tests := []struct {
		name    string
		lim     func(*limits)
		data    []byte
		names   []string // package names wanted
		warns   []string
		wantErr string
	}{{
		name:  "nesting is followed to the depth limit",
		data:  nest(t, 6),
		names: []string{"l0", "l1", "l2", "l3", "l4"},
		warns: []string{"l1.jar!l2.jar!l3.jar!l4.jar: 1 archives nested deeper than 4 levels skipped"},
	}, {
		name:  "a compressed nested archive above the inflate cap is skipped",
		lim:   func(l *limits) { l.maxNestedInflate = 32 << 10 },
		data:  buildZip(t, pomProps("org.example", "outer", "1"), entry{name: "lib/big-1.0.jar", body: big}),
		names: []string{"outer"},
		warns: []string{fmt.Sprintf("lib/big-1.0.jar: compressed nested archive of %d bytes exceeds the 32768-byte limit for inflating in memory; skipped", len(big))},
	}, {
		name:  "a stored nested archive above the inflate cap is read in place",
		lim:   func(l *limits) { l.maxNestedInflate = 32 << 10 },
		data:  buildZip(t, pomProps("org.example", "outer", "1"), entry{name: "lib/big-1.0.jar", body: big, stored: true}),
		names: []string{"outer", "big"},
	}, {
		name:  "the decompression budget stops further work",
		lim:   func(l *limits) { l.budget = int64(len(big)) + 8<<10 },
		data:  buildZip(t, entry{name: "a.jar", body: big}, entry{name: "b.jar", body: big}),
		names: []string{"big"},
		warns: []string{"b.jar: decompression budget for this file exhausted"},
	}, {
		name:  "nested archive count",
		lim:   func(l *limits) { l.maxArchives = 2 },
		data:  buildZip(t, entry{name: "a.jar", body: jar(t, "g", "a", "1")}, entry{name: "b.jar", body: jar(t, "g", "b", "1")}, entry{name: "c.jar", body: jar(t, "g", "c", "1")}),
		names: []string{"a", "b"},
		warns: []string{"more than 2 nested archives; the rest skipped"},
	}, {
		name:    "entry count",
		lim:     func(l *limits) { l.maxEntries = 10 },
		data:    buildZip(t, many...),
		wantErr: "java: read opt/x.jar: central directory lists 20 entries, more than the 10 read",
	}, {
		name:    "central directory size",
		lim:     func(l *limits) { l.maxCentralDir = 512 },
		data:    buildZip(t, many...),
		wantErr: "exceeds the 512-byte limit",
	}, {
		name:  "metadata size",
		lim:   func(l *limits) { l.maxMeta = 16 },
		data:  buildZip(t, pomProps("org.example", "x", "1")),
		warns: []string{fmt.Sprintf("META-INF/maven/org.example/x/pom.properties: %d bytes exceeds the 16-byte limit for metadata; skipped", len(pomProps("org.example", "x", "1").body))},
	}, {
		name:    "not a zip",
		data:    []byte("PK\x03\x04 truncated"),
		wantErr: "java: read opt/x.jar: no zip end-of-central-directory record (is it a complete zip archive?)",
	}, {
		name:    "truncated zip",
		data:    jar(t, "g", "a", "1")[:200],
		wantErr: "java: read opt/x.jar:",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := defaultLimits()
			if tt.lim != nil {
				tt.lim(&lim)
			}
			res, err := run(t, &extractor{lim: lim}, "opt/x.jar", tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range res.Packages {
				names = append(names, p.Name)
			}
			if diff := cmp.Diff(tt.names, names); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// overlapBomb returns a zip whose central directory names the same stored
// nested jar n times, so that every entry reads the same bytes.
func overlapBomb(t testing.TB, inner []byte, n int) []byte {
	b := buildZip(t, entry{name: "x.jar", body: inner, stored: true})
	end := len(b) - eocdLen
	dirSize := int(binary.LittleEndian.Uint32(b[end+12:]))
	dirOff := int(binary.LittleEndian.Uint32(b[end+16:]))
	rec := b[dirOff : dirOff+dirSize]
	out := append([]byte(nil), b[:dirOff]...)
	for range n {
		out = append(out, rec...)
	}
	eocd := append([]byte(nil), b[end:]...)
	binary.LittleEndian.PutUint16(eocd[8:], uint16(n))
	binary.LittleEndian.PutUint16(eocd[10:], uint16(n))
	binary.LittleEndian.PutUint32(eocd[12:], uint32(n*dirSize))
	return append(out, eocd...)
}

func TestOverlapBomb(t *testing.T) {
	inner := buildZip(t, pomProps("org.example", "inner", "1"), entry{name: "pad.bin", body: bytes.Repeat([]byte{1}, 8<<10)})
	lim := defaultLimits()
	lim.budget = 64 << 10
	res, err := run(t, &extractor{lim: lim}, "opt/bomb.jar", overlapBomb(t, inner, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Packages); n == 0 || n >= 1000 {
		t.Errorf("%d packages from 1000 overlapping entries, want some but far fewer", n)
	}
	if len(res.Warnings) != 1 || !strings.HasSuffix(res.Warnings[0], ": decompression budget for this file exhausted") {
		t.Errorf("warnings %q, want the budget once", res.Warnings)
	}
}

// TestZip64 builds an archive with more entries than the 16-bit count holds,
// which archive/zip writes with zip64 end records.
func TestZip64(t *testing.T) {
	const n = 70000
	entries := make([]entry, 0, n+1)
	entries = append(entries, pomProps("org.example", "huge", "1.0"))
	for i := range n - 1 {
		entries = append(entries, entry{name: fmt.Sprintf("c/%d", i), stored: true})
	}
	data := buildZip(t, entries...)
	cd, err := readCentralDir(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if cd.entries != n {
		t.Errorf("central directory entries %d, want %d", cd.entries, n)
	}
	res, err := run(t, New(), "opt/huge.jar", data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]gav{{Group: "org.example", Name: "huge", Version: "1.0"}}, gavs(res.Packages)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	lim := defaultLimits()
	lim.maxEntries = 65535
	if _, err := run(t, &extractor{lim: lim}, "opt/huge.jar", data); err == nil || !strings.Contains(err.Error(), "70000 entries") {
		t.Errorf("error %v, want the entry limit", err)
	}
}

func TestParseFileName(t *testing.T) {
	tests := []struct {
		in   string
		want fileName
	}{
		{"log4j-core-2.19.0.jar", fileName{"log4j-core-2.19.0", "log4j-core", "2.19.0"}},
		{"guava-31.1-jre.jar", fileName{"guava-31.1-jre", "guava", "31.1-jre"}},
		{"log4j-1.2-api-2.19.0.jar", fileName{"log4j-1.2-api-2.19.0", "log4j-1.2-api", "2.19.0"}},
		{"foo-1.0-rc-1.jar", fileName{"foo-1.0-rc-1", "foo", "1.0-rc-1"}},
		{"jetty-server-9.4.44.v20210927.jar", fileName{"jetty-server-9.4.44.v20210927", "jetty-server", "9.4.44.v20210927"}},
		{"log4j-core.jar", fileName{stem: "log4j-core"}},
		{"123.jar", fileName{stem: "123"}},
		{"-1.0.jar", fileName{stem: "-1.0"}},
		{"a b-1.0.jar", fileName{stem: "a b-1.0"}},
		{"noext", fileName{stem: "noext"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseFileName(tt.in), cmp.AllowUnexported(fileName{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBSNGroups(t *testing.T) {
	tests := []struct {
		bsn, artifact string
		want          []string
	}{
		{"com.fasterxml.jackson.core.jackson-databind", "jackson-databind", []string{"com.fasterxml.jackson.core", "com.fasterxml.jackson.core.jackson-databind"}},
		{"org.apache.logging.log4j.core", "log4j-core", []string{"org.apache.logging.log4j"}},
		{"com.google.guava", "guava", []string{"com.google", "com.google.guava"}},
		{"org.mongodb.bson", "bson", []string{"org.mongodb", "org.mongodb.bson"}},
		{"com.google.inject.servlet", "guice-servlet", nil},
		{"guava", "guava", nil},
		{"", "x", nil},
		{"not an id", "id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.bsn, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, bsnGroups(tt.bsn, tt.artifact)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
