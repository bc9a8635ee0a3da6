package version

// Dpkg returns the scheme of Debian and Ubuntu package versions,
// [epoch:]upstream[-revision], ordered as dpkg orders them
// (deb-version(7), lib/dpkg/version.c).
//
// Validity follows `dpkg --compare-versions`: what dpkg rejects with an
// error (an empty version, an empty, non-numeric, negative or too large
// epoch, nothing after the colon, an empty upstream version or revision,
// embedded blanks) is an error here; what dpkg only warns about (an upstream
// version not starting with a digit, characters outside deb-version's set)
// is compared the way dpkg compares it. A NUL byte, which dpkg can never see
// on its command line, is an error.
func Dpkg() Scheme { return &scheme{name: "dpkg", parse: parseDpkg} }

type dpkgKey struct {
	epoch    int64
	upstream string
	revision string
}

func (k *dpkgKey) cmp(o key) int {
	p := o.(*dpkgKey)
	if k.epoch != p.epoch {
		if k.epoch < p.epoch {
			return -1
		}
		return 1
	}
	if c := verrevcmp(k.upstream, p.upstream); c != 0 {
		return c
	}
	return verrevcmp(k.revision, p.revision)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func parseDpkg(v string) (key, error) {
	bad := func(reason string) (key, error) { return nil, invalid("dpkg", v, reason) }
	if v == "" {
		return bad("version string is empty")
	}
	if hasNUL(v) {
		return bad("contains a NUL byte")
	}
	s := v
	for s != "" && isBlank(s[0]) {
		s = s[1:]
	}
	end := 0
	for end < len(s) && !isBlank(s[end]) {
		end++
	}
	for i := end; i < len(s); i++ {
		if !isBlank(s[i]) {
			return bad("version string has embedded spaces")
		}
	}
	s = s[:end]
	k := &dpkgKey{}
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		// strtol(s, &end, 10): optional white space, optional sign, digits.
		j := 0
		for j < i && isCSpace(s[j]) {
			j++
		}
		neg := false
		if j < i && (s[j] == '+' || s[j] == '-') {
			neg = s[j] == '-'
			j++
		}
		n := digits(s[j:])
		if n == 0 {
			return bad("epoch in version is empty")
		}
		if j+n != i {
			return bad("epoch in version is not number")
		}
		num := trimZeros(s[j : j+n])
		if neg && num != "" {
			return bad("epoch in version is negative")
		}
		if len(num) > 10 || cmpNum(num, "2147483647") > 0 {
			return bad("epoch in version is too big")
		}
		for _, c := range []byte(num) {
			k.epoch = k.epoch*10 + int64(c-'0')
		}
		if i+1 == len(s) {
			return bad("nothing after colon in version number")
		}
		s = s[i+1:]
		break
	}
	upstream := s
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '-' {
			upstream, k.revision = s[:i], s[i+1:]
			if k.revision == "" {
				return bad("revision number is empty")
			}
			break
		}
	}
	if upstream == "" {
		return bad("version number is empty")
	}
	k.upstream = upstream
	return k, nil
}

// dpkgOrder is the weight dpkg gives a character in a non-digit run: '~'
// before the end of the run, the end before letters, letters before all
// other characters. Bytes from 0x80 up weigh their own value, because dpkg
// reads them as negative (signed) chars and adds 256.
func dpkgOrder(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	case c >= 0x80:
		return int(c)
	}
	return int(c) + 256
}

// verrevcmp compares upstream versions or revisions the way dpkg does:
// alternating non-digit runs (by dpkgOrder) and digit runs (numerically).
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := 0, 0
			if i < len(a) {
				ac = dpkgOrder(a[i])
			}
			if j < len(b) {
				bc = dpkgOrder(b[j])
			}
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			return sign(first)
		}
	}
	return 0
}
