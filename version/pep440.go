package version

import "strings"

// PEP440 returns the scheme of Python package versions (PEP 440, as the
// packaging library's Version parses and orders them):
// [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local].
//
// Spelling variants normalise as packaging does: case is ignored, a leading
// "v" and surrounding white space are dropped, alpha/beta/c/pre/preview mean
// a/b/rc/rc/rc, rev and r mean post, "1.0-1" is 1.0.post1, the separators
// "-", "_" and "." before a label or number are optional, a missing number
// is 0 ("1.0.dev" is 1.0.dev0, "1.0-post" is 1.0.post0), and local segments
// split on "-", "_" or ".". Legacy versions that packaging no longer accepts
// ("1.0-foo", "2.0b1-SNAPSHOT") are errors. White space means ASCII white
// space: packaging's Unicode white space and case folding (the Kelvin sign
// as "k") are not followed.
func PEP440() Scheme { return &scheme{name: "pep440", parse: parsePEP440} }

// pep440 pre-release kinds; pepNoPre sorts after all of them.
const (
	pepDevOnly = iota // no pre and no post but a dev release: before a0
	pepA
	pepB
	pepRC
	pepNoPre
)

type pep440Key struct {
	epoch   string   // digits without leading zeros
	release []string // without leading zeros; trailing zero components dropped
	preKind int
	preNum  string
	hasPost bool
	post    string
	hasDev  bool
	dev     string
	local   []semverIdent // num: compared numerically and after strings
}

func (k *pep440Key) cmp(o key) int {
	p := o.(*pep440Key)
	if c := cmpNum(k.epoch, p.epoch); c != 0 {
		return c
	}
	for i := 0; i < len(k.release) || i < len(p.release); i++ {
		a, b := "", ""
		if i < len(k.release) {
			a = k.release[i]
		}
		if i < len(p.release) {
			b = p.release[i]
		}
		if c := cmpNum(a, b); c != 0 {
			return c
		}
	}
	if k.preKind != p.preKind {
		return sign(k.preKind - p.preKind)
	}
	if k.preKind != pepNoPre && k.preKind != pepDevOnly {
		if c := cmpNum(k.preNum, p.preNum); c != 0 {
			return c
		}
	}
	if k.hasPost != p.hasPost {
		return cmpBool(k.hasPost, p.hasPost)
	}
	if c := cmpNum(k.post, p.post); c != 0 {
		return c
	}
	if k.hasDev != p.hasDev {
		return cmpBool(!k.hasDev, !p.hasDev)
	}
	if c := cmpNum(k.dev, p.dev); c != 0 {
		return c
	}
	if len(k.local) == 0 || len(p.local) == 0 {
		return cmpBool(len(k.local) > 0, len(p.local) > 0)
	}
	for i := 0; i < len(k.local) && i < len(p.local); i++ {
		a, b := k.local[i], p.local[i]
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
	return sign(len(k.local) - len(p.local))
}

// isPySpace is the ASCII part of Python's \s.
func isPySpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) }

func isPEPSep(c byte) bool { return c == '-' || c == '_' || c == '.' }

func parsePEP440(v string) (key, error) {
	bad := func(reason string) (key, error) { return nil, invalid("pep440", v, reason) }
	b := []byte(v)
	for i, c := range b {
		if c >= 0x80 {
			return bad("non-ASCII character")
		}
		b[i] = toLower(c)
	}
	s := string(b)
	for s != "" && isPySpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isPySpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if s == "" {
		return bad("version string is empty")
	}
	k, rest := parsePEP440Body(s)
	if k == nil || rest != "" {
		return bad("not a PEP 440 version like 1.2.3, 1!2.0rc1, 1.0.post2.dev3 or 1.0+local.7")
	}
	return k, nil
}

// parsePEP440Body parses a trimmed, lower-cased version the way packaging's
// regular expression matches it, part by part; it returns the text it could
// not read.
func parsePEP440Body(s string) (*pep440Key, string) {
	orig := s
	s = strings.TrimPrefix(s, "v")
	k := &pep440Key{preKind: pepNoPre}
	n := digits(s)
	if n == 0 {
		return nil, orig
	}
	first := s[:n]
	s = s[n:]
	if s != "" && s[0] == '!' {
		k.epoch = trimZeros(first)
		s = s[1:]
		if n = digits(s); n == 0 {
			return nil, orig
		}
		first, s = s[:n], s[n:]
	}
	k.release = append(k.release, trimZeros(first))
	for len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		n = digits(s[1:])
		k.release = append(k.release, trimZeros(s[1:1+n]))
		s = s[1+n:]
	}
	for len(k.release) > 0 && k.release[len(k.release)-1] == "" {
		k.release = k.release[:len(k.release)-1]
	}
	rest := s
	// Pre-release.
	if r, ok := pepPart(rest, []string{"alpha", "a", "beta", "b", "preview", "pre", "c", "rc"}); ok {
		switch r.label {
		case "alpha", "a":
			k.preKind = pepA
		case "beta", "b":
			k.preKind = pepB
		default:
			k.preKind = pepRC
		}
		k.preNum = trimZeros(r.num)
		rest = r.rest
	}
	// Post-release: "-N" or [sep](post|rev|r)[sep][N].
	if len(rest) >= 2 && rest[0] == '-' && isDigit(rest[1]) {
		n := digits(rest[1:])
		k.hasPost, k.post = true, trimZeros(rest[1:1+n])
		rest = rest[1+n:]
	} else if r, ok := pepPart(rest, []string{"post", "rev", "r"}); ok {
		k.hasPost, k.post = true, trimZeros(r.num)
		rest = r.rest
	}
	// Development release.
	if r, ok := pepPart(rest, []string{"dev"}); ok {
		k.hasDev, k.dev = true, trimZeros(r.num)
		rest = r.rest
	}
	if k.preKind == pepNoPre && !k.hasPost && k.hasDev {
		k.preKind = pepDevOnly
	}
	// Local version.
	if rest != "" && rest[0] == '+' {
		ids, ok := pepLocal(rest[1:])
		if !ok {
			return nil, orig
		}
		k.local = ids
		rest = ""
	}
	return k, rest
}

type pepMatch struct {
	label, num, rest string
}

// pepPart matches [sep]label[sep][num] at the start of s, as packaging's
// regular expression does: the separator after the label is consumed even
// when no number follows ("1.0a-" is 1.0a0), which never hurts because every
// later part's leading separator is optional.
func pepPart(s string, labels []string) (pepMatch, bool) {
	t := s
	if t != "" && isPEPSep(t[0]) {
		t = t[1:]
	}
	var label string
	for _, l := range labels {
		if strings.HasPrefix(t, l) {
			label = l
			break
		}
	}
	if label == "" {
		return pepMatch{}, false
	}
	t = t[len(label):]
	if t != "" && isPEPSep(t[0]) {
		t = t[1:]
	}
	n := digits(t)
	return pepMatch{label: label, num: t[:n], rest: t[n:]}, true
}

func pepLocal(s string) ([]semverIdent, bool) {
	var ids []semverIdent
	for {
		n := 0
		for n < len(s) && isAlnum(s[n]) {
			n++
		}
		if n == 0 {
			return nil, false
		}
		part := s[:n]
		num := digits(part) == len(part)
		if num {
			part = trimZeros(part)
		}
		ids = append(ids, semverIdent{num: num, s: part})
		s = s[n:]
		if s == "" {
			return ids, true
		}
		if !isPEPSep(s[0]) {
			return nil, false
		}
		s = s[1:]
	}
}
