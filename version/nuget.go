package version

import "strings"

// NuGet returns the scheme of NuGet package versions, ordered as
// NuGet.Versioning's NuGetVersion and VersionComparer order them: 1 to 4
// numeric parts (missing ones are 0, each at most 2147483647, leading zeros
// allowed: 1.0.01 = 1.0.1.0), then optional "-" release labels and "+"
// metadata.
//
// Release labels are dot-separated [0-9A-Za-z-] identifiers, not empty,
// numeric ones without leading zeros; metadata identifiers follow the same
// rule but may have leading zeros. A version with labels sorts before the
// same version without; labels that parse as 32-bit integers compare
// numerically and before the others, which compare case-insensitively.
// Metadata is ignored. Surrounding white space is dropped; parts must be
// plain ASCII digits (.NET would also accept signs and inner spaces).
func NuGet() Scheme { return &scheme{name: "nuget", parse: parseNuGet} }

type nugetLabel struct {
	isNum bool
	n     int64
	s     string // upper-cased
}

type nugetKey struct {
	parts  [4]int64
	labels []nugetLabel
}

func (k *nugetKey) cmp(o key) int {
	p := o.(*nugetKey)
	for i := range k.parts {
		if k.parts[i] != p.parts[i] {
			if k.parts[i] < p.parts[i] {
				return -1
			}
			return 1
		}
	}
	if len(k.labels) == 0 || len(p.labels) == 0 {
		return cmpBool(len(k.labels) == 0, len(p.labels) == 0)
	}
	for i := 0; i < len(k.labels) && i < len(p.labels); i++ {
		a, b := k.labels[i], p.labels[i]
		switch {
		case a.isNum && b.isNum:
			if a.n != b.n {
				if a.n < b.n {
					return -1
				}
				return 1
			}
		case a.isNum != b.isNum:
			if a.isNum {
				return -1
			}
			return 1
		default:
			if c := cmpString(a.s, b.s); c != 0 {
				return c
			}
		}
	}
	return sign(len(k.labels) - len(p.labels))
}

// nugetInt32 parses a label as .NET's Int32.TryParse would (labels hold no
// white space or '+', so: optional '-', digits, within range).
func nugetInt32(s string) (int64, bool) {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if s == "" || digits(s) != len(s) {
		return 0, false
	}
	s = trimZeros(s)
	if len(s) > 10 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	if n > 2147483647 || n < -2147483648 {
		return 0, false
	}
	return n, true
}

// nugetPartValid is NuGet's IsValidPart.
func nugetPartValid(s string, allowLeadingZeros bool) bool {
	if s == "" {
		return false
	}
	if !allowLeadingZeros && len(s) > 1 && s[0] == '0' && digits(s) == len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

func isDotNetSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func parseNuGet(v string) (key, error) {
	bad := func(reason string) (key, error) { return nil, invalid("nuget", v, reason) }
	s := v
	for s != "" && isDotNetSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isDotNetSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if s == "" {
		return bad("version string is empty")
	}
	// NuGet's ParseSections: the version ends at the first '-' or '+', the
	// labels at the next '+'; a '-' or '+' at the very end stays inside the
	// part before it, which makes that part invalid.
	core, labels, meta := s, "", ""
	hasLabels, hasMeta := false, false
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		if i == len(s)-1 {
			return bad("ends with '" + s[i:] + "'")
		}
		core = s[:i]
		rest := s[i+1:]
		if s[i] == '+' {
			meta, hasMeta = rest, true
		} else {
			hasLabels = true
			switch j := strings.IndexByte(rest, '+'); {
			case j < 0:
				labels = rest
			case j == len(rest)-1:
				return bad("ends with '+'")
			default:
				labels, meta, hasMeta = rest[:j], rest[j+1:], true
			}
		}
	}
	k := &nugetKey{}
	parts := strings.Split(core, ".")
	if len(parts) > 4 {
		return bad("more than 4 numeric parts")
	}
	for i, p := range parts {
		if p == "" || digits(p) != len(p) {
			return bad("numeric parts must be digits separated by single dots")
		}
		n, ok := nugetInt32(p)
		if !ok {
			return bad("numeric part larger than 2147483647")
		}
		k.parts[i] = n
	}
	if hasLabels {
		for _, l := range strings.Split(labels, ".") {
			if !nugetPartValid(l, false) {
				return bad("bad release label (dot-separated non-empty [0-9A-Za-z-] identifiers, numeric ones without leading zeros)")
			}
			lab := nugetLabel{s: strings.ToUpper(l)}
			lab.n, lab.isNum = nugetInt32(l)
			k.labels = append(k.labels, lab)
		}
	}
	if hasMeta {
		for _, m := range strings.Split(meta, ".") {
			if !nugetPartValid(m, true) {
				return bad("bad metadata (dot-separated non-empty [0-9A-Za-z-] identifiers)")
			}
		}
	}
	return k, nil
}
