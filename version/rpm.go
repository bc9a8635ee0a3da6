package version

// RPM returns the scheme of rpm package versions, [epoch:]version[-release],
// ordered by rpm's rpmvercmp: alphanumeric segments (numeric ones compared
// as numbers, and newer than alphabetic ones), '~' sorting before everything
// (pre-releases) and '^' after the base version but before anything else
// appended to it (snapshots).
//
// The epoch is the run of digits before the first ':' (as rpm's parseEVR
// reads it; "a:1" has no epoch); a missing epoch is 0. The release follows
// the last '-'. A version without a release sorts before the same version
// with any release, as rpm.labelCompare does with a None release. An empty
// version part ("", "1:", "2:-1") is invalid, as rpm's labelCompare says;
// so are NUL bytes, which rpm can never see. rpm compares any other string.
func RPM() Scheme { return &scheme{name: "rpm", parse: parseRPM} }

type rpmKey struct {
	epoch, version, release string
	hasRelease              bool
}

func (k *rpmKey) cmp(o key) int {
	p := o.(*rpmKey)
	if c := rpmvercmp(k.epoch, p.epoch); c != 0 {
		return c
	}
	if c := rpmvercmp(k.version, p.version); c != 0 {
		return c
	}
	if k.hasRelease != p.hasRelease {
		return cmpBool(k.hasRelease, p.hasRelease)
	}
	return rpmvercmp(k.release, p.release)
}

func parseRPM(v string) (key, error) {
	if v == "" {
		return nil, invalid("rpm", v, "version string is empty")
	}
	if hasNUL(v) {
		return nil, invalid("rpm", v, "contains a NUL byte")
	}
	k := &rpmKey{epoch: "0"}
	rest := v
	if n := digits(v); n < len(v) && v[n] == ':' {
		if n > 0 {
			k.epoch = v[:n]
		}
		rest = v[n+1:]
	}
	k.version = rest
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '-' {
			k.version, k.release, k.hasRelease = rest[:i], rest[i+1:], true
			break
		}
	}
	if k.version == "" {
		return nil, invalid("rpm", v, "version part (between the epoch and the release) is empty")
	}
	return k, nil
}

func rpmSep(c byte) bool { return !isAlnum(c) && c != '~' && c != '^' }

// rpmvercmp compares two version (or release) strings as rpm does.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && rpmSep(a[i]) {
			i++
		}
		for j < len(b) && rpmSep(b[j]) {
			j++
		}
		ca, cb := byte(0), byte(0)
		if i < len(a) {
			ca = a[i]
		}
		if j < len(b) {
			cb = b[j]
		}
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			if i == len(a) {
				return -1
			}
			if j == len(b) {
				return 1
			}
			if ca != '^' {
				return 1
			}
			if cb != '^' {
				return -1
			}
			i++
			j++
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}
		si, sj := i, j
		isnum := isDigit(a[i])
		if isnum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if sj == j {
			// Segments of different kinds: numeric is newer.
			if isnum {
				return 1
			}
			return -1
		}
		var c int
		if isnum {
			c = cmpNum(a[si:i], b[sj:j])
		} else {
			c = cmpString(a[si:i], b[sj:j])
		}
		if c != 0 {
			return c
		}
	}
	if i >= len(a) && j >= len(b) {
		return 0
	}
	if i >= len(a) {
		return -1
	}
	return 1
}
