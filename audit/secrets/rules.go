package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
)

// rule is a Rule with its matcher.
type rule struct {
	Rule
	// keywords: the rule runs only when one of these occurs in the file
	// (case-sensitive). Empty means always (rules limited by file).
	keywords []string
	// mask is keywords as bits of the extractor's keywordSet.
	mask uint64
	// file, when set, limits the rule to files whose path it accepts.
	file func(p string) bool
	// find reports matches to add until add returns false.
	find func(data []byte, add func(hit) bool)
}

// Severities.
const (
	critical = "critical"
	high     = "high"
	medium   = "medium"
)

// builtinRules returns the rules in priority order. It builds fresh values
// (compiled expressions included) so that nothing is shared or global.
func builtinRules() []rule {
	return []rule{
		{
			Rule:     Rule{"secret-gcp-service-account", "Google Cloud service account key file", critical},
			keywords: []string{`"service_account"`},
			find:     findGCP(),
		},
		{
			Rule:     Rule{"secret-private-key", "Private key (PEM or OpenSSH or PGP armour)", critical},
			keywords: []string{"PRIVATE KEY"},
			find:     findPrivateKeys,
		},
		regexRule(Rule{"secret-aws-access-key", "AWS access key ID", critical}, reSpec{
			keywords: []string{"AKIA", "ASIA"},
			expr:     `(?:AKIA|ASIA)[A-Z2-7]{16}\b`,
			bound:    true,
		}),
		regexRule(Rule{"secret-aws-secret-key", "AWS secret access key", critical}, reSpec{
			keywords: []string{"secret_access_key", "SECRET_ACCESS_KEY", "SecretAccessKey", "secretAccessKey", "Secret_Access_Key"},
			nameBack: true,
			expr:     `(?i)secret_?access_?key["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9/+]{40})\b`,
			group:    1,
			valid:    awsSecret,
		}),
		regexRule(Rule{"secret-azure-storage-key", "Azure storage account key", critical}, reSpec{
			keywords: []string{"AccountKey="},
			expr:     `AccountKey=([A-Za-z0-9+/]{85}[AQgw]==)`,
			group:    1,
		}),
		regexRule(Rule{"secret-azure-sas-key", "Azure shared access key (Service Bus, Event Hubs, IoT Hub)", critical}, reSpec{
			keywords: []string{"SharedAccessKey="},
			expr:     `SharedAccessKey=([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)`,
			group:    1,
		}),
		regexRule(Rule{"secret-github-token", "GitHub token", critical}, reSpec{
			keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			expr:     `(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b`,
			bound:    true,
			valid:    twoClasses,
		}),
		regexRule(Rule{"secret-gitlab-token", "GitLab personal access token", critical}, reSpec{
			keywords: []string{"glpat-"},
			expr:     `glpat-[A-Za-z0-9_-]{20,}`,
			bound:    true,
			valid:    twoClasses,
		}),
		regexRule(Rule{"secret-slack-token", "Slack token", high}, reSpec{
			keywords: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"},
			expr:     `xox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{8,}`,
			bound:    true,
		}),
		regexRule(Rule{"secret-slack-webhook", "Slack incoming webhook URL", high}, reSpec{
			keywords: []string{"https://hooks.slack.com/"},
			expr:     `https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,}/[A-Z0-9]{6,}/([A-Za-z0-9]{20,})`,
			group:    1,
		}),
		regexRule(Rule{"secret-stripe-key", "Stripe live secret or restricted key", critical}, reSpec{
			keywords: []string{"sk_live_", "rk_live_"},
			expr:     `[rs]k_live_[0-9A-Za-z]{20,}\b`,
			bound:    true,
			valid:    twoClasses,
		}),
		regexRule(Rule{"secret-npm-token", "npm access token", high}, reSpec{
			keywords: []string{"npm_"},
			expr:     `npm_[A-Za-z0-9]{36}\b`,
			bound:    true,
			valid:    twoClasses,
		}),
		regexRule(Rule{"secret-pypi-token", "PyPI API token", high}, reSpec{
			keywords: []string{"pypi-AgEIcHlwaS5vcmc"},
			expr:     `pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`,
			bound:    true,
		}),
		{
			Rule:     Rule{"secret-jwt", "JSON Web Token", medium},
			keywords: []string{"eyJ"},
			find:     findJWT,
		},
		{
			Rule: Rule{"secret-docker-auth", "Registry credentials in a docker or podman auth file", high},
			file: dockerConfigFile,
			find: findDockerAuth,
		},
		{
			Rule: Rule{"secret-npmrc-auth", "npm registry credentials in .npmrc", high},
			file: npmrcFile,
			find: findNpmrc,
		},
		{
			Rule: Rule{"secret-pypirc-password", "Package index password in .pypirc", high},
			file: func(p string) bool { return baseName(p) == ".pypirc" },
			find: findPypirc,
		},
		{
			Rule: Rule{"secret-netrc-password", "Password in a .netrc or apt auth.conf file", high},
			file: netrcFile,
			find: findNetrc,
		},
		{
			Rule: Rule{"secret-git-credentials", "Credentials in a git credential store", high},
			file: gitCredentialsFile,
			find: func(data []byte, add func(hit) bool) { findURLCreds(data, anyScheme, add) },
		},
		{
			Rule:     Rule{"secret-database-url", "Database or broker URL with a password", high},
			keywords: []string{"://"},
			find:     func(data []byte, add func(hit) bool) { findURLCreds(data, dbScheme, add) },
		},
		{
			Rule: Rule{"secret-env-file", "Secret-looking variable in a .env file", high},
			file: envFile,
			find: findEnv,
		},
	}
}

// reSpec describes a rule matched by a regular expression.
type reSpec struct {
	// keywords: every match starts with one of them. The expression is
	// tried only at their occurrences, anchored there.
	keywords []string
	expr     string
	// nameBack extends the evidence back over the letters, digits and
	// underscores before the keyword, so that it shows the whole setting
	// name ("MY_AWS_SECRET_ACCESS_KEY").
	nameBack bool
	// group is the submatch holding the secret (0: the whole match).
	group int
	// bound: the match must not follow a letter, digit or underscore.
	bound bool
	// valid, when set, vets the secret.
	valid func(string) bool
}

// window bounds how far past a keyword a match may reach.
const window = 1024

// maxTries bounds the expression runs per keyword and file. Real files hold
// a few occurrences of a rule's keyword; one holding more than this many
// that are not secrets is generated or hostile ("AKIA" repeated for a
// megabyte), and is not tried further for that keyword.
const maxTries = 10_000

// regexRule builds a rule from an expression. The expression runs anchored
// at each keyword occurrence, on a window of at most window bytes, never
// over the whole file, so its cost follows the number of keyword
// occurrences and a failed try costs a few bytes.
func regexRule(r Rule, sp reSpec) rule {
	re := regexp.MustCompile(`^(?:` + sp.expr + `)`)
	kws := make([][]byte, len(sp.keywords))
	for i, k := range sp.keywords {
		kws[i] = []byte(k)
	}
	return rule{Rule: r, keywords: sp.keywords, find: func(data []byte, add func(hit) bool) {
		for _, k := range kws {
			from := 0
			for tries := 0; from < len(data) && tries < maxTries; tries++ {
				i := bytes.Index(data[from:], k)
				if i < 0 {
					break
				}
				at := from + i
				from = at + 1
				m := re.FindSubmatchIndex(data[at:min(len(data), at+window)])
				if m == nil {
					continue
				}
				for j := range m {
					if m[j] >= 0 {
						m[j] += at
					}
				}
				from = max(from, m[1])
				if sp.bound && at > 0 && isWord(data[at-1]) {
					continue
				}
				if sp.nameBack {
					for k := 0; k < 32 && m[0] > 0 && isWord(data[m[0]-1]); k++ {
						m[0]--
					}
				}
				vs, ve := m[2*sp.group], m[2*sp.group+1]
				if vs < 0 {
					continue
				}
				v := string(data[vs:ve])
				if sp.valid != nil && !sp.valid(v) {
					continue
				}
				if !add(hit{start: m[0], end: m[1], pre: string(data[m[0]:vs]), value: v, post: string(data[ve:m[1]])}) {
					return
				}
			}
		}
	}}
}

func isWord(c byte) bool { return isAlnum(c) || c == '_' }

// twoClasses accepts a token whose characters come from at least two of
// upper case, lower case and digits, as random tokens do; it rejects filler
// such as "ghp_abcdefghijklmnopqrstuvwxyzabcdefghij".
func twoClasses(v string) bool {
	var up, low, dig int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'A' && c <= 'Z':
			up = 1
		case c >= 'a' && c <= 'z':
			low = 1
		case c >= '0' && c <= '9':
			dig = 1
		}
	}
	return up+low+dig >= 2
}

// awsSecret accepts a 40-character key with both letter cases and at least
// one digit or symbol, as random keys have, rejecting words and hex.
func awsSecret(v string) bool {
	var up, low, other bool
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			low = true
		default:
			other = true
		}
	}
	return up && low && other
}

// findJWT reports JSON Web Tokens (JWS compact form): three base64url
// parts joined by dots, the first two JSON objects (so starting "eyJ"), the
// third a signature of 16 characters or more, and a header with "alg". It
// is written out by hand because the regular expression, tried at every
// "eyJ" of an inline source map, cost a scan of the whole base64 blob each.
func findJWT(data []byte, add func(hit) bool) {
	prefix := []byte("eyJ")
	from := 0
	for from < len(data) {
		i := bytes.Index(data[from:], prefix)
		if i < 0 {
			return
		}
		at := from + i
		e1 := at + b64urlRun(data[at:])
		from = e1 // no token starts inside this run
		if at > 0 && isWord(data[at-1]) || e1-at < 13 || e1 >= len(data) || data[e1] != '.' {
			continue
		}
		s2 := e1 + 1
		if !bytes.HasPrefix(data[s2:], prefix) {
			continue
		}
		e2 := s2 + b64urlRun(data[s2:])
		from = e2
		if e2-s2 < 13 || e2 >= len(data) || data[e2] != '.' {
			continue
		}
		s3 := e2 + 1
		e3 := s3 + b64urlRun(data[s3:])
		from = max(e3, s3)
		if e3-s3 < 16 {
			continue
		}
		tok := string(data[at:e3])
		if !jwtHeader(tok) {
			continue
		}
		if !add(hit{start: at, end: e3, value: tok}) {
			return
		}
	}
}

// b64urlRun returns how many leading bytes of b are base64url characters.
func b64urlRun(b []byte) int {
	for i, c := range b {
		if !isAlnum(c) && c != '-' && c != '_' {
			return i
		}
	}
	return len(b)
}

// jwtHeader accepts a token whose first part decodes to a JSON object with
// an "alg" member, as every JWS and JWE header has.
func jwtHeader(tok string) bool {
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return false
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	return json.Unmarshal(b, &h) == nil && h.Alg != nil
}

// baseName is path.Base without the allocation and cleaning.
func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// lines calls f with each line of data and its offset, stopping when f
// returns false.
func lines(data []byte, f func(off int, line []byte) bool) {
	off := 0
	for off < len(data) {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
			end += off
		} else {
			end = len(data)
		}
		line := data[off:end]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if !f(off, line) {
			return
		}
		off = next
	}
}

// unquote strips one pair of matching quotes.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
