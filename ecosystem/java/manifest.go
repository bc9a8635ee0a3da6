package java

import (
	"strings"
)

// manifest holds the main section of a META-INF/MANIFEST.MF: the attributes
// that describe the archive itself. Later (per-entry) sections describe
// packages or files inside the archive and are ignored.
type manifest map[string]string

// parseManifest reads the main section of a JAR manifest (JAR File
// Specification, "Manifest Specification"): "Name: value" lines separated by
// CRLF, LF or CR; a line starting with one space continues the previous
// value; the first empty line ends the section. Attribute names are matched
// case-insensitively, as java.util.jar.Attributes does. Values that are
// localisation keys ("%bundleName") are dropped. Malformed lines are skipped.
func parseManifest(b []byte) manifest {
	m := manifest{}
	var key string
	var val strings.Builder
	flush := func() {
		if key != "" {
			m[key] = strings.TrimSpace(val.String()) // a repeated name: the last wins, as in java.util.jar
		}
		key = ""
		val.Reset()
	}
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' {
			if key != "" {
				val.Write(line[1:])
			}
			continue
		}
		flush()
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(k))
		val.WriteString(v)
	}
	flush()
	for k, v := range m {
		if v == "" || strings.HasPrefix(v, "%") {
			delete(m, k)
		}
	}
	return m
}

// cutLine splits off the first line, ending at CRLF, LF or a lone CR.
func cutLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		switch c {
		case '\n':
			return b[:i], b[i+1:]
		case '\r':
			if i+1 < len(b) && b[i+1] == '\n' {
				return b[:i], b[i+2:]
			}
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// get returns an attribute's value ("" when absent); name is matched
// case-insensitively.
func (m manifest) get(name string) string { return m[strings.ToLower(name)] }

// bundleSymbolicName returns Bundle-SymbolicName without its directives
// ("org.foo.bar;singleton:=true" -> "org.foo.bar").
func (m manifest) bundleSymbolicName() string {
	bsn, _, _ := strings.Cut(m.get("Bundle-SymbolicName"), ";")
	return strings.TrimSpace(bsn)
}

// licenses returns the license identifiers of the OSGi Bundle-License
// header: a comma-separated list of "name;attr=value" clauses, where commas
// inside double quotes do not separate. "<<EXTERNAL>>" (license kept outside
// the manifest) is dropped. Names are kept as written (an SPDX ID or a
// license URL); normalising them is the report's job.
func (m manifest) licenses() []string {
	h := m.get("Bundle-License")
	if h == "" {
		return nil
	}
	var out []string
	for _, clause := range splitUnquoted(h, ',') {
		name, _, _ := strings.Cut(clause, ";")
		name = strings.Trim(strings.TrimSpace(name), `"`)
		if name == "" || name == "<<EXTERNAL>>" {
			continue
		}
		out = append(out, name)
	}
	return out
}

// splitUnquoted splits s at sep outside double-quoted runs; a backslash
// inside quotes escapes the next byte.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	quoted := false
	from := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[from:i])
			from = i + 1
		}
	}
	return append(out, s[from:])
}
