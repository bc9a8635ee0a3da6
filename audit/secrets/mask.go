package secrets

import (
	"strings"
	"unicode/utf8"
)

// maxStars caps the stars a masked value shows, so that evidence stays short
// and hides the length of long secrets.
const maxStars = 16

// maxEvidence caps the length of one evidence string in bytes.
const maxEvidence = 160

// mask keeps at most the first four characters of a secret, and never more
// than a quarter of it, and replaces the rest with stars:
// "AKIAABCDEFGHIJKLMNOP" becomes "AKIA****************".
func mask(v string) string {
	keep := min(4, len(v)/4)
	// Do not cut a multi-byte character in two.
	for keep > 0 && !utf8.RuneStart(v[keep]) {
		keep--
	}
	stars := max(1, min(maxStars, len(v)-keep))
	return v[:keep] + strings.Repeat("*", stars)
}

// sanitize makes evidence safe to print on a terminal or embed in any
// report: control characters and invalid UTF-8 become '?', and the text is
// cut to maxEvidence bytes.
func sanitize(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxEvidence))
	for _, r := range s {
		if b.Len() >= maxEvidence {
			break
		}
		switch {
		case r == utf8.RuneError, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			b.WriteByte('?')
		case r == '\u2028', r == '\u2029', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			// line separators and bidirectional overrides
			b.WriteByte('?')
		default:
			if b.Len()+utf8.RuneLen(r) > maxEvidence {
				return b.String()
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// placeholder reports whether a matched value is a stand-in rather than a
// secret: a template reference ("${NPM_TOKEN}", "{{ .Token }}", "<token>",
// "%s", "$PASSWORD"), an already masked or filler value ("****", "xxxxx",
// "..."), or a value that says it is an example ("AKIAIOSFODNN7EXAMPLE",
// "your-api-key", "changeit-placeholder", "REDACTED").
func placeholder(v string) bool {
	if v == "" {
		return true
	}
	switch v[0] {
	case '$', '%', '<', '{', '[', '*':
		return true
	}
	if strings.Contains(v, "${") || strings.Contains(v, "{{") || strings.Contains(v, "***") || strings.Contains(v, "...") {
		return true
	}
	if repeated(v) {
		return true
	}
	return exampleWord(v)
}

// exampleWord reports whether v carries a word that marks documentation.
func exampleWord(v string) bool {
	l := strings.ToLower(v)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// placeholderIn is placeholder for a value found in the file at p. In a
// dedicated credential file (~/.aws/credentials, .npmrc, .docker/config.json,
// ...) a key is there to be used, so a value that merely looks like a
// documentation example (AWS's AKIAIOSFODNN7EXAMPLE) is still reported;
// template references and masks are not.
func placeholderIn(p, v string) bool {
	if !credentialFile(p) {
		return placeholder(v)
	}
	return placeholder(v) && !exampleWord(v)
}

// credentialFile reports whether p is a file whose purpose is to hold
// credentials.
func credentialFile(p string) bool {
	base := p[strings.LastIndexByte(p, '/')+1:]
	switch base {
	case ".npmrc", ".pypirc", ".git-credentials", ".netrc", ".pgpass":
		return true
	case "credentials":
		return strings.HasSuffix(p, ".aws/credentials")
	case "config.json":
		return strings.HasSuffix(p, ".docker/config.json")
	}
	return base == ".env" || strings.HasPrefix(base, ".env.")
}

// placeholderWords mark documentation and template values.
var placeholderWords = [...]string{"example", "xxxxx", "your_", "your-", "yourpass", "yourtoken", "yoursecret", "placeholder", "redacted", "dummy", "replace_me", "replace-me", "insert_", "<"}

// repeated reports whether v is one character repeated.
func repeated(v string) bool {
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			return false
		}
	}
	return true
}

// knownPublic reports values that are published as public on purpose and are
// not secrets in any image: the Azure Storage emulator (Azurite) account
// key, which Microsoft documents for local development.
func knownPublic(v string) bool {
	switch v {
	case "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==":
		return true
	}
	return false
}
