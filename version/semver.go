package version

import "strings"

// SemVer returns the scheme of Semantic Versioning 2.0.0 versions, used by
// npm and crates.io: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
//
// Valid means valid by semver.org's grammar: three numeric components
// without leading zeros; pre-release identifiers of [0-9A-Za-z-], not empty,
// numeric ones without leading zeros; build identifiers of [0-9A-Za-z-], not
// empty. One leading "v" or "=" (or "=v"), which npm tolerates, is allowed;
// nothing else is (no "1.2", no "1.2.3.4", no spaces). Numbers of any length
// compare exactly. Build metadata is ignored: 1.0.0+a equals 1.0.0+b.
func SemVer() Scheme { return &scheme{name: "semver", parse: parseSemVerKey} }

// semverKey is a parsed semantic version. Go toolchain and module versions
// share it.
type semverKey struct {
	major, minor, patch string // decimal, no leading zeros
	pre                 []semverIdent
}

type semverIdent struct {
	num bool
	s   string
}

func (k *semverKey) cmp(o key) int {
	p := o.(*semverKey)
	if c := cmpNum(k.major, p.major); c != 0 {
		return c
	}
	if c := cmpNum(k.minor, p.minor); c != 0 {
		return c
	}
	if c := cmpNum(k.patch, p.patch); c != 0 {
		return c
	}
	return cmpPrerelease(k.pre, p.pre)
}

// cmpPrerelease orders pre-release identifier lists by SemVer's rules; the
// empty list (a release) sorts last.
func cmpPrerelease(a, b []semverIdent) int {
	if len(a) == 0 || len(b) == 0 {
		return cmpBool(len(a) == 0, len(b) == 0)
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x.num != y.num {
			if x.num {
				return -1
			}
			return 1
		}
		var c int
		if x.num {
			c = cmpNum(x.s, y.s)
		} else {
			c = cmpString(x.s, y.s)
		}
		if c != 0 {
			return c
		}
	}
	return sign(len(a) - len(b))
}

func isIdentChar(c byte) bool { return isAlnum(c) || c == '-' }

// semverNum reads a numeric component without leading zeros.
func semverNum(s string) (num, rest string, ok bool) {
	n := digits(s)
	if n == 0 || (n > 1 && s[0] == '0') {
		return "", s, false
	}
	return s[:n], s[n:], true
}

// semverIdents parses dot-separated identifiers. strictNum rejects numeric
// identifiers with leading zeros (pre-release rules).
func semverIdents(s string, strictNum bool) ([]semverIdent, bool) {
	var ids []semverIdent
	for {
		dot := strings.IndexByte(s, '.')
		part := s
		if dot >= 0 {
			part = s[:dot]
		}
		if part == "" {
			return nil, false
		}
		allDigits := true
		for i := 0; i < len(part); i++ {
			if !isIdentChar(part[i]) {
				return nil, false
			}
			if !isDigit(part[i]) {
				allDigits = false
			}
		}
		if allDigits && strictNum && len(part) > 1 && part[0] == '0' {
			return nil, false
		}
		ids = append(ids, semverIdent{num: allDigits, s: part})
		if dot < 0 {
			return ids, true
		}
		s = s[dot+1:]
	}
}

// parseSemVerCore parses MAJOR.MINOR.PATCH[-PRE][+BUILD] with no prefix.
func parseSemVerCore(s string) (*semverKey, string) {
	k := &semverKey{}
	var ok bool
	if k.major, s, ok = semverNum(s); !ok {
		return nil, "major version is not a number without leading zeros"
	}
	if s == "" || s[0] != '.' {
		return nil, "want MAJOR.MINOR.PATCH"
	}
	if k.minor, s, ok = semverNum(s[1:]); !ok {
		return nil, "minor version is not a number without leading zeros"
	}
	if s == "" || s[0] != '.' {
		return nil, "want MAJOR.MINOR.PATCH"
	}
	if k.patch, s, ok = semverNum(s[1:]); !ok {
		return nil, "patch version is not a number without leading zeros"
	}
	pre, build := s, ""
	if i := strings.IndexByte(s, '+'); i >= 0 {
		pre, build = s[:i], s[i+1:]
		if _, ok := semverIdents(build, false); !ok {
			return nil, "bad build metadata (dot-separated non-empty [0-9A-Za-z-] identifiers)"
		}
	}
	if pre != "" {
		if pre[0] != '-' {
			return nil, "unexpected text after MAJOR.MINOR.PATCH"
		}
		if k.pre, ok = semverIdents(pre[1:], true); !ok {
			return nil, "bad pre-release (dot-separated non-empty [0-9A-Za-z-] identifiers, numeric ones without leading zeros)"
		}
	}
	return k, ""
}

func parseSemVerKey(v string) (key, error) {
	s := v
	s = strings.TrimPrefix(s, "=")
	s = strings.TrimPrefix(s, "v")
	k, reason := parseSemVerCore(s)
	if k == nil {
		return nil, invalid("semver", v, reason)
	}
	return k, nil
}
