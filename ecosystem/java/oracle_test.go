package java

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// javaOracle runs testdata/oracle/Oracle.java once over all inputs (mode
// "props" or "manifest" for each) and returns, per input, the entries Java
// read (nil when Java rejected the file).
func javaOracle(t *testing.T, modes []string, inputs [][]byte) []map[string]string {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java missing: apt-get install default-jdk-headless")
	}
	dir := t.TempDir()
	// Quick start-up: the oracle runs once, briefly.
	args := []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", filepath.Join("testdata", "oracle", "Oracle.java")}
	for i, in := range inputs {
		p := filepath.Join(dir, fmt.Sprintf("%05d", i))
		if err := os.WriteFile(p, in, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, modes[i]+":"+p)
	}
	out, err := exec.Command("java", args...).Output()
	if err != nil {
		t.Fatalf("java Oracle.java: %v", err)
	}
	res := make([]map[string]string, len(inputs))
	cur := -1
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if name, ok := strings.CutPrefix(line, "== "); ok {
			cur++
			if filepath.Base(name) != fmt.Sprintf("%05d", cur) {
				t.Fatalf("oracle output out of order at %q", line)
			}
			res[cur] = map[string]string{}
			continue
		}
		if line == "!error" {
			res[cur] = nil
			continue
		}
		k, v, _ := strings.Cut(line, "\t")
		res[cur][unhex(t, k)] = unhex(t, v)
	}
	if cur != len(inputs)-1 {
		t.Fatalf("oracle answered %d of %d inputs", cur+1, len(inputs))
	}
	return res
}

// unhex decodes the oracle's UTF-16 hex strings.
func unhex(t *testing.T, s string) string {
	units := make([]uint16, 0, len(s)/4)
	for i := 0; i+4 <= len(s); i += 4 {
		var u uint16
		if _, err := fmt.Sscanf(s[i:i+4], "%04x", &u); err != nil {
			t.Fatalf("oracle hex %q: %v", s, err)
		}
		units = append(units, u)
	}
	return string(utf16.Decode(units))
}

// genProperties writes a properties file from pieces that exercise the
// grammar: separators, blanks, comments, continuations, escapes and
// ISO-8859-1 bytes.
func genProperties(r *rand.Rand) []byte {
	keys := []string{"groupId", "artifactId", "version", "a\\ b", "k\\=x", "k\\:y", "\\#notcomment", "x", "ünï", "k\\u0041"}
	seps := []string{"=", ":", " ", " = ", "\t:\t", "  ", "=\\\n   ", ":"}
	vals := []string{"2.19.0", "org.apache.logging.log4j", "", "a b ", "\\u00e9t\\u00E9", "tab\\there", "x\\\\", "\\\n  continued", "line\\\r\n next", "caf\xe9", "=eq", "\\\\\\\n odd", "#hash", "\\q\\!", "${project.version}"}
	ends := []string{"\n", "\r\n", "\r"}
	var b strings.Builder
	for i, n := 0, 1+r.IntN(6); i < n; i++ {
		switch r.IntN(8) {
		case 0:
			b.WriteString("# comment \\\n")
		case 1:
			b.WriteString("   ! bang comment\n")
		case 2:
			b.WriteString("   \n")
		}
		b.WriteString(strings.Repeat(" ", r.IntN(3)))
		b.WriteString(keys[r.IntN(len(keys))])
		b.WriteString(seps[r.IntN(len(seps))])
		b.WriteString(vals[r.IntN(len(vals))])
		if i < n-1 || r.IntN(2) == 0 {
			b.WriteString(ends[r.IntN(len(ends))])
		}
	}
	return []byte(b.String())
}

// genManifest writes a manifest main section (plus sometimes a second
// section) with wrapped values and mixed line ends.
func genManifest(r *rand.Rand) []byte {
	names := []string{"Implementation-Title", "implementation-version", "Bundle-SymbolicName", "Bundle-Version",
		"Bundle-License", "Implementation-Vendor-Id", "Short-Name", "Created-By", "X-Extra_1"}
	vals := []string{"Apache Log4j Core", "2.19.0", "org.apache.logging.log4j.core;singleton:=true", "%bundle.name",
		`"Apache-2.0";link="https://www.apache.org/licenses/LICENSE-2.0.txt", MIT`, "org.apache", "a:b: c", " lead", "é ü"}
	ends := []string{"\r\n", "\n", "\r"}
	end := ends[r.IntN(len(ends))]
	var b strings.Builder
	b.WriteString("Manifest-Version: 1.0" + end)
	for i, n := 0, 1+r.IntN(6); i < n; i++ {
		name := names[r.IntN(len(names))]
		line := name + ": " + vals[r.IntN(len(vals))]
		// Wrap at random points after the name (java.util.jar wants the
		// name and ": " on one line); the continuation starts with one space.
		for first := len(name) + 2; len(line) > first && r.IntN(3) == 0; first = 1 {
			cut := first + r.IntN(len(line)-first)
			for cut < len(line) && line[cut]&0xc0 == 0x80 {
				cut++ // never split a UTF-8 sequence
			}
			b.WriteString(line[:cut] + end + " ")
			line = line[cut:]
		}
		b.WriteString(line + end)
	}
	if r.IntN(3) == 0 {
		b.WriteString(end + "Name: org/example/" + end + "Implementation-Version: 9.9.9" + end)
	}
	b.WriteString(end)
	return []byte(b.String())
}

// TestParsersMatchJava compares parseProperties with
// java.util.Properties.load and parseManifest with java.util.jar.Manifest on
// generated files, in one JVM run.
func TestParsersMatchJava(t *testing.T) {
	const nProps, nManifests = 1500, 1000
	r := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	var modes []string
	for range nProps {
		inputs, modes = append(inputs, genProperties(r)), append(modes, "props")
	}
	for range nManifests {
		inputs, modes = append(inputs, genManifest(r)), append(modes, "manifest")
	}
	want := javaOracle(t, modes, inputs)

	t.Run("properties", func(t *testing.T) {
		compared := 0
		for i, in := range inputs[:nProps] {
			got := parseProperties(in)
			if want[i] == nil {
				continue // Java rejects it (a malformed \u escape); only no panic is required
			}
			compared++
			if diff := cmp.Diff(want[i], got); diff != "" {
				t.Errorf("input %q (-java +vigil):\n%s", in, diff)
			}
		}
		if compared < nProps/2 {
			t.Fatalf("only %d of %d inputs compared", compared, nProps)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		compared, attrs := 0, 0
		for i, in := range inputs[nProps:] {
			got := parseManifest(in)
			w := want[nProps+i]
			if w == nil {
				continue
			}
			compared++
			// vigil trims values and drops localisation keys ("%name").
			trimmed := map[string]string{}
			for k, v := range w {
				if v = strings.TrimSpace(v); v != "" && !strings.HasPrefix(v, "%") {
					trimmed[k] = v
				}
			}
			attrs += len(trimmed)
			if diff := cmp.Diff(trimmed, map[string]string(got)); diff != "" {
				t.Errorf("input %q (-java +vigil):\n%s", in, diff)
			}
		}
		if compared < nManifests*9/10 || attrs < compared {
			t.Fatalf("only %d of %d inputs compared, %d attributes", compared, nManifests, attrs)
		}
	})
}
