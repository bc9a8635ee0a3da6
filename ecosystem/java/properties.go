package java

import (
	"strings"
	"unicode/utf8"
)

// parseProperties reads a Java .properties file as java.util.Properties.load
// does from a byte stream: ISO-8859-1 text; blank lines and lines whose first
// non-blank character is '#' or '!' are skipped; a line ending in an odd
// number of backslashes continues on the next line (leading blanks of the
// continuation dropped); the key ends at the first unescaped '=', ':' or
// blank, and blanks plus one '=' or ':' separate it from the value; escapes
// \t \n \r \f and \uXXXX are decoded and any other escaped character stands
// for itself. A repeated key keeps its last value, as Properties does.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	for len(b) > 0 {
		var logical []byte
		logical, b = nextLogicalLine(b)
		if len(logical) == 0 {
			continue
		}
		k, v := splitProperty(logical)
		out[k] = v
	}
	return out
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// nextLogicalLine returns the next non-comment logical line with its
// continuations joined (the joining backslash removed, escapes still raw).
func nextLogicalLine(b []byte) (line, rest []byte) {
	var raw []byte
	first := true
	for {
		var l []byte
		l, b = cutLine(b)
		i := 0
		for i < len(l) && isBlank(l[i]) {
			i++
		}
		l = l[i:]
		if first {
			if len(l) == 0 || l[0] == '#' || l[0] == '!' {
				return nil, b
			}
			first = false
		}
		// Count trailing backslashes: an odd count continues the line.
		n := 0
		for j := len(l) - 1; j >= 0 && l[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			raw = append(raw, l[:len(l)-1]...)
			if len(b) == 0 {
				return raw, b
			}
			continue
		}
		return append(raw, l...), b
	}
}

// splitProperty splits a logical line into its decoded key and value.
func splitProperty(l []byte) (key, value string) {
	i := 0
	for i < len(l) {
		c := l[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || isBlank(c) {
			break
		}
		i++
	}
	if i > len(l) {
		i = len(l)
	}
	k := l[:i]
	j := i
	for j < len(l) && isBlank(l[j]) {
		j++
	}
	if j < len(l) && (l[j] == '=' || l[j] == ':') {
		j++
		for j < len(l) && isBlank(l[j]) {
			j++
		}
	}
	return unescapeProperty(k), unescapeProperty(l[j:])
}

// unescapeProperty decodes ISO-8859-1 bytes and property escapes to UTF-8.
func unescapeProperty(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			if c != '\\' {
				sb.WriteRune(rune(c)) // ISO-8859-1: byte value is the code point
			}
			continue
		}
		i++
		switch b[i] {
		case 't':
			sb.WriteByte('\t')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 'f':
			sb.WriteByte('\f')
		case 'u':
			if i+4 < len(b) {
				if r, ok := hex4(b[i+1 : i+5]); ok {
					sb.WriteRune(r)
					i += 4
					continue
				}
			}
			sb.WriteRune(utf8.RuneError) // Properties rejects a malformed \u escape
		default:
			sb.WriteRune(rune(b[i]))
		}
	}
	return sb.String()
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
