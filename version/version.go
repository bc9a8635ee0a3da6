// Package version implements the version orderings of the ecosystems vigil
// scans: dpkg, rpm, apk, SemVer (npm, crates.io), Go modules and toolchains,
// PEP 440, Maven, RubyGems, NuGet and Composer.
//
// Each Scheme is a total order over the versions it accepts and rejects the
// versions its package manager rejects with an error instead of guessing an
// answer. Compare(a, b) on strings is the reference API; Parse returns a
// Version that compares without re-parsing, for matchers that compare one
// installed version against many advisory range events.
//
// The package imports only the standard library and inventory. Its tests
// hold it to the real tools: dpkg, rpm, Python's packaging, Go's
// golang.org/x/mod/semver and go/version, Maven, RubyGems and Composer.
package version

import (
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/inventory"
)

// MaxLen is the longest version string any scheme accepts, in bytes. Real
// versions are far shorter; the cap bounds the work an attacker-supplied
// string can cause.
const MaxLen = 512

// ErrInvalid is matched (errors.Is) by every error that reports a version
// string a scheme rejects.
var ErrInvalid = errors.New("invalid version")

// InvalidError reports a version string that a scheme rejects.
type InvalidError struct {
	Scheme  string // scheme name, "dpkg"
	Version string // the rejected string (truncated when very long)
	Reason  string // what is wrong with it
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("version: parse %s version %q: %s (the version string, or the record that carried it, is malformed)",
		e.Scheme, e.Version, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(scheme, v, reason string) error {
	if len(v) > 80 {
		v = v[:80] + "..."
	}
	return &InvalidError{Scheme: scheme, Version: v, Reason: reason}
}

// Scheme is a total order over one ecosystem's versions.
type Scheme interface {
	// Name is the scheme's short name: "dpkg", "rpm", "apk", "semver",
	// "go", "pep440", "maven", "rubygems", "nuget", "composer".
	Name() string
	// Compare returns -1, 0 or +1 as a sorts before, the same as, or after
	// b. The error (matching ErrInvalid) names the invalid version.
	Compare(a, b string) (int, error)
	// Valid returns nil when the scheme accepts v, else an error saying why
	// not.
	Valid(v string) error
	// Parse returns v in a form that compares without re-parsing.
	Parse(v string) (Version, error)
}

// key is a scheme's parsed form of a version.
type key interface {
	// cmp compares with a key of the same concrete type.
	cmp(other key) int
}

// Version is a version parsed by one Scheme. The zero Version is not a valid
// version of any scheme.
type Version struct {
	scheme string
	raw    string
	k      key
}

// String returns the version string as it was given to Parse.
func (v Version) String() string { return v.raw }

// Scheme returns the name of the scheme that parsed v ("" for the zero
// Version).
func (v Version) Scheme() string { return v.scheme }

// Compare returns -1, 0 or +1 as v sorts before, the same as, or after w.
// Both must come from the same scheme; versions of different schemes (a
// programming error) are ordered by scheme name so that sorting never panics,
// and the zero Version sorts before everything.
func (v Version) Compare(w Version) int {
	if v.scheme != w.scheme {
		if v.scheme < w.scheme {
			return -1
		}
		return 1
	}
	if v.k == nil || w.k == nil {
		switch {
		case v.k == nil && w.k == nil:
			return 0
		case v.k == nil:
			return -1
		default:
			return 1
		}
	}
	return sign(v.k.cmp(w.k))
}

// scheme adapts a parse function to the Scheme interface.
type scheme struct {
	name  string
	parse func(v string) (key, error)
}

func (s *scheme) Name() string { return s.name }

func (s *scheme) Parse(v string) (Version, error) {
	if len(v) > MaxLen {
		return Version{}, invalid(s.name, v, fmt.Sprintf("longer than %d bytes", MaxLen))
	}
	k, err := s.parse(v)
	if err != nil {
		return Version{}, err
	}
	return Version{scheme: s.name, raw: v, k: k}, nil
}

func (s *scheme) Valid(v string) error {
	_, err := s.Parse(v)
	return err
}

func (s *scheme) Compare(a, b string) (int, error) {
	va, err := s.Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := s.Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// ForEcosystem returns the scheme that orders versions of packages of
// ecosystem e, and false for an ecosystem it does not know.
func ForEcosystem(e inventory.Ecosystem) (Scheme, bool) {
	switch e {
	case inventory.Deb:
		return Dpkg(), true
	case inventory.RPM:
		return RPM(), true
	case inventory.APK:
		return APK(), true
	case inventory.NPM, inventory.Cargo:
		return SemVer(), true
	case inventory.Go:
		return Go(), true
	case inventory.PyPI:
		return PEP440(), true
	case inventory.Maven:
		return Maven(), true
	case inventory.Gem:
		return RubyGems(), true
	case inventory.NuGet:
		return NuGet(), true
	case inventory.Composer:
		return Composer(), true
	}
	return nil, false
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isAlpha(c byte) bool { return isLower(c) || isUpper(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

func toLower(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

// trimZeros drops the leading zeros of a digit string ("007" -> "7",
// "000" -> "").
func trimZeros(s string) string {
	i := 0
	for i < len(s) && s[i] == '0' {
		i++
	}
	return s[i:]
}

// cmpNum compares two ASCII digit strings numerically, of any length and
// with or without leading zeros; the empty string is zero.
func cmpNum(a, b string) int {
	a, b = trimZeros(a), trimZeros(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// digits returns the length of the run of ASCII digits at the start of s.
func digits(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
