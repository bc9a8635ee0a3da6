package version

import "strings"

// Go returns the scheme of Go versions: module versions ("v1.2.3",
// "v2.0.0+incompatible", pseudo-versions "v0.0.0-20200220183623-bac4c82f6975")
// and toolchain versions ("go1.22.3", "go1.21rc2", "go1.21").
//
// Module versions must start with "v" and follow golang.org/x/mod/semver
// (which also accepts the shorthands "v1" and "v1.2" for v1.0.0 and v1.2.0);
// build metadata such as +incompatible is ignored, and pseudo-versions sort
// as the SemVer pre-releases they are. Toolchain versions are ordered as
// go/version orders them: go1.21 < go1.21rc1 < go1.21.0, while before Go
// 1.21 "go1.20" means go1.20.0; a "-suffix" (go1.21-custom) is ignored.
// Both kinds share one order, in which goX.Y.Z equals vX.Y.Z, goX.YrcN
// equals vX.Y.0-rc.N (as the Go vulnerability database writes toolchain
// release candidates) and a language version goX.Y (Y >= 21) equals
// vX.Y.0-0, below all of X.Y's pre-releases.
//
// OSV records of the Go ecosystem write module versions without the "v"
// (and "0" for "the beginning of time"): callers add the "v" before asking.
func Go() Scheme { return &scheme{name: "go", parse: parseGo} }

func parseGo(v string) (key, error) {
	if strings.HasPrefix(v, "go") {
		if k := parseGoToolchain(v); k != nil {
			return k, nil
		}
		return nil, invalid("go", v, "not a Go toolchain version like go1.22.3, go1.21rc2 or go1.21")
	}
	if v == "" || v[0] != 'v' {
		return nil, invalid("go", v, `module versions start with "v" and toolchain versions with "go"`)
	}
	k, ok := parseGoModule(v[1:])
	if !ok {
		return nil, invalid("go", v, "not a semantic version vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]")
	}
	return k, nil
}

// parseGoModule follows golang.org/x/mod/semver's grammar (after the "v").
func parseGoModule(s string) (*semverKey, bool) {
	k := &semverKey{minor: "0", patch: "0"}
	var ok bool
	if k.major, s, ok = semverNum(s); !ok {
		return nil, false
	}
	if s == "" {
		return k, true
	}
	if s[0] != '.' {
		return nil, false
	}
	if k.minor, s, ok = semverNum(s[1:]); !ok {
		return nil, false
	}
	if s == "" {
		return k, true
	}
	if s[0] != '.' {
		return nil, false
	}
	if k.patch, s, ok = semverNum(s[1:]); !ok {
		return nil, false
	}
	pre, build := s, ""
	if i := strings.IndexByte(s, '+'); i >= 0 {
		pre, build = s[:i], s[i+1:]
		if _, ok := semverIdents(build, false); !ok {
			return nil, false
		}
	}
	if pre != "" {
		if pre[0] != '-' {
			return nil, false
		}
		if k.pre, ok = semverIdents(pre[1:], true); !ok {
			return nil, false
		}
	}
	return k, true
}

// goverNum reads a decimal without unnecessary leading zeros, as
// internal/gover's cutInt does.
func goverNum(s string) (num, rest string, ok bool) {
	n := digits(s)
	if n == 0 || (s[0] == '0' && n != 1) {
		return "", s, false
	}
	return s[:n], s[n:], true
}

// parseGoToolchain parses "go" + a go/version version into the SemVer form
// described at Go, or returns nil.
func parseGoToolchain(v string) *semverKey {
	s, _, _ := strings.Cut(v, "-")
	s = s[2:]
	k := &semverKey{}
	var ok bool
	if k.major, s, ok = goverNum(s); !ok {
		return nil
	}
	if s == "" {
		k.minor, k.patch = "0", "0"
		return k
	}
	if s[0] != '.' {
		return nil
	}
	if k.minor, s, ok = goverNum(s[1:]); !ok {
		return nil
	}
	k.patch = "0"
	if s == "" {
		if cmpNum(k.minor, "21") >= 0 {
			// Language version: below every pre-release and release of X.Y.
			k.pre = []semverIdent{{num: true, s: "0"}}
		}
		return k
	}
	if s[0] == '.' {
		if k.patch, s, ok = goverNum(s[1:]); !ok || s != "" {
			return nil
		}
		return k
	}
	i := 0
	for i < len(s) && !isDigit(s[i]) {
		if !isLower(s[i]) {
			return nil
		}
		i++
	}
	if i == 0 {
		return nil
	}
	kind := s[:i]
	s = s[i:]
	k.pre = []semverIdent{{s: kind}}
	if s == "" {
		return k
	}
	var n string
	if n, s, ok = goverNum(s); !ok || s != "" {
		return nil
	}
	k.pre = append(k.pre, semverIdent{num: true, s: n})
	return k
}
