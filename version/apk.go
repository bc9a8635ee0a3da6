package version

// APK returns the scheme of Alpine (apk-tools) package versions:
// digits{.digits}[letter]{_suffix[digits]}[~hash][-rN].
//
// The grammar and order are apk-tools 3's (src/version.c): numbers compare
// numerically, except that a dotted component with a leading zero compares
// as a string; pre-release suffixes _alpha < _beta < _pre < _rc sort before
// the bare version and post-release suffixes _cvs < _svn < _git < _hg < _p
// after it; ~hash is a commit hash; -rN is the package revision. A version
// apk_version_validate rejects is an error, never a guess: "1.2_blah",
// "1.0bc", "a", and what only old apk-tools 2.x accepted ("6.6.2p1",
// "0.8.21.r2", "1-r"). apk-tools 2.12 and later agree with this order on
// every version accepted here (2.x has no ~hash). Numbers longer than 64 bits
// compare exactly where apk-tools would wrap them.
func APK() Scheme { return &scheme{name: "apk", parse: parseAPK} }

// apk token kinds, in apk-tools' order: a version that ends earlier (or
// continues with a later kind) sorts before one that continues with an
// earlier kind, unless that kind is a pre-release suffix.
const (
	apkInitialDigit = iota
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkCommitHash
	apkRevisionNo
	apkEnd
)

// apk suffix values: pre-release ones below apkSuffixNone.
const (
	apkSufAlpha = iota + 1
	apkSufBeta
	apkSufPre
	apkSufRC
	apkSuffixNone
	apkSufCVS
	apkSufSVN
	apkSufGit
	apkSufHg
	apkSufP
)

type apkToken struct {
	kind   int
	suffix int
	value  string // digits, letter or hash as written
}

type apkKey []apkToken

func (k apkKey) cmp(o key) int {
	p := o.(apkKey)
	n := min(len(k), len(p))
	i := 0
	for ; i < n; i++ {
		a, b := k[i], p[i]
		if a.kind != b.kind {
			break
		}
		if c := apkTokenCmp(a, b); c != 0 {
			return c
		}
	}
	ta, tb := apkToken{kind: apkEnd}, apkToken{kind: apkEnd}
	if i < len(k) {
		ta = k[i]
	}
	if i < len(p) {
		tb = p[i]
	}
	if ta.kind == tb.kind {
		return 0
	}
	if ta.kind == apkSuffix && ta.suffix < apkSuffixNone {
		return -1
	}
	if tb.kind == apkSuffix && tb.suffix < apkSuffixNone {
		return 1
	}
	if ta.kind > tb.kind {
		return -1
	}
	return 1
}

func apkTokenCmp(a, b apkToken) int {
	switch a.kind {
	case apkDigit:
		if a.value[0] == '0' || b.value[0] == '0' {
			return cmpString(a.value, b.value)
		}
		return cmpNum(a.value, b.value)
	case apkInitialDigit, apkSuffixNo, apkRevisionNo:
		return cmpNum(a.value, b.value)
	case apkLetter:
		return cmpString(a.value, b.value)
	case apkSuffix:
		return a.suffix - b.suffix
	}
	return cmpString(a.value, b.value)
}

var apkSuffixes = map[string]int{
	"alpha": apkSufAlpha, "beta": apkSufBeta, "pre": apkSufPre, "rc": apkSufRC,
	"cvs": apkSufCVS, "svn": apkSufSVN, "git": apkSufGit, "hg": apkSufHg, "p": apkSufP,
}

func isHexLower(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') }

func parseAPK(v string) (key, error) {
	bad := func(reason string) (key, error) { return nil, invalid("apk", v, reason) }
	if v == "" {
		return bad("version string is empty")
	}
	n := digits(v)
	if n == 0 {
		return bad("does not start with a digit")
	}
	toks := apkKey{{kind: apkInitialDigit, value: v[:n]}}
	s := v[n:]
	last := apkInitialDigit
	for s != "" {
		var t apkToken
		c := s[0]
		switch {
		case isLower(c):
			if last > apkDigit {
				return bad("second letter, or a letter after a suffix, hash or revision")
			}
			t = apkToken{kind: apkLetter, value: s[:1]}
			s = s[1:]
		case c == '.' || isDigit(c):
			if c == '.' {
				if last > apkDigit {
					return bad("'.' after a letter, suffix, hash or revision")
				}
				s = s[1:]
			}
			switch last {
			case apkInitialDigit, apkDigit:
				t.kind = apkDigit
			case apkSuffix:
				t.kind = apkSuffixNo
			default:
				return bad("digits in an unexpected place")
			}
			n := digits(s)
			if n == 0 {
				return bad("'.' not followed by digits")
			}
			t.value, s = s[:n], s[n:]
		case c == '_':
			if last > apkSuffixNo {
				return bad("suffix after a hash or revision")
			}
			s = s[1:]
			n := 0
			for n < len(s) && isLower(s[n]) {
				n++
			}
			suf, ok := apkSuffixes[s[:n]]
			if !ok {
				return bad("unknown suffix _" + s[:n] + " (want _alpha, _beta, _pre, _rc, _cvs, _svn, _git, _hg or _p)")
			}
			t = apkToken{kind: apkSuffix, suffix: suf, value: s[:n]}
			s = s[n:]
		case c == '~':
			if last >= apkCommitHash {
				return bad("commit hash after a hash or revision")
			}
			s = s[1:]
			n := 0
			for n < len(s) && isHexLower(s[n]) {
				n++
			}
			if n == 0 {
				return bad("'~' not followed by a hexadecimal commit hash")
			}
			t = apkToken{kind: apkCommitHash, value: s[:n]}
			s = s[n:]
		case c == '-':
			if last >= apkRevisionNo {
				return bad("second revision")
			}
			if len(s) < 2 || s[1] != 'r' {
				return bad("'-' not followed by r<number>")
			}
			s = s[2:]
			n := digits(s)
			if n == 0 {
				return bad("revision -r without a number")
			}
			t = apkToken{kind: apkRevisionNo, value: s[:n]}
			s = s[n:]
		default:
			return bad("unexpected character " + quoteByte(c))
		}
		toks = append(toks, t)
		last = t.kind
	}
	return toks, nil
}

func quoteByte(c byte) string {
	const hex = "0123456789abcdef"
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "0x" + string(hex[c>>4]) + string(hex[c&15])
}
