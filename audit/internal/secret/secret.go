// Package secret recognises credentials in the places an image or a
// Dockerfile carries short text: environment variable and build argument
// names with their values, labels, and the command lines of build steps. It
// masks every value it reports. (Secrets inside image files are found by the
// audit/secrets extractor during the layer walk; this package only handles
// metadata.)
package secret

import (
	"regexp"
	"strings"
	"unicode"
)

// secretWords are name tokens that say a variable holds a credential.
var secretWords = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "PASS": true, "PWD": true, "PASSPHRASE": true,
	"SECRET": true, "SECRETS": true, "TOKEN": true, "TOKENS": true,
	"APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true, "CREDS": true,
	"PRIVATEKEY": true, "ACCESSKEY": true, "SECRETKEY": true, "AUTH": true, "AUTHTOKEN": true,
	"KEY": true, "KEYS": true,
}

// notSecretWords disqualify a name wherever they appear: public key
// material and fingerprints that official images set (GPG_KEY, GPG_KEYS,
// RABBITMQ_PGP_KEY_ID).
var notSecretWords = map[string]bool{
	"GPG": true, "PGP": true, "PUBLIC": true, "PUB": true, "FINGERPRINT": true, "KEYSERVER": true,
	"KEYRING": true, "CHECKSUM": true, "SHA": true, "SHA1": true, "SHA256": true, "SHA512": true, "MD5": true,
}

// notSecretSuffixes disqualify a name as its last token: the variable
// names a credential's file, length, type or switch, not the credential.
var notSecretSuffixes = map[string]bool{
	"ID": true, "IDS": true, "FILE": true, "PATH": true, "DIR": true, "NAME": true, "TYPE": true, "LENGTH": true,
	"LEN": true, "SIZE": true, "MODE": true, "HEADER": true, "FIELD": true, "PARAM": true, "ENABLED": true,
	"ENABLE": true, "DISABLED": true, "REQUIRED": true, "EXPIRY": true, "EXPIRES": true, "TTL": true,
	"TIMEOUT": true, "LOCATION": true, "ALGORITHM": true, "ALG": true, "FORMAT": true, "VERSION": true,
	"PREFIX": true, "SERVER": true, "HOST": true, "PORT": true, "USER": true, "USERNAME": true, "POLICY": true,
	"METHOD": true, "KIND": true, "COMMAND": true, "CMD": true, "ENDPOINT": true, "ISSUER": true,
	"AUDIENCE": true, "SCOPE": true, "SCOPES": true, "REGION": true, "URL": true, "URI": true, "LIFETIME": true,
	"ROTATION": true, "BITS": true, "STORE": true, "SOURCE": true, "PROVIDER": true, "VAR": true,
}

// words splits a name into upper-case tokens at non-alphanumerics and at
// lower-to-upper case changes: "dbPassword" -> DB PASSWORD, "API-KEY" ->
// API KEY.
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// IsSecretName reports whether a variable, argument or label name says it
// holds a credential: it has a token such as PASSWORD, SECRET, TOKEN or KEY
// (API_KEY, apiKey, DB_PASS), no token that marks public key material
// (GPG_KEY, PUBLIC_KEY), and does not end in a token that makes it about
// the credential rather than the credential itself (PASSWORD_FILE,
// TOKEN_URL, ACCESS_KEY_ID). "PWD" alone is the shell's working directory.
func IsSecretName(name string) bool {
	ws := words(name)
	if len(ws) == 0 {
		return false
	}
	if len(ws) == 1 && (ws[0] == "PWD" || ws[0] == "OLDPWD") {
		return false
	}
	if notSecretSuffixes[ws[len(ws)-1]] {
		return false
	}
	found := false
	for _, w := range ws {
		if notSecretWords[w] {
			return false
		}
		if secretWords[w] || strings.HasSuffix(w, "PASSWORD") || strings.HasSuffix(w, "SECRET") || strings.HasSuffix(w, "TOKEN") ||
			strings.HasSuffix(w, "APIKEY") {
			found = true
		}
	}
	return found
}

// IsLiteral reports whether a value is a literal that could be a
// credential: not empty, not a reference to another variable ($X, ${X}),
// not a file path, not a boolean or placeholder switch.
func IsLiteral(v string) bool {
	v = strings.TrimSpace(strings.Trim(v, `"'`))
	if v == "" || strings.HasPrefix(v, "$") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") ||
		strings.HasPrefix(v, "~/") {
		return false
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "nil", "empty", "unset", "-":
		return false
	}
	return true
}

// Mask hides a value: values of up to 8 characters become stars, longer
// ones keep their first 4 characters. At most 16 stars are written, so
// very long values (keys) do not flood the output.
func Mask(v string) string {
	rs := []rune(v)
	keep := 0
	if len(rs) > 8 {
		keep = 4
	}
	stars := len(rs) - keep
	if stars > 16 {
		stars = 16
	}
	return string(rs[:keep]) + strings.Repeat("*", stars)
}

// Match is one credential found in free text, with its value masked.
type Match struct {
	// Kind says what matched: "assignment", "url-password",
	// "authorization-header" or a token kind ("aws-access-key", ...).
	Kind     string
	Evidence string
}

var (
	assignRe = regexp.MustCompile(`(?:^|[\s'"|;&(])-{0,2}([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s'";&|)]*)`)
	flagRe   = regexp.MustCompile(`(?i)(?:^|\s)--(password|passwd|token|secret|api-key|apikey|access-token)\s+("[^"]*"|'[^']*'|[^\s'";&|)-][^\s'";&|)]*)`)
	urlRe    = regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.-]*)://([^/\s:@'"]+):([^/\s@'"]+)@([^/\s'"]*)`)
	authRe   = regexp.MustCompile(`(?i)authorization:\s*(bearer|basic|token)\s+([^\s'"\\]+)`)
	tokenRes = []struct {
		kind string
		re   *regexp.Regexp
	}{
		{"aws-access-key", regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
		{"github-token", regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}`)},
		{"gitlab-token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
		{"slack-token", regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}`)},
		{"slack-webhook", regexp.MustCompile(`hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+`)},
		{"stripe-key", regexp.MustCompile(`\b[rs]k_live_[0-9a-zA-Z]{20,}`)},
		{"private-key", regexp.MustCompile(`-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----`)},
	}
)

// MaxScan caps how much text Scan reads; longer text is cut.
const MaxScan = 256 << 10

// Scan finds credentials in free text such as a build step's command line:
// NAME=value assignments with a secret-looking name and a literal value,
// --password/--token flags, URLs with a password, Authorization headers and
// well-known token formats. Each match is reported once, masked.
func Scan(text string) []Match {
	if len(text) > MaxScan {
		text = text[:MaxScan]
	}
	var out []Match
	seen := map[string]bool{}
	add := func(kind, ev string) {
		if !seen[ev] {
			seen[ev] = true
			out = append(out, Match{Kind: kind, Evidence: ev})
		}
	}
	for _, m := range assignRe.FindAllStringSubmatch(text, -1) {
		if IsSecretName(m[1]) && IsLiteral(m[2]) {
			add("assignment", m[1]+"="+Mask(strings.Trim(m[2], `"'`)))
		}
	}
	for _, m := range flagRe.FindAllStringSubmatch(text, -1) {
		if IsLiteral(m[2]) {
			add("assignment", "--"+m[1]+" "+Mask(strings.Trim(m[2], `"'`)))
		}
	}
	for _, m := range urlRe.FindAllStringSubmatch(text, -1) {
		if IsLiteral(m[3]) {
			add("url-password", m[1]+"://"+m[2]+":"+Mask(m[3])+"@"+m[4])
		}
	}
	for _, m := range authRe.FindAllStringSubmatch(text, -1) {
		if IsLiteral(m[2]) {
			add("authorization-header", "Authorization: "+m[1]+" "+Mask(m[2]))
		}
	}
	for _, t := range tokenRes {
		for _, m := range t.re.FindAllString(text, -1) {
			if t.kind == "private-key" {
				add(t.kind, m)
				continue
			}
			add(t.kind, Mask(m))
		}
	}
	return out
}
