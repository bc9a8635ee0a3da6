package version

// Maven returns the scheme of Maven artifact versions, ordered as Maven's
// ComparableVersion orders them (maven-artifact 3.8/3.9).
//
// A version is split into items at '.', at '-' (which opens a sub-list) and
// at every change between digits and letters (which also opens a sub-list,
// so 1.0.0.RC1 = 1.0.0-RC1 = 1-rc-1). Numbers compare numerically and above
// qualifiers; known qualifiers order alpha < beta < milestone < rc = cr <
// snapshot < "" = ga = final = release < sp, with a, b and m directly
// followed by a digit meaning alpha, beta and milestone; unknown qualifiers
// sort after the known ones, lexically and case-insensitively. Trailing zeros
// and release qualifiers are trimmed (1 = 1.0 = 1.0.0 = 1-ga). Maven accepts
// any string; here the empty string and non-ASCII text (where Java's Unicode
// digit and case rules would apply) are errors.
//
// Maven's order has cycles on odd inputs, and so has this one, on purpose:
// 1.a. < 1a0 < 1 < 1.a. (a trailing '.' leaves the unknown qualifier "a" in
// the top list, above the release but below any sub-list). Advisory ranges
// are computed with Maven's order, so matching must use it, cycles included.
func Maven() Scheme { return &scheme{name: "maven", parse: parseMaven} }

const (
	mvnInt = iota
	mvnString
	mvnList
)

// mvnRelease is the comparable form of the release qualifier "".
const mvnRelease = "5"

type mvnItem struct {
	kind  int
	num   string // mvnInt: digits without leading zeros
	q     string // mvnString: comparable qualifier
	items []*mvnItem
}

type mavenKey struct{ root *mvnItem }

func (k *mavenKey) cmp(o key) int { return mvnCmp(k.root, o.(*mavenKey).root) }

func (it *mvnItem) isNull() bool {
	switch it.kind {
	case mvnInt:
		return it.num == ""
	case mvnString:
		return it.q == mvnRelease
	}
	return len(it.items) == 0
}

// mvnCmp compares item a with item b; b may be nil (nothing there).
func mvnCmp(a, b *mvnItem) int {
	switch a.kind {
	case mvnInt:
		if b == nil {
			return cmpBool(a.num != "", false)
		}
		if b.kind == mvnInt {
			return cmpNum(a.num, b.num)
		}
		return 1
	case mvnString:
		if b == nil {
			return cmpString(a.q, mvnRelease)
		}
		switch b.kind {
		case mvnString:
			return cmpString(a.q, b.q)
		case mvnInt, mvnList:
			return -1
		}
	}
	// a is a list.
	if b == nil {
		for _, it := range a.items {
			if c := mvnCmp(it, nil); c != 0 {
				return c
			}
		}
		return 0
	}
	switch b.kind {
	case mvnInt:
		return -1
	case mvnString:
		return 1
	}
	for i := 0; i < len(a.items) || i < len(b.items); i++ {
		var c int
		switch {
		case i >= len(a.items):
			c = -mvnCmp(b.items[i], nil)
		case i >= len(b.items):
			c = mvnCmp(a.items[i], nil)
		default:
			c = mvnCmp(a.items[i], b.items[i])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

var mvnQualifiers = map[string]string{
	"alpha": "0", "beta": "1", "milestone": "2", "rc": "3", "cr": "3",
	"snapshot": "4", "": "5", "ga": "5", "final": "5", "release": "5", "sp": "6",
}

func mvnQualifier(s string, followedByDigit bool) *mvnItem {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	q, ok := mvnQualifiers[s]
	if !ok {
		q = "7-" + s
	}
	return &mvnItem{kind: mvnString, q: q}
}

func mvnParseItem(isDigit bool, s string) *mvnItem {
	if isDigit {
		return &mvnItem{kind: mvnInt, num: trimZeros(s)}
	}
	return mvnQualifier(s, false)
}

func parseMaven(v string) (key, error) {
	if v == "" {
		return nil, invalid("maven", v, "version string is empty")
	}
	b := []byte(v)
	for i, c := range b {
		if c >= 0x80 {
			return nil, invalid("maven", v, "non-ASCII character")
		}
		b[i] = toLower(c)
	}
	s := string(b)
	root := &mvnItem{kind: mvnList}
	list := root
	stack := []*mvnItem{root}
	push := func() {
		n := &mvnItem{kind: mvnList}
		list.items = append(list.items, n)
		list = n
		stack = append(stack, n)
	}
	zero := &mvnItem{kind: mvnInt}
	isDig := false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' || c == '-':
			if i == start {
				list.items = append(list.items, zero)
			} else {
				list.items = append(list.items, mvnParseItem(isDig, s[start:i]))
			}
			start = i + 1
			if c == '-' {
				push()
			}
		case isDigit(c):
			if !isDig && i > start {
				if len(list.items) > 0 {
					push()
				}
				list.items = append(list.items, mvnQualifier(s[start:i], true))
				start = i
				push()
			}
			isDig = true
		default:
			if isDig && i > start {
				list.items = append(list.items, mvnParseItem(true, s[start:i]))
				start = i
				push()
			}
			isDig = false
		}
	}
	if len(s) > start {
		if !isDig && len(list.items) > 0 {
			push()
		}
		list.items = append(list.items, mvnParseItem(isDig, s[start:]))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		l := stack[i]
		for j := len(l.items) - 1; j >= 0; j-- {
			if l.items[j].isNull() {
				l.items = append(l.items[:j], l.items[j+1:]...)
			} else if l.items[j].kind != mvnList {
				break
			}
		}
	}
	return &mavenKey{root: root}, nil
}
