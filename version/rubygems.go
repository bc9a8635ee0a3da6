package version

import "strings"

// RubyGems returns the scheme of gem versions, ordered as RubyGems'
// Gem::Version orders them.
//
// Valid versions match Gem::Version's pattern: digits, then dot-separated
// alphanumeric segments, then optionally "-" and dot-separated segments of
// [0-9A-Za-z-] ("1.0", "1.0.a", "1.2.4.beta", "1.0-rc1"; not "1beta", not
// ".1"); surrounding white space is dropped. A version is a pre-release when
// it contains any letter ("-" counts as ".pre."). Versions compare segment
// by segment after trailing zeros are dropped from the numeric part and from
// the part after the first letter segment; numbers compare numerically and
// above letters, letter segments compare byte-wise (case-sensitively).
// Gem::Version reads an empty string as "0"; here it is an error.
func RubyGems() Scheme { return &scheme{name: "rubygems", parse: parseRubyGems} }

type gemKey []semverIdent // canonical segments; num: numeric

func (k gemKey) cmp(o key) int {
	p := o.(gemKey)
	for i := 0; i < len(k) || i < len(p); i++ {
		a, b := semverIdent{num: true}, semverIdent{num: true}
		if i < len(k) {
			a = k[i]
		}
		if i < len(p) {
			b = p[i]
		}
		if a.num != b.num {
			return cmpBool(a.num, b.num)
		}
		var c int
		if a.num {
			c = cmpNum(a.s, b.s)
		} else {
			c = cmpString(a.s, b.s)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func isRubySpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// gemValid matches Gem::Version's anchored pattern
// [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)? on s.
func gemValid(s string) bool {
	n := digits(s)
	if n == 0 {
		return false
	}
	s = s[n:]
	for s != "" && s[0] == '.' {
		m := 1
		for m < len(s) && isAlnum(s[m]) {
			m++
		}
		if m == 1 {
			return false
		}
		s = s[m:]
	}
	if s == "" {
		return true
	}
	if s[0] != '-' {
		return false
	}
	s = s[1:]
	for {
		m := 0
		for m < len(s) && isIdentChar(s[m]) {
			m++
		}
		if m == 0 {
			return false
		}
		s = s[m:]
		if s == "" {
			return true
		}
		if s[0] != '.' {
			return false
		}
		s = s[1:]
	}
}

func parseRubyGems(v string) (key, error) {
	s := v
	for s != "" && isRubySpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isRubySpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if s == "" {
		return nil, invalid("rubygems", v, "version string is empty")
	}
	if !gemValid(s) {
		return nil, invalid("rubygems", v, `malformed version number string (want digits, then ".segment"s, optionally "-pre.release")`)
	}
	s = strings.ReplaceAll(s, "-", ".pre.")
	var segs []semverIdent
	firstString := -1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c):
			n := digits(s[i:])
			segs = append(segs, semverIdent{num: true, s: trimZeros(s[i : i+n])})
			i += n
		case isAlpha(c):
			n := i
			for n < len(s) && isAlpha(s[n]) {
				n++
			}
			if firstString < 0 {
				firstString = len(segs)
			}
			segs = append(segs, semverIdent{s: s[i:n]})
			i = n
		default:
			i++
		}
	}
	if firstString < 0 {
		firstString = len(segs)
	}
	num, str := segs[:firstString], segs[firstString:]
	num = dropTrailingZeros(num)
	str = dropTrailingZeros(str)
	k := make(gemKey, 0, len(num)+len(str))
	k = append(k, num...)
	k = append(k, str...)
	return k, nil
}

func dropTrailingZeros(s []semverIdent) []semverIdent {
	for len(s) > 0 && s[len(s)-1].num && s[len(s)-1].s == "" {
		s = s[:len(s)-1]
	}
	return s
}
