package version

import (
	"regexp"
	"strings"
)

// Composer returns the scheme of Composer (Packagist) package versions: a
// version is first normalised as composer/semver's VersionParser::normalize
// does, then compared as Composer's Comparator does (PHP's version_compare on
// the normalised forms).
//
// Normalisation drops a leading "v", "@stability" flags, build metadata and
// " as alias" parts, pads to four numbers (1.2 -> 1.2.0.0), and expands
// stability suffixes: 1.0RC1 -> 1.0.0.0-RC1, 1.0-beta.2 -> 1.0.0.0-beta2,
// 1.0-p1 and 1.0pl1 -> 1.0.0.0-patch1, "-stable" drops out, "-dev" stays;
// date versions (20190126.230843) keep their own numbers; numeric branches
// (2.1.x-dev) become 2.1.9999999.9999999-dev. Versions that normalize
// rejects ("1.2.3.#", "4.3-2RC1", more than five digits in the major of a
// non-date version) are errors. Numbers compare exactly (PHP clamps them to
// 64 bits).
//
// Named branches ("dev-master", "dev-feature/x", and "master", "trunk",
// "default", which Composer reads as dev-master, dev-trunk, dev-default)
// are valid and sort below every numbered version, as Composer's Comparator
// puts dev-foo below 1.0; among themselves they are ordered by name, byte by
// byte. A branch has no place in a version range, so a matcher that finds
// one should say it cannot tell rather than trust the order.
func Composer() Scheme { return &scheme{name: "composer", parse: parseComposer} }

// composerKey is either a named branch or the tokens of a normalised
// version: numbers, and names as their version_compare rank.
type composerKey struct {
	branch bool
	name   string
	toks   []composerTok
}

type composerTok struct {
	num  string // digits without leading zeros, when rank == phpNumber
	rank int
}

// version_compare ranks of names: unknown names rank lowest, numbers rank
// like "#".
const (
	phpUnknown = -1
	phpDev     = 0
	phpAlpha   = 1
	phpBeta    = 2
	phpRC      = 3
	phpNumber  = 4
	phpPatch   = 5
)

func (k *composerKey) cmp(o key) int {
	p := o.(*composerKey)
	if k.branch || p.branch {
		if k.branch != p.branch {
			return cmpBool(!k.branch, !p.branch)
		}
		return cmpString(k.name, p.name)
	}
	n := min(len(k.toks), len(p.toks))
	for i := 0; i < n; i++ {
		a, b := k.toks[i], p.toks[i]
		if a.rank == phpNumber && b.rank == phpNumber {
			if c := cmpNum(a.num, b.num); c != 0 {
				return c
			}
			continue
		}
		if a.rank != b.rank {
			return sign(a.rank - b.rank)
		}
	}
	// The longer version continues: a number makes it newer, a name
	// compares with the rank of a number.
	switch {
	case len(k.toks) > n:
		t := k.toks[n]
		if t.rank == phpNumber {
			return 1
		}
		return sign(t.rank - phpNumber)
	case len(p.toks) > n:
		t := p.toks[n]
		if t.rank == phpNumber {
			return -1
		}
		return sign(phpNumber - t.rank)
	}
	return 0
}

const composerModifier = `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?`

// PCRE's \s: space, \t, \n, \v, \f, \r.
const pcreSpace = `\t\n\v\f\r `

var (
	composerAlias     = regexp.MustCompile(`^([^,` + pcreSpace + `]+) +as +([^,` + pcreSpace + `]+)$`)
	composerStability = regexp.MustCompile(`(?i)@(?:stable|RC|beta|alpha|dev)$`)
	composerBuild     = regexp.MustCompile(`^([^,` + pcreSpace + `+]+)\+[^` + pcreSpace + `]+$`)
	composerClassical = regexp.MustCompile(`(?i)^v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?` + composerModifier + `$`)
	composerDate      = regexp.MustCompile(`(?i)^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)` + composerModifier + `$`)
	composerDevSuffix = regexp.MustCompile(`(?i)(.*?)[.-]?dev$`)
	composerBranchNum = regexp.MustCompile(`(?i)^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$`)
	composerNonDigit  = regexp.MustCompile(`\D`)
)

func isPHPTrim(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0 || c == '\v'
}

func phpTrim(s string) string {
	for s != "" && isPHPTrim(s[0]) {
		s = s[1:]
	}
	for s != "" && isPHPTrim(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// composerNormalize is VersionParser::normalize. ok is false where
// normalize throws.
func composerNormalize(v string) (string, bool) {
	v = phpTrim(v)
	if m := composerAlias.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	if m := composerStability.FindString(v); m != "" {
		v = v[:len(v)-len(m)]
	}
	switch v {
	case "master", "trunk", "default":
		v = "dev-" + v
	}
	if len(v) >= 4 && strings.EqualFold(v[:4], "dev-") {
		return "dev-" + v[4:], true
	}
	if m := composerBuild.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	var m []string
	var out string
	index := 0
	// Both patterns start with an optional "v" and a digit; skip them
	// cheaply for anything else.
	numeric := v != "" && (isDigit(v[0]) || ((v[0] == 'v' || v[0] == 'V') && len(v) > 1 && isDigit(v[1])))
	if numeric {
		if m = composerClassical.FindStringSubmatch(v); m != nil {
			out = m[1]
			for _, p := range m[2:5] {
				if p != "" {
					out += p
				} else {
					out += ".0"
				}
			}
			index = 5
		} else if m = composerDate.FindStringSubmatch(v); m != nil {
			out = composerNonDigit.ReplaceAllString(m[1], ".")
			index = 2
		}
	}
	if index > 0 {
		if m[index] != "" {
			if m[index] == "stable" {
				return out, true
			}
			out += "-" + composerExpandStability(m[index]) + strings.TrimLeft(m[index+1], ".-")
		}
		if m[index+2] != "" {
			out += "-dev"
		}
		return out, true
	}
	if len(v) < 3 || !strings.EqualFold(v[len(v)-3:], "dev") {
		return "", false
	}
	if m := composerDevSuffix.FindStringSubmatch(v); m != nil {
		if n := composerNormalizeBranch(m[1]); !strings.Contains(n, "dev-") {
			return n, true
		}
	}
	return "", false
}

func composerExpandStability(s string) string {
	s = strings.ToLower(s)
	switch s {
	case "a":
		return "alpha"
	case "b":
		return "beta"
	case "p", "pl":
		return "patch"
	case "rc":
		return "RC"
	}
	return s
}

func composerNormalizeBranch(name string) string {
	name = phpTrim(name)
	m := composerBranchNum.FindStringSubmatch(name)
	if m == nil {
		return "dev-" + name
	}
	out := ""
	for i := 1; i < 5; i++ {
		if m[i] != "" {
			out += strings.NewReplacer("*", "x", "X", "x").Replace(m[i])
		} else {
			out += ".x"
		}
	}
	return strings.ReplaceAll(out, "x", "9999999") + "-dev"
}

// phpRank is version_compare's rank of a special form: the first entry of
// dev, alpha, a, beta, b, RC, rc, #, pl, p that prefixes the name.
func phpRank(name string) int {
	for _, f := range []struct {
		prefix string
		rank   int
	}{{"dev", phpDev}, {"alpha", phpAlpha}, {"a", phpAlpha}, {"beta", phpBeta}, {"b", phpBeta},
		{"RC", phpRC}, {"rc", phpRC}, {"#", phpNumber}, {"pl", phpPatch}, {"p", phpPatch}} {
		if strings.HasPrefix(name, f.prefix) {
			return f.rank
		}
	}
	return phpUnknown
}

func parseComposer(v string) (key, error) {
	if hasNUL(phpTrim(v)) {
		return nil, invalid("composer", v, "contains a NUL byte")
	}
	n, ok := composerNormalize(v)
	if !ok {
		return nil, invalid("composer", v, "not a version Composer can normalize (like 1.2.3, v2.0.0-RC1, 1.0-beta.2, 1.0.x-dev or dev-main)")
	}
	if n == "dev-" {
		return nil, invalid("composer", v, "branch without a name")
	}
	if strings.HasPrefix(n, "dev-") {
		return &composerKey{branch: true, name: n[4:]}, nil
	}
	// PHP's canonical form: '-', '_', '+' and letter/digit boundaries
	// become '.', then tokens split at '.'.
	k := &composerKey{}
	for i := 0; i < len(n); {
		c := n[i]
		switch {
		case isDigit(c):
			d := digits(n[i:])
			k.toks = append(k.toks, composerTok{num: trimZeros(n[i : i+d]), rank: phpNumber})
			i += d
		case isAlpha(c):
			j := i
			for j < len(n) && isAlpha(n[j]) {
				j++
			}
			k.toks = append(k.toks, composerTok{rank: phpRank(n[i:j])})
			i = j
		default:
			i++
		}
	}
	return k, nil
}
