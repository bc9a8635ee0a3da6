package java

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// debianJars returns the regular jar files Debian's Java packages
// installed, skipping the test when liblog4j2-java and
// libjackson2-databind-java are not installed.
func debianJars(t *testing.T) []string {
	t.Helper()
	const dir = "/usr/share/java"
	for _, need := range []string{"log4j-core.jar", "jackson-databind.jar"} {
		if _, err := os.Stat(filepath.Join(dir, need)); err != nil {
			t.Skipf("%s missing: apt-get install liblog4j2-java libjackson2-databind-java", need)
		}
	}
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Skip("unzip missing: apt-get install unzip")
	}
	all, err := filepath.Glob(filepath.Join(dir, "*.jar"))
	if err != nil {
		t.Fatal(err)
	}
	var jars []string
	for _, p := range all {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
			jars = append(jars, p)
		}
	}
	return jars
}

var oraclePom = regexp.MustCompile(`^META-INF/maven/[^/]+/[^/]+/pom\.properties$`)

// unzipPoms asks Info-ZIP's unzip for the coordinates in a jar's
// pom.properties files.
func unzipPoms(t *testing.T, jar string) []coords {
	t.Helper()
	list, err := exec.Command("unzip", "-Z1", jar).Output()
	if err != nil {
		t.Fatalf("unzip -Z1 %s: %v", jar, err)
	}
	var out []coords
	for _, name := range strings.Split(string(list), "\n") {
		if !oraclePom.MatchString(name) {
			continue
		}
		body, err := exec.Command("unzip", "-p", jar, name).Output()
		if err != nil {
			t.Fatalf("unzip -p %s %s: %v", jar, name, err)
		}
		var c coords
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			switch k {
			case "groupId":
				c.Group = v
			case "artifactId":
				c.Artifact = v
			case "version":
				c.Version = v
			}
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// TestDebianJars compares the packages found in every jar Debian installed
// under /usr/share/java with the pom.properties that unzip prints.
func TestDebianJars(t *testing.T) {
	jars := debianJars(t)
	ex := New()
	withPoms := 0
	for _, jar := range jars {
		t.Run(filepath.Base(jar), func(t *testing.T) {
			want := unzipPoms(t, jar)
			res, err := runFile(t, ex, jar, strings.TrimPrefix(jar, "/"))
			if err != nil {
				t.Fatal(err)
			}
			var got, extra []coords
			for _, p := range res.Packages {
				if len(p.Locations) != 0 {
					t.Errorf("package %s of a jar without nesting has Locations %v", p.Name, p.Locations)
				}
				c := coords{p.Group, p.Name, p.Version}
				if slices.Contains(want, c) {
					got = append(got, c)
				} else {
					extra = append(extra, c)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pom.properties packages differ from unzip (-unzip +vigil):\n%s", diff)
			}
			// Beyond pom.properties, at most the jar's own identity.
			if len(extra) > 1 {
				t.Errorf("more than one package beyond pom.properties: %v", extra)
			}
			for _, c := range extra {
				if c.Artifact == "" || c.Version == "" {
					t.Errorf("incomplete fallback package %+v", c)
				}
				t.Logf("identified from manifest/file name: %+v", c)
			}
			if len(want) > 0 {
				withPoms++
			}
			for _, w := range res.Warnings {
				t.Logf("warning: %s", w)
			}
		})
	}
	if withPoms == 0 {
		t.Fatal("no jar with pom.properties found")
	}
}

// TestDebianLog4j pins the jars the issue names.
func TestDebianLog4j(t *testing.T) {
	debianJars(t)
	tests := []struct {
		jar  string
		want []gav
	}{
		{"log4j-core.jar", []gav{{Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.19.0"}}},
		{"log4j-api.jar", []gav{{Group: "org.apache.logging.log4j", Name: "log4j-api", Version: "2.19.0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.jar, func(t *testing.T) {
			p := filepath.Join("/usr/share/java", tt.jar)
			res, err := runFile(t, New(), p, strings.TrimPrefix(p, "/"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, gavs(res.Packages)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDebianJarsNested packs real Debian jars into a war (compressed, as
// maven-war-plugin writes them) inside an ear, and into a Spring Boot jar
// (stored), and checks that each nested jar yields what it yields on its
// own, at its nested location.
func TestDebianJarsNested(t *testing.T) {
	debianJars(t)
	names := []string{"log4j-core.jar", "log4j-api.jar", "jackson-databind.jar", "guava.jar", "commons-logging-1.2.jar"}
	ex := New()
	alone := map[string][]gav{}
	var warLibs, bootLibs []entry
	for _, n := range names {
		p := filepath.Join("/usr/share/java", n)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Skipf("%s: %v", n, err)
		}
		res, err := run(t, ex, "x/"+n, b)
		if err != nil {
			t.Fatal(err)
		}
		alone[n] = gavs(res.Packages)
		warLibs = append(warLibs, entry{name: "WEB-INF/lib/" + n, body: b})
		bootLibs = append(bootLibs, entry{name: "BOOT-INF/lib/" + n, body: b, stored: true})
	}
	war := buildZip(t, append([]entry{pomProps("com.example", "shop", "1.0")}, warLibs...)...)
	ear := buildZip(t, entry{name: "shop.war", body: war})
	boot := buildZip(t, append([]entry{pomProps("com.example", "api", "2.0")}, bootLibs...)...)

	tests := []struct {
		name, path string
		data       []byte
		own        gav
		prefix     string
	}{
		{"ear", "srv/app.ear", ear, gav{Group: "com.example", Name: "shop", Version: "1.0", Location: "srv/app.ear!shop.war"}, "srv/app.ear!shop.war!WEB-INF/lib/"},
		{"spring boot", "app/app.jar", boot, gav{Group: "com.example", Name: "api", Version: "2.0"}, "app/app.jar!BOOT-INF/lib/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []gav{tt.own}
			for _, n := range names {
				for _, g := range alone[n] {
					g.Location = tt.prefix + n
					want = append(want, g)
				}
			}
			res, err := run(t, ex, tt.path, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, gavs(res.Packages)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %q", res.Warnings)
			}
		})
	}
}

// BenchmarkDebianJars measures extraction over every jar in /usr/share/java.
func BenchmarkDebianJars(b *testing.B) {
	const dir = "/usr/share/java"
	all, _ := filepath.Glob(filepath.Join(dir, "*.jar"))
	var datas [][]byte
	total := 0
	for _, p := range all {
		if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
			continue
		}
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		datas = append(datas, d)
		total += len(d)
	}
	if len(datas) == 0 {
		b.Skip("no jars in /usr/share/java")
	}
	ex := New()
	b.SetBytes(int64(total))
	b.ResetTimer()
	for range b.N {
		for _, d := range datas {
			if _, err := run(b, ex, "usr/share/java/x.jar", d); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(datas)), "jars/op")
}
