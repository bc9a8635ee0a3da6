package vulndb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unsafe"
)

// The values in the database are compact binary records: unsigned varints
// for counts and lengths, length-prefixed strings. Decoding never trusts a
// length: every read is bounds-checked and a short or inconsistent value
// becomes ErrCorrupt, never a panic.

// Limits on what one decoded value may hold; far above anything real.
const (
	maxListLen   = 1 << 20
	maxStringLen = 64 << 20
)

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) byte1(c byte)     { e.b = append(e.b, c) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// frontCoded writes a list whose neighbours share prefixes (a "versions"
// list: "1.0.1f-1ubuntu2.1", "1.0.1f-1ubuntu2.2", ...): the count, the
// total length of the strings, then for each string the length of the
// prefix it shares with the one before and the rest. Ubuntu's lists come
// out at about a fifth of their plain size, which is less to decompress on
// every lookup.
func (e *encoder) frontCoded(ss []string) {
	e.uvarint(uint64(len(ss)))
	if len(ss) == 0 {
		return
	}
	total := 0
	for _, s := range ss {
		total += len(s)
	}
	e.uvarint(uint64(total))
	prev := ""
	for _, s := range ss {
		n := 0
		for n < len(s) && n < len(prev) && s[n] == prev[n] {
			n++
		}
		e.uvarint(uint64(n))
		e.str(s[n:])
		prev = s
	}
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	e.uvarint(1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

func (e *encoder) float(f float64) { e.uvarint(math.Float64bits(f)) }

var errShort = errors.New("value truncated")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail(errShort)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// count reads a list length and checks it against what is left: every
// element takes at least one byte.
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err == nil && (n > maxListLen || n > uint64(len(d.b))) {
		d.fail(fmt.Errorf("list length %d out of range", n))
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxStringLen || n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("string length %d out of range", n))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.str())
	}
	return out
}

func (d *decoder) time() time.Time {
	switch d.uvarint() {
	case 0:
		return time.Time{}
	case 1:
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.fail(fmt.Errorf("nanoseconds %d out of range", nsec))
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	default:
		d.fail(errors.New("bad time tag"))
		return time.Time{}
	}
}

func (d *decoder) float() float64 { return math.Float64frombits(d.uvarint()) }

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.b)))
	}
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	return nil
}

// entry is an Affected as stored under one package key, with the scope that
// identifies its document.
type entry struct {
	Scope string
	A     Affected
}

// Event kinds in the encoding.
const (
	evIntroduced = iota + 1
	evFixed
	evLastAffected
	evLimit
)

// Range type codes; anything else is stored as a string after code 0.
func rangeCode(t string) byte {
	switch t {
	case RangeEcosystem:
		return 1
	case RangeSemver:
		return 2
	}
	return 0
}

// Source codes; anything else is stored as a string after code 0.
func sourceCode(s string) byte {
	switch s {
	case SourceOSV:
		return 1
	case SourceDebianTracker:
		return 2
	case SourceAlpineSecdb:
		return 3
	}
	return 0
}

func sourceName(c byte) string {
	switch c {
	case 1:
		return SourceOSV
	case 2:
		return SourceDebianTracker
	case 3:
		return SourceAlpineSecdb
	}
	return ""
}

// entriesVersion is the layout of a package value: version byte, count,
// then each entry as a length-prefixed body, so that a build can merge,
// drop and sort entries by reading only their first fields.
const entriesVersion = 3

// encodeEntries writes the entries of one package key. Ecosystem is implied
// by the key; Package is stored only when it differs from the key's name.
func encodeEntries(dst []byte, keyName string, es []entry) []byte {
	e := encoder{b: dst}
	e.byte1(entriesVersion)
	e.uvarint(uint64(len(es)))
	var body encoder
	for i := range es {
		body.b = encodeEntryBody(body.b[:0], keyName, &es[i])
		e.uvarint(uint64(len(body.b)))
		e.b = append(e.b, body.b...)
	}
	return e.b
}

func encodeEntryBody(dst []byte, keyName string, en *entry) []byte {
	e := encoder{b: dst}
	a := &en.A
	c := sourceCode(a.Source)
	e.byte1(c)
	if c == 0 {
		e.str(a.Source)
	}
	e.str(en.Scope)
	e.str(a.ID)
	e.strs(a.Aliases)
	if a.Package == keyName {
		e.str("")
	} else {
		e.str(a.Package)
	}
	e.uvarint(uint64(len(a.Ranges)))
	for _, r := range a.Ranges {
		rc := rangeCode(r.Type)
		e.byte1(rc)
		if rc == 0 {
			e.str(r.Type)
		}
		e.uvarint(uint64(len(r.Events)))
		for _, ev := range r.Events {
			switch {
			case ev.Introduced != "":
				e.byte1(evIntroduced)
				e.str(ev.Introduced)
			case ev.Fixed != "":
				e.byte1(evFixed)
				e.str(ev.Fixed)
			case ev.LastAffected != "":
				e.byte1(evLastAffected)
				e.str(ev.LastAffected)
			default:
				e.byte1(evLimit)
				e.str(ev.Limit)
			}
		}
	}
	e.frontCoded(a.Versions)
	e.str(a.Status)
	e.str(a.Severity)
	return e.b
}

// rawEntry is an encoded entry (length prefix included) with the fields
// that identify and order it.
type rawEntry struct {
	source, scope, id string
	enc               []byte
}

// splitEntries cuts a package value into its entries without decoding
// them. The returned slices alias b.
func splitEntries(b []byte) ([]rawEntry, error) {
	d := decoder{b: b}
	if v := d.byte1(); d.err == nil && v != entriesVersion {
		return nil, fmt.Errorf("%w: entries version %d", ErrCorrupt, v)
	}
	n := d.count()
	out := make([]rawEntry, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		start := d.b
		l := d.uvarint()
		if d.err != nil {
			break
		}
		if l > uint64(len(d.b)) {
			d.fail(fmt.Errorf("entry length %d out of range", l))
			break
		}
		body := d.b[:l]
		enc := start[:len(start)-len(d.b)+int(l)]
		d.b = d.b[l:]
		bd := decoder{b: body}
		var re rawEntry
		c := bd.byte1()
		if c == 0 {
			re.source = bd.str()
		} else if re.source = sourceName(c); re.source == "" {
			bd.fail(fmt.Errorf("source code %d", c))
		}
		re.scope = bd.str()
		re.id = bd.str()
		if bd.err != nil {
			d.fail(bd.err)
			break
		}
		re.enc = enc
		out = append(out, re)
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return out, nil
}

// joinEntries writes a package value from encoded entries.
func joinEntries(dst []byte, es []rawEntry) []byte {
	dst = append(dst, entriesVersion)
	dst = binary.AppendUvarint(dst, uint64(len(es)))
	for _, e := range es {
		dst = append(dst, e.enc...)
	}
	return dst
}

// fastDecoder reads from one string holding a whole decompressed value, so
// that every decoded string is a substring of it: one allocation for all
// the strings of a lookup. Lists come from shared backing arrays.
type fastDecoder struct {
	s   string
	i   int
	err error

	strs   []string
	events []Event
	ranges []Range
	// Chunk sizes for the next allocation of each backing array, sized
	// from the entry count and doubled as they run out.
	nStrs, nEvents, nRanges int
	// What the current entry took from the backing arrays (visitEntries
	// grows its scratch arrays from these).
	usedStrs, usedEvents, usedRanges int
	// arena backs the strings of front-coded lists; usedArena is what the
	// current entry took of it.
	arena     []byte
	usedArena int
}

func (d *fastDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *fastDecoder) uvarint() uint64 {
	// Most values are counts and lengths under 128: one byte.
	if d.i < len(d.s) && d.err == nil {
		if c := d.s[d.i]; c < 0x80 {
			d.i++
			return uint64(c)
		}
	}
	return d.uvarintSlow()
}

func (d *fastDecoder) uvarintSlow() uint64 {
	var x uint64
	var shift uint
	for n := 0; ; n++ {
		if d.err != nil {
			return 0
		}
		if d.i >= len(d.s) || n == binary.MaxVarintLen64 {
			d.fail(errShort)
			return 0
		}
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			if n == binary.MaxVarintLen64-1 && c > 1 {
				d.fail(errors.New("varint overflow"))
				return 0
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
}

func (d *fastDecoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if d.i >= len(d.s) {
		d.fail(errShort)
		return 0
	}
	c := d.s[d.i]
	d.i++
	return c
}

func (d *fastDecoder) count() int {
	n := d.uvarint()
	if d.err == nil && (n > maxListLen || n > uint64(len(d.s)-d.i)) {
		d.fail(fmt.Errorf("list length %d out of range", n))
		return 0
	}
	return int(n)
}

func (d *fastDecoder) str() string {
	if d.i < len(d.s) && d.err == nil {
		if n := int(d.s[d.i]); n < 0x80 && n < len(d.s)-d.i {
			out := d.s[d.i+1 : d.i+1+n]
			d.i += 1 + n
			return out
		}
	}
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.i) {
		d.fail(fmt.Errorf("string length %d out of range", n))
		return ""
	}
	out := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return out
}

// takeStrs returns n string slots from the decoder's backing array.
func (d *fastDecoder) takeStrs(n int) []string {
	if len(d.strs) < n {
		d.strs = make([]string, max(n, d.nStrs))
		d.nStrs *= 2
	}
	d.usedStrs += n
	out := d.strs[:n:n]
	d.strs = d.strs[n:]
	return out
}

func (d *fastDecoder) strList() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := d.takeStrs(n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// frontCoded decodes what encoder.frontCoded wrote. The strings live in
// d.arena, which is reserved for the whole list first so that appending
// never moves the strings already made.
func (d *fastDecoder) frontCoded() []string {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	// Shared prefixes let a few bytes stand for long strings; a list more
	// than 64 times the size of what is left of the value is not one vigil
	// wrote, and is refused before anything is reserved for it.
	total := d.uvarint()
	if d.err == nil && (total > maxValueSize || total > 64*uint64(len(d.s)-d.i)) {
		d.fail(fmt.Errorf("front-coded list of %d bytes", total))
	}
	if d.err != nil {
		return nil
	}
	if cap(d.arena)-len(d.arena) < int(total) {
		d.arena = make([]byte, 0, max(int(total), 2*cap(d.arena)))
	}
	d.usedArena += int(total)
	out := d.takeStrs(n)
	// The loop works on locals: this is the innermost loop of a lookup of
	// a package with long lists (Ubuntu's), a few nanoseconds a string.
	arena, src, pos := d.arena, d.s, d.i
	limit := len(arena) + int(total)
	prevStart, prevLen := 0, 0
	for i := range out {
		var shared, n int
		if pos+1 < len(src) && src[pos] < 0x80 && src[pos+1] < 0x80 {
			shared, n = int(src[pos]), int(src[pos+1])
			pos += 2
		} else {
			d.i = pos
			sh, l := d.uvarint(), d.uvarint()
			if d.err == nil && (sh > maxValueSize || l > maxValueSize) {
				d.fail(fmt.Errorf("front-coded string %d out of range", i))
			}
			if d.err != nil {
				return nil
			}
			shared, n, pos = int(sh), int(l), d.i
		}
		if n > len(src)-pos || shared > prevLen || len(arena)+shared+n > limit {
			d.fail(fmt.Errorf("front-coded string %d out of range", i))
			return nil
		}
		start := len(arena)
		arena = arena[:start+shared+n]
		copy(arena[start:], arena[prevStart:prevStart+shared])
		copy(arena[start+shared:], src[pos:pos+n])
		pos += n
		if shared+n == 0 {
			out[i] = ""
		} else {
			out[i] = unsafe.String(&arena[start], shared+n)
		}
		prevStart, prevLen = start, shared+n
	}
	d.i, d.arena = pos, arena
	if len(arena) != limit {
		d.fail(fmt.Errorf("front-coded list is %d bytes, its header says %d", len(arena)-limit+int(total), total))
		return nil
	}
	return out
}

// decodeAffected decodes a package value into Affected entries; eco and
// keyName come from the package key.
func decodeAffected(b []byte, eco, keyName string) ([]Affected, error) {
	d := fastDecoder{s: string(b)}
	if v := d.byte1(); d.err == nil && v != entriesVersion {
		return nil, fmt.Errorf("%w: entries version %d", ErrCorrupt, v)
	}
	n := d.count()
	out := make([]Affected, n)
	d.nStrs, d.nEvents, d.nRanges = 4*n, 2*n, n
	for i := 0; i < n && d.err == nil; i++ {
		l := d.uvarint()
		if d.err == nil && l > uint64(len(d.s)-d.i) {
			d.fail(fmt.Errorf("entry length %d out of range", l))
		}
		end := d.i + int(l)
		d.decodeBody(&out[i], eco, keyName)
		if d.err == nil && d.i != end {
			d.fail(fmt.Errorf("entry %d: %d bytes left over", i, end-d.i))
		}
	}
	if d.err == nil && d.i != len(d.s) {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.s)-d.i))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	return out, nil
}

// visitScratch is the reusable memory of visitEntries: the decompressed
// value, and backing arrays for one entry's lists.
type visitScratch struct {
	buf    []byte
	a      Affected
	strs   []string
	events []Event
	ranges []Range
	arena  []byte
}

// visitEntries decodes the entries of a package value one at a time into
// sc and calls fn with each. Nothing is allocated once sc has grown to the
// largest entry: the decoded strings are views of b and the lists live in
// sc's arrays, so the *Affected is valid only until fn returns (and b
// must not change until visitEntries returns).
// An error from fn is returned as it is, with fromFn set.
func visitEntries(b []byte, eco, keyName string, sc *visitScratch, fn func(*Affected) error) (err error, fromFn bool) {
	d := fastDecoder{s: unsafe.String(unsafe.SliceData(b), len(b))}
	if v := d.byte1(); d.err == nil && v != entriesVersion {
		return fmt.Errorf("%w: entries version %d", ErrCorrupt, v), false
	}
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		l := d.uvarint()
		if d.err == nil && l > uint64(len(d.s)-d.i) {
			d.fail(fmt.Errorf("entry length %d out of range", l))
			break
		}
		end := d.i + int(l)
		d.strs, d.events, d.ranges = sc.strs[:cap(sc.strs)], sc.events[:cap(sc.events)], sc.ranges[:cap(sc.ranges)]
		d.nStrs, d.nEvents, d.nRanges = 8, 8, 2
		d.usedStrs, d.usedEvents, d.usedRanges = 0, 0, 0
		d.arena, d.usedArena = sc.arena[:0], 0
		sc.a = Affected{}
		d.decodeBody(&sc.a, eco, keyName)
		if d.err == nil && d.i != end {
			d.fail(fmt.Errorf("entry %d: %d bytes left over", i, end-d.i))
		}
		if d.err != nil {
			break
		}
		// Grow the scratch arrays to what this entry needed, so the next
		// entries of this size allocate nothing.
		if d.usedStrs > cap(sc.strs) {
			sc.strs = make([]string, 2*d.usedStrs)
		}
		if d.usedEvents > cap(sc.events) {
			sc.events = make([]Event, 2*d.usedEvents)
		}
		if d.usedRanges > cap(sc.ranges) {
			sc.ranges = make([]Range, 2*d.usedRanges)
		}
		if d.usedArena > cap(sc.arena) {
			sc.arena = make([]byte, 0, 2*d.usedArena)
		}
		if err := fn(&sc.a); err != nil {
			return err, true
		}
	}
	if d.err == nil && d.i != len(d.s) {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.s)-d.i))
	}
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, d.err), false
	}
	return nil, false
}

// Clone returns a deep copy of a that shares no memory with it: what a
// callback of DB.EachAdvisory must make of an entry it keeps.
func (a *Affected) Clone() Affected {
	c := *a
	c.ID = strings.Clone(a.ID)
	c.Ecosystem = strings.Clone(a.Ecosystem)
	c.Package = strings.Clone(a.Package)
	c.Status = strings.Clone(a.Status)
	c.Severity = strings.Clone(a.Severity)
	c.Source = strings.Clone(a.Source)
	c.Aliases = cloneStrings(a.Aliases)
	c.Versions = cloneStrings(a.Versions)
	if a.Ranges != nil {
		c.Ranges = make([]Range, len(a.Ranges))
		for i, r := range a.Ranges {
			c.Ranges[i].Type = strings.Clone(r.Type)
			if r.Events != nil {
				c.Ranges[i].Events = make([]Event, len(r.Events))
				for j, e := range r.Events {
					c.Ranges[i].Events[j] = Event{Introduced: strings.Clone(e.Introduced), Fixed: strings.Clone(e.Fixed),
						LastAffected: strings.Clone(e.LastAffected), Limit: strings.Clone(e.Limit)}
				}
			}
		}
	}
	return c
}

func cloneStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.Clone(s)
	}
	return out
}

// decodeEntries is decodeAffected keeping each entry's scope.
func decodeEntries(b []byte, eco, keyName string) ([]entry, error) {
	raws, err := splitEntries(b)
	if err != nil {
		return nil, err
	}
	as, err := decodeAffected(b, eco, keyName)
	if err != nil {
		return nil, err
	}
	out := make([]entry, len(as))
	for i := range as {
		out[i] = entry{Scope: raws[i].scope, A: as[i]}
	}
	return out, nil
}

func (d *fastDecoder) decodeBody(a *Affected, eco, keyName string) {
	c := d.byte1()
	if c == 0 {
		a.Source = d.str()
	} else if a.Source = sourceName(c); a.Source == "" {
		d.fail(fmt.Errorf("source code %d", c))
	}
	d.str() // scope
	a.ID = d.str()
	a.Aliases = d.strList()
	a.Ecosystem = eco
	if a.Package = d.str(); a.Package == "" {
		a.Package = keyName
	}
	nr := d.count()
	if nr > 0 {
		if len(d.ranges) < nr {
			d.ranges = make([]Range, max(nr, d.nRanges))
			d.nRanges *= 2
		}
		a.Ranges = d.ranges[:nr:nr]
		d.ranges = d.ranges[nr:]
		d.usedRanges += nr
	}
	for i := 0; i < nr && d.err == nil; i++ {
		r := &a.Ranges[i]
		switch rc := d.byte1(); rc {
		case 0:
			r.Type = d.str()
		case 1:
			r.Type = RangeEcosystem
		case 2:
			r.Type = RangeSemver
		default:
			d.fail(fmt.Errorf("range code %d", rc))
		}
		ne := d.count()
		if len(d.events) < ne {
			d.events = make([]Event, max(ne, d.nEvents))
			d.nEvents *= 2
		}
		r.Events = d.events[:ne:ne]
		d.events = d.events[ne:]
		d.usedEvents += ne
		for j := 0; j < ne && d.err == nil; j++ {
			k := d.byte1()
			v := d.str()
			// Whole events: visitEntries reuses the array.
			ev := &r.Events[j]
			switch k {
			case evIntroduced:
				*ev = Event{Introduced: v}
			case evFixed:
				*ev = Event{Fixed: v}
			case evLastAffected:
				*ev = Event{LastAffected: v}
			case evLimit:
				*ev = Event{Limit: v}
			default:
				d.fail(fmt.Errorf("event kind %d", k))
			}
		}
	}
	a.Versions = d.frontCoded()
	a.Status = d.str()
	a.Severity = d.str()
}

const detailsVersion = 1

// docDetails is what one source says about one ID.
type docDetails struct {
	Source string
	D      Details
}

func encodeDetails(dst []byte, d *Details) []byte {
	if dst == nil {
		n := 64 + len(d.Summary) + len(d.Details) + len(d.Severity)
		for _, l := range [][]string{d.Aliases, d.Related, d.References} {
			for _, s := range l {
				n += len(s) + 2
			}
		}
		dst = make([]byte, 0, n+len(d.CVSS)*64)
	}
	e := encoder{b: dst}
	e.byte1(detailsVersion)
	e.str(d.Summary)
	e.str(d.Details)
	e.strs(d.Aliases)
	e.strs(d.Related)
	e.time(d.Published)
	e.time(d.Modified)
	e.time(d.Withdrawn)
	e.strs(d.References)
	e.uvarint(uint64(len(d.CVSS)))
	for _, c := range d.CVSS {
		e.str(c.Version)
		e.str(c.Vector)
		e.float(c.Score)
	}
	e.str(d.Severity)
	return e.b
}

func decodeDetails(b []byte, id string) (*Details, error) {
	d := decoder{b: b}
	if v := d.byte1(); d.err == nil && v != detailsVersion {
		return nil, fmt.Errorf("%w: details version %d", ErrCorrupt, v)
	}
	out := &Details{ID: id}
	out.Summary = d.str()
	out.Details = d.str()
	out.Aliases = d.strs()
	out.Related = d.strs()
	out.Published = d.time()
	out.Modified = d.time()
	out.Withdrawn = d.time()
	out.References = d.strs()
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		out.CVSS = append(out.CVSS, CVSS{Version: d.str(), Vector: d.str(), Score: d.float()})
	}
	out.Severity = d.str()
	if err := d.done(); err != nil {
		return nil, err
	}
	return out, nil
}

// record is the index entry of one stored document: what the next update
// needs to tell whether it changed and to remove it. Names are IDs of the
// file's name table.
type record struct {
	Hash    uint64
	Feed    uint16
	Ecos    []uint16 // distinct ecosystems, for Meta.Ecosystems
	PkgKeys []string // package keys holding the document's entries
}

func encodeRecord(dst []byte, r *record) []byte {
	e := encoder{b: dst}
	e.b = binary.LittleEndian.AppendUint64(e.b, r.Hash)
	e.uvarint(uint64(r.Feed))
	e.uvarint(uint64(len(r.Ecos)))
	for _, id := range r.Ecos {
		e.uvarint(uint64(id))
	}
	e.uvarint(uint64(len(r.PkgKeys)))
	for _, k := range r.PkgKeys {
		e.str(k)
	}
	return e.b
}

func decodeRecord(b []byte) (*record, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: record index value of %d bytes", ErrCorrupt, len(b))
	}
	r := &record{Hash: binary.LittleEndian.Uint64(b)}
	d := decoder{b: b[8:]}
	id := func() uint16 {
		v := d.uvarint()
		if v > maxNames {
			d.fail(fmt.Errorf("name ID %d out of range", v))
		}
		return uint16(v)
	}
	r.Feed = id()
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		r.Ecos = append(r.Ecos, id())
	}
	r.PkgKeys = d.strs()
	if err := d.done(); err != nil {
		return nil, err
	}
	return r, nil
}

func encodeKEV(dst []byte, k *KEV) []byte {
	e := encoder{b: dst}
	e.str(k.VendorProject)
	e.str(k.Product)
	e.str(k.Name)
	e.time(k.DateAdded)
	e.str(k.ShortDescription)
	e.str(k.RequiredAction)
	e.time(k.DueDate)
	e.str(k.KnownRansomwareCampaignUse)
	e.str(k.Notes)
	e.strs(k.CWEs)
	return e.b
}

func decodeKEV(b []byte, cve string) (*KEV, error) {
	d := decoder{b: b}
	k := &KEV{CVE: cve}
	k.VendorProject = d.str()
	k.Product = d.str()
	k.Name = d.str()
	k.DateAdded = d.time()
	k.ShortDescription = d.str()
	k.RequiredAction = d.str()
	k.DueDate = d.time()
	k.KnownRansomwareCampaignUse = d.str()
	k.Notes = d.str()
	k.CWEs = d.strs()
	if err := d.done(); err != nil {
		return nil, err
	}
	return k, nil
}

// EPSS scores and percentiles are stored as fixed-point billionths: the feed
// publishes five decimals, and a decimal with up to nine decimals survives
// the round trip exactly. The score date is the feed's, kept in Meta.
const epssScale = 1e9

func encodeEPSS(dst []byte, s *EPSS) []byte {
	e := encoder{b: dst}
	e.uvarint(uint64(math.Round(clamp01(s.Score) * epssScale)))
	e.uvarint(uint64(math.Round(clamp01(s.Percentile) * epssScale)))
	return e.b
}

func clamp01(f float64) float64 {
	if !(f >= 0) { // also NaN
		return 0
	}
	return min(f, 1)
}

func decodeEPSS(b []byte, cve string) (*EPSS, error) {
	d := decoder{b: b}
	s := &EPSS{CVE: cve}
	s.Score = float64(d.uvarint()) / epssScale
	s.Percentile = float64(d.uvarint()) / epssScale
	if err := d.done(); err != nil {
		return nil, err
	}
	return s, nil
}
