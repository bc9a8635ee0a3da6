package ruby

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// parseGemspec reads the name, version and licenses of an installed gem
// specification. It understands the assignments RubyGems writes, on one
// line each, with any receiver name:
//
//	s.name = "rake".freeze          (also 'rake', %q{rake}, %Q(rake))
//	s.version = "13.0.6"            (also Gem::Version.new("13.0.6"))
//	s.licenses = ["MIT".freeze]     (also s.license = "MIT")
//
// and the "# stub: NAME VERSION PLATFORM PATHS" header RubyGems puts on
// installed specifications, which stands in for a name or version that is
// not a literal.
func parseGemspec(b []byte) (gem, error) {
	var g gem
	var stubName, stubVersion string
	haveLicenses := false
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		l := strings.TrimSpace(string(line))
		if rest, ok := strings.CutPrefix(l, "# stub:"); ok && stubName == "" {
			if f := strings.Fields(rest); len(f) >= 2 {
				stubName, stubVersion = f[0], f[1]
			}
			continue
		}
		attr, rest, ok := assignment(l)
		if !ok {
			continue
		}
		switch attr {
		case "name":
			if g.Name == "" {
				g.Name, _, _ = literal(rest)
			}
		case "version":
			if g.Version == "" {
				v := rest
				if r, ok := strings.CutPrefix(v, "Gem::Version.new"); ok {
					v = strings.TrimLeft(strings.TrimSpace(r), "( ")
				}
				g.Version, _, _ = literal(v)
			}
		case "licenses", "license":
			if !haveLicenses {
				g.Licenses, haveLicenses = literalList(rest), true
			}
		}
	}
	if !validName(g.Name) && validName(stubName) {
		g.Name = stubName
	}
	if !validVersion(g.Version) && validVersion(stubVersion) {
		g.Version = stubVersion
	}
	switch {
	case !validName(g.Name):
		return gem{}, errors.New("no literal gem name (s.name = \"...\")")
	case !validVersion(g.Version):
		return gem{}, fmt.Errorf("gem %s: no literal version (s.version = \"...\")", g.Name)
	}
	return g, nil
}

// assignment splits "recv.attr = rest" for the attributes read, where recv
// is a Ruby identifier.
func assignment(l string) (attr, rest string, ok bool) {
	dot := strings.IndexByte(l, '.')
	if dot <= 0 || !isIdent(l[:dot]) {
		return "", "", false
	}
	after := l[dot+1:]
	for _, a := range []string{"name", "version", "licenses", "license"} {
		r, found := strings.CutPrefix(after, a)
		if !found {
			continue
		}
		r = strings.TrimLeft(r, " \t")
		if !strings.HasPrefix(r, "=") || strings.HasPrefix(r, "==") || strings.HasPrefix(r, "=~") {
			continue
		}
		return a, strings.TrimSpace(r[1:]), true
	}
	return "", "", false
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// closing gives the closing delimiter of a %q literal.
var closing = map[byte]byte{'{': '}', '(': ')', '[': ']', '<': '>'}

// literal reads the Ruby string literal at the start of s and returns its
// value and the text after it (past a ".freeze"). ok is false for anything
// else, and for a double-quoted string that interpolates ("#{...}").
func literal(s string) (val, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	var open, close byte
	interp := false
	switch {
	case s[0] == '"' || s[0] == '\'':
		open, close, interp = s[0], s[0], s[0] == '"'
		s = s[1:]
	case strings.HasPrefix(s, "%q") || strings.HasPrefix(s, "%Q"):
		if len(s) < 3 {
			return "", "", false
		}
		interp = s[1] == 'Q'
		open = s[2]
		if c, paired := closing[open]; paired {
			close = c
		} else if open < '!' || open > '~' || isIdent(string(open)) {
			return "", "", false
		} else {
			close = open
		}
		s = s[3:]
	default:
		return "", "", false
	}
	var sb strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			n := s[i]
			if !interp && n != close && n != '\\' && n != open {
				sb.WriteByte('\\') // single quotes keep other backslashes
			}
			sb.WriteByte(n)
		case c == close && depth == 0:
			rest = strings.TrimPrefix(s[i+1:], ".freeze")
			return sb.String(), rest, true
		case c == close:
			depth--
			sb.WriteByte(c)
		case c == open && open != close:
			depth++
			sb.WriteByte(c)
		case interp && c == '#' && i+1 < len(s) && s[i+1] == '{':
			return "", "", false
		default:
			sb.WriteByte(c)
		}
	}
	return "", "", false // unterminated
}

// literalList reads `["a".freeze, "b"]` or a single literal.
func literalList(s string) []string {
	var out []string
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") {
		if v, _, ok := literal(s); ok && v != "" {
			out = append(out, v)
		}
		return out
	}
	s = s[1:]
	for {
		s = strings.TrimLeft(s, " \t")
		v, rest, ok := literal(s)
		if !ok {
			return out
		}
		if v != "" {
			out = append(out, v)
		}
		s = strings.TrimLeft(rest, " \t")
		if !strings.HasPrefix(s, ",") {
			return out
		}
		s = s[1:]
	}
}
