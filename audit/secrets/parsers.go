package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// minKeyBody is how many base64 characters must follow a private key header
// for it to count as a key rather than code or prose that names the header.
const minKeyBody = 40

// findPrivateKeys reports PEM, OpenSSH and PGP private key blocks: a
// "-----BEGIN ... PRIVATE KEY-----" (or "PRIVATE KEY BLOCK") header followed,
// after optional "Name: value" armour headers, by a base64 body. Line breaks
// may be real or written as "\n" inside a string literal (JSON, YAML, code).
func findPrivateKeys(data []byte, add func(hit) bool) {
	const begin = "-----BEGIN "
	off := 0
	for {
		i := bytes.Index(data[off:], []byte(begin))
		if i < 0 {
			return
		}
		start := off + i
		label := start + len(begin)
		off = label
		j := bytes.Index(data[label:min(len(data), label+48)], []byte("-----"))
		if j < 0 || !privateLabel(data[label:label+j]) {
			continue
		}
		hdrEnd := label + j + len("-----")
		off = hdrEnd
		body := skipArmourHeaders(data, hdrEnd)
		run := 0
		for body+run < len(data) && isBase64(data[body+run]) {
			run++
		}
		if run < minKeyBody {
			continue
		}
		off = body + run
		h := hit{start: start, end: body + run, pre: string(data[start:hdrEnd]) + " ", value: string(data[body : body+min(run, 64)])}
		if !add(h) {
			return
		}
	}
}

// privateLabel accepts "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY",
// "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"
// and the like: capitals and spaces, ending in PRIVATE KEY (BLOCK).
func privateLabel(l []byte) bool {
	for _, c := range l {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != ' ' {
			return false
		}
	}
	return bytes.HasSuffix(l, []byte("PRIVATE KEY")) || bytes.HasSuffix(l, []byte("PRIVATE KEY BLOCK"))
}

// skipArmourHeaders returns the offset of the first body byte after a PEM
// or PGP header line: line breaks (real or escaped) and up to eight
// "Name: value" header lines ("Proc-Type: 4,ENCRYPTED", "Version: GnuPG")
// are skipped.
func skipArmourHeaders(data []byte, i int) int {
	i = skipBreaks(data, i)
	for n := 0; n < 8; n++ {
		k := i
		for k < len(data) && k-i < 32 && (data[k] >= 'A' && data[k] <= 'Z' || data[k] >= 'a' && data[k] <= 'z' || data[k] == '-') {
			k++
		}
		if k == i || k+1 >= len(data) || data[k] != ':' || data[k+1] != ' ' {
			return i
		}
		// Skip to the end of the header line.
		for k < len(data) && data[k] != '\n' && !(data[k] == '\\' && k+1 < len(data) && data[k+1] == 'n') {
			k++
		}
		i = skipBreaks(data, k)
	}
	return i
}

// skipBreaks skips white space and escaped line breaks ("\n", "\r\n",
// "\\n").
func skipBreaks(data []byte, i int) int {
	for i < len(data) {
		switch c := data[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '\\':
			k := i
			for k < len(data) && data[k] == '\\' {
				k++
			}
			if k < len(data) && (data[k] == 'n' || data[k] == 'r') {
				i = k + 1
				continue
			}
			return i
		default:
			return i
		}
	}
	return i
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// findGCP reports a Google Cloud service account key: a JSON object with
// "type": "service_account" and a "private_key" holding a PEM key. The
// evidence names the account and masks the key ID; the hit spans the
// private key, so the PEM rule does not report it a second time.
func findGCP() func(data []byte, add func(hit) bool) {
	typ := regexp.MustCompile(`"type"\s*:\s*"service_account"`)
	key := regexp.MustCompile(`"private_key"\s*:\s*"(-----BEGIN [A-Z ]*PRIVATE KEY-----[^"]{40,})"`)
	keyID := regexp.MustCompile(`"private_key_id"\s*:\s*"([^"\\]{8,})"`)
	email := regexp.MustCompile(`"client_email"\s*:\s*"([^"\\\s@]{1,64}@[^"\\\s]{1,128})"`)
	return func(data []byte, add func(hit) bool) {
		if !typ.Match(data) {
			return
		}
		m := key.FindSubmatchIndex(data)
		if m == nil {
			return
		}
		h := hit{start: m[0], end: m[1], pre: "service account "}
		if e := email.FindSubmatch(data); e != nil {
			h.pre += string(e[1]) + " "
		}
		if id := keyID.FindSubmatch(data); id != nil {
			h.pre += "private_key_id "
			h.value = string(id[1])
		} else {
			h.pre += "private_key "
			body := data[skipBreaks(data, m[2]+bytes.Index(data[m[2]:], []byte("KEY-----"))+len("KEY-----")):m[3]]
			h.value = string(body[:min(len(body), 64)])
		}
		add(h)
	}
}

// dockerConfigFile selects docker's config.json, the legacy .dockercfg and
// the auth.json of podman, buildah and skopeo.
func dockerConfigFile(p string) bool {
	switch b := baseName(p); b {
	case "config.json":
		return strings.HasSuffix(p, ".docker/config.json")
	case ".dockercfg":
		return true
	case "auth.json":
		return strings.Contains(p, "containers/")
	}
	return false
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	Password      string `json:"password"`
	RegistryToken string `json:"registrytoken"`
}

// findDockerAuth reports the credentials stored in "auths" (or, in the
// legacy .dockercfg, at the top level): "auth" (base64 of user:password)
// with a non-empty password, "identitytoken", "password", "registrytoken".
func findDockerAuth(data []byte, add func(hit) bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return
	}
	section, prefix := top, ""
	if raw, ok := top["auths"]; ok {
		section, prefix = nil, "auths"
		if json.Unmarshal(raw, &section) != nil {
			return
		}
	}
	regs := make([]string, 0, len(section))
	for r := range section {
		regs = append(regs, r)
	}
	slices.Sort(regs)
	for _, reg := range regs {
		var a dockerAuth
		if json.Unmarshal(section[reg], &a) != nil {
			continue
		}
		for _, f := range [...]struct{ name, v string }{{"auth", a.Auth}, {"identitytoken", a.IdentityToken}, {"password", a.Password}, {"registrytoken", a.RegistryToken}} {
			if f.v == "" || f.name == "auth" && !authHasPassword(f.v) {
				continue
			}
			start := bytes.Index(data, []byte(`"`+f.v+`"`)) + 1
			if start <= 0 {
				start = max(0, bytes.Index(data, []byte(reg)))
			}
			pre := prefix + "[" + jsonQuote(reg) + "]." + f.name + ": "
			if prefix == "" {
				pre = "[" + jsonQuote(reg) + "]." + f.name + ": "
			}
			if !add(hit{start: start, end: start + len(f.v), pre: pre, value: f.v}) {
				return
			}
		}
	}
}

// authHasPassword reports whether a docker "auth" value holds a password:
// base64 of "user:password" with a non-empty password. Values that do not
// decode are reported as they are (they are still credentials).
func authHasPassword(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return true
	}
	_, pw, ok := bytes.Cut(b, []byte{':'})
	return ok && len(pw) > 0
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// npmrcFile selects per-user, per-project and global npm configuration.
func npmrcFile(p string) bool {
	b := baseName(p)
	return b == ".npmrc" || b == "npmrc"
}

// findNpmrc reports "_authToken", "_auth" and "_password" settings, global
// or scoped to a registry ("//registry.example.com/:_authToken=...").
func findNpmrc(data []byte, add func(hit) bool) {
	lines(data, func(off int, line []byte) bool {
		key, val, ok := iniPair(line, false)
		if !ok {
			return true
		}
		name := key
		if i := strings.LastIndexByte(key, ':'); i >= 0 {
			name = key[i+1:]
		}
		switch name {
		case "_authToken", "_auth", "_password":
			return add(hit{start: off, end: off + len(line), pre: key + "=", value: val})
		}
		return true
	})
}

// findPypirc reports "password" settings of any index section.
func findPypirc(data []byte, add func(hit) bool) {
	lines(data, func(off int, line []byte) bool {
		key, val, ok := iniPair(line, true)
		if !ok || !strings.EqualFold(key, "password") {
			return true
		}
		return add(hit{start: off, end: off + len(line), pre: key + " = ", value: val})
	})
}

// iniPair splits "key = value" (and "key: value" when colon is set),
// skipping comments and section headers; the value is unquoted.
func iniPair(line []byte, colon bool) (key, val string, ok bool) {
	s := strings.TrimSpace(string(line))
	if s == "" || s[0] == '#' || s[0] == ';' || s[0] == '[' {
		return "", "", false
	}
	i := strings.IndexByte(s, '=')
	if colon {
		if c := strings.IndexByte(s, ':'); c >= 0 && (i < 0 || c < i) {
			i = c
		}
	}
	if i <= 0 {
		return "", "", false
	}
	return strings.TrimSpace(s[:i]), unquote(strings.TrimSpace(s[i+1:])), true
}

// netrcFile selects .netrc (_netrc) files and apt's auth.conf, which uses
// the same format.
func netrcFile(p string) bool {
	b := baseName(p)
	return b == ".netrc" || b == "_netrc" || p == "etc/apt/auth.conf" ||
		strings.HasPrefix(p, "etc/apt/auth.conf.d/") && strings.HasSuffix(b, ".conf")
}

// findNetrc reports the "password" of each entry of a netrc file, a
// sequence of white-space separated "machine host login name password
// secret" tokens; the evidence names the machine.
func findNetrc(data []byte, add func(hit) bool) {
	machine := ""
	prev := ""
	off := 0
	for off < len(data) {
		for off < len(data) && isSpace(data[off]) {
			off++
		}
		start := off
		for off < len(data) && !isSpace(data[off]) {
			off++
		}
		if start == off {
			break
		}
		tok := string(data[start:off])
		switch prev {
		case "machine":
			machine = tok
		case "password":
			pre := "password "
			if machine != "" {
				pre = "machine " + machine + " password "
			}
			if !add(hit{start: start, end: off, pre: pre, value: tok}) {
				return
			}
		}
		switch {
		case prev == "machine" || prev == "password" || prev == "login" || prev == "account":
			prev = "" // tok was a value
		case tok == "default":
			machine, prev = "default", ""
		default:
			prev = tok
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// gitCredentialsFile selects git's credential store files.
func gitCredentialsFile(p string) bool {
	return baseName(p) == ".git-credentials" || strings.HasSuffix(p, ".config/git/credentials")
}

func anyScheme(string) bool { return true }

// dbScheme accepts the URL schemes of databases and message brokers.
func dbScheme(s string) bool {
	switch strings.ToLower(s) {
	case "postgres", "postgresql", "mysql", "mysqlx", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss",
		"amqp", "amqps", "mssql", "sqlserver", "cockroachdb", "clickhouse", "couchdb", "neo4j", "neo4j+s", "bolt", "cassandra", "memcached", "nats", "oracle":
		return true
	}
	return false
}

// maxUserinfo bounds how far after "://" a user:password@ part is looked for.
const maxUserinfo = 256

// findURLCreds reports URLs "scheme://user:password@host" whose scheme
// schemeOK accepts and whose password is not a placeholder.
func findURLCreds(data []byte, schemeOK func(string) bool, add func(hit) bool) {
	off := 0
	for {
		i := bytes.Index(data[off:], []byte("://"))
		if i < 0 {
			return
		}
		sep := off + i
		off = sep + 3
		s := sep
		for s > 0 && sep-s < 32 && schemeChar(data[s-1]) {
			s--
		}
		if s == sep || !schemeOK(string(data[s:sep])) {
			continue
		}
		ui := sep + 3
		at := -1
		for k := ui; k < len(data) && k-ui < maxUserinfo; k++ {
			c := data[k]
			if c == '@' {
				at = k
				break
			}
			if urlStop(c) {
				break
			}
		}
		if at < 0 {
			continue
		}
		user, pw, ok := bytes.Cut(data[ui:at], []byte{':'})
		if !ok || len(pw) == 0 || placeholderPassword(string(pw)) {
			continue
		}
		he := at + 1
		for he < len(data) && he-at <= 128 && !urlStop(data[he]) && data[he] != '@' {
			he++
		}
		host := data[at+1 : he]
		if len(host) == 0 || !(host[0] == '[' || isAlnum(host[0])) {
			continue
		}
		off = he
		h := hit{start: s, end: he, pre: string(data[s:sep]) + "://" + string(user) + ":", value: string(pw), post: "@" + string(host)}
		if !add(h) {
			return
		}
	}
}

func schemeChar(c byte) bool { return isAlnum(c) || c == '+' || c == '-' || c == '.' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// urlStop reports bytes that cannot appear unescaped in the authority part
// of a URL written in text or code.
func urlStop(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '/', '?', '#', '"', '\'', '`', '<', '>', '\\', '(', ')', '{', '}', '|', '^', ',', ';':
		return true
	}
	return c < 0x20 || c == 0x7f
}

// placeholderPassword reports the stand-in passwords of documentation
// ("postgres://user:password@localhost"), on top of placeholder's rules.
func placeholderPassword(pw string) bool {
	switch strings.ToLower(pw) {
	case "password", "pass", "passwd", "pwd", "pw", "secret", "mypassword", "yourpassword", "pass123", "password123":
		return true
	}
	return placeholder(pw)
}

// envFile selects dotenv files: ".env", ".env.production", "app.env", but
// not the templates meant to be committed (".env.example", ".env.sample",
// ".env.template", ".env.dist").
func envFile(p string) bool {
	b := baseName(p)
	if b != ".env" && !strings.HasPrefix(b, ".env.") && !(len(b) > 4 && strings.HasSuffix(b, ".env")) {
		return false
	}
	for _, t := range [...]string{".example", ".sample", ".template", ".dist", ".tpl", ".defaults"} {
		if strings.HasSuffix(b, t) {
			return false
		}
	}
	return true
}

// findEnv reports "KEY=value" lines whose key names a secret (PASSWORD,
// PASSWD, PASSPHRASE, SECRET, TOKEN, API_KEY, APIKEY, ACCESS_KEY,
// PRIVATE_KEY, *_PWD) and whose value is set: not empty, not a reference
// ("${X}", "$X"), not a number or boolean, not a placeholder. Keys naming
// where a secret lives (*_FILE, *_PATH, *_URL, ...) are skipped.
func findEnv(data []byte, add func(hit) bool) {
	lines(data, func(off int, line []byte) bool {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			return true
		}
		s = strings.TrimPrefix(s, "export ")
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return true
		}
		k = strings.TrimSpace(k)
		if !envKey(k) || !secretKey(strings.ToUpper(k)) {
			return true
		}
		v = envValue(strings.TrimSpace(v))
		if v == "" || boring(v) {
			return true
		}
		return add(hit{start: off, end: off + len(line), pre: k + "=", value: v})
	})
}

func envKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func secretKey(k string) bool {
	for _, suf := range [...]string{"_FILE", "_PATH", "_DIR", "_URL", "_URI", "_ENDPOINT", "_HOST", "_PORT", "_USER", "_USERNAME", "_NAME", "_TYPE", "_ALGORITHM", "_LENGTH", "_TTL", "_EXPIRY", "_EXPIRES", "_TIMEOUT"} {
		if strings.HasSuffix(k, suf) {
			return false
		}
	}
	for _, w := range [...]string{"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return strings.HasSuffix(k, "_PWD")
}

// envValue strips quotes, or for an unquoted value a trailing " # comment".
func envValue(v string) string {
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		if e := strings.IndexByte(v[1:], v[0]); e >= 0 {
			return v[1 : e+1]
		}
		return v[1:]
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// boring reports values that are not secrets: numbers and booleans.
func boring(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "undefined":
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
