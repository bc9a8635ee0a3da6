// Package license tells SPDX license identifiers and expressions from the
// free-text license names packages declare ("GPL-2+", "BSD-3-clause",
// "Apache License 2.0"), so that the SBOM encoders write an identifier
// where the SBOM formats accept one and a name or a LicenseRef otherwise.
//
// The identifier list (ids.txt, license and exception IDs) is the SPDX
// license list exactly as the CycloneDX 1.6 JSON schema enumerates it, so an
// ID this package accepts always passes that schema.
package license

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed ids.txt
var idsText string

// ids maps lowercased identifiers to their canonical spelling; built once,
// never modified.
var ids = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, id := range strings.Fields(idsText) {
		m[strings.ToLower(id)] = id
	}
	return m
})

// MaxLen is the longest license string considered for an identifier or
// expression; longer ones are names.
const MaxLen = 1024

// ID returns the canonical spelling of an SPDX license or exception
// identifier, matched case-insensitively, and whether s is one.
func ID(s string) (string, bool) {
	id, ok := ids()[strings.ToLower(strings.TrimSpace(s))]
	return id, ok
}

// Expression parses s as an SPDX license expression (identifiers, a "+"
// suffix, LicenseRef-/DocumentRef- references, AND, OR, WITH and
// parentheses; operators in any case) and returns it normalised: canonical
// identifiers, uppercase operators, single spaces. ok is false when s is not
// a valid expression or names an identifier not on the list.
func Expression(s string) (norm string, ok bool) {
	if len(s) > MaxLen {
		return "", false
	}
	toks, ok := tokenize(s)
	if !ok || len(toks) == 0 {
		return "", false
	}
	p := parser{toks: toks}
	if !p.expr(0) || p.i != len(toks) {
		return "", false
	}
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && t != ")" && toks[i-1] != "(" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String(), true
}

// IsCompound reports whether a normalised expression has an operator, as
// opposed to being a single identifier or reference.
func IsCompound(expr string) bool { return strings.ContainsAny(expr, " (") }

// tokenize splits on white space and parentheses, normalising operators and
// identifiers as it goes.
func tokenize(s string) ([]string, bool) {
	var toks []string
	for _, field := range strings.Fields(s) {
		for field != "" {
			switch field[0] {
			case '(', ')':
				toks = append(toks, field[:1])
				field = field[1:]
				continue
			}
			end := strings.IndexAny(field, "()")
			if end < 0 {
				end = len(field)
			}
			word := field[:end]
			field = field[end:]
			t, ok := normWord(word, len(toks) > 0 && toks[len(toks)-1] == "WITH")
			if !ok {
				return nil, false
			}
			toks = append(toks, t)
		}
	}
	return toks, true
}

func normWord(w string, afterWith bool) (string, bool) {
	switch up := strings.ToUpper(w); up {
	case "AND", "OR", "WITH":
		return up, true
	}
	plus := ""
	if !afterWith && strings.HasSuffix(w, "+") {
		w, plus = w[:len(w)-1], "+"
	}
	if !idChars(w) {
		return "", false
	}
	if ref, ok := licenseRef(w); ok {
		return ref + plus, true
	}
	id, ok := ID(w)
	if !ok {
		return "", false
	}
	return id + plus, true
}

// licenseRef accepts "LicenseRef-x" and "DocumentRef-x:LicenseRef-y".
func licenseRef(w string) (string, bool) {
	doc, lic, hasDoc := strings.Cut(w, ":")
	if !hasDoc {
		lic, doc = doc, ""
	}
	rest, ok := cutPrefixFold(lic, "LicenseRef-")
	if !ok || rest == "" {
		return "", false
	}
	out := "LicenseRef-" + rest
	if hasDoc {
		d, ok := cutPrefixFold(doc, "DocumentRef-")
		if !ok || d == "" {
			return "", false
		}
		out = "DocumentRef-" + d + ":" + out
	}
	return out, true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func idChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

// parser is a recursive-descent recogniser of
//
//	expr   = term *("OR" term)
//	term   = factor *("AND" factor)
//	factor = "(" expr ")" / license ["WITH" exception]
type parser struct {
	toks []string
	i    int
}

// maxDepth bounds parenthesis nesting.
const maxDepth = 64

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) expr(depth int) bool {
	if depth > maxDepth || !p.term(depth) {
		return false
	}
	for p.peek() == "OR" {
		p.i++
		if !p.term(depth) {
			return false
		}
	}
	return true
}

func (p *parser) term(depth int) bool {
	if !p.factor(depth) {
		return false
	}
	for p.peek() == "AND" {
		p.i++
		if !p.factor(depth) {
			return false
		}
	}
	return true
}

func (p *parser) factor(depth int) bool {
	switch t := p.peek(); t {
	case "(":
		p.i++
		if !p.expr(depth+1) || p.peek() != ")" {
			return false
		}
		p.i++
		return true
	case "", ")", "AND", "OR", "WITH":
		return false
	}
	p.i++
	if p.peek() == "WITH" {
		p.i++
		switch p.peek() {
		case "", "(", ")", "AND", "OR", "WITH":
			return false
		}
		p.i++
	}
	return true
}
