package osv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// fastRecord decodes a JSON record in one pass, reading the fields vigil
// uses and skipping the rest without building anything. It accepts exactly
// what encoding/json accepts for Record and produces the same Record (a
// differential fuzz test holds it to that); on any error the caller falls
// back to encoding/json, whose error message is the one reported.
//
// It exists because decoding is most of the cost of a full database build:
// encoding/json validates the whole input, then decodes it through
// reflection.
func fastRecord(data []byte, r *Record) error {
	p := jparser{b: data}
	p.ws()
	if p.lit("null") {
		p.ws()
		return p.end()
	}
	if err := r.fast(&p); err != nil {
		return err
	}
	p.ws()
	return p.end()
}

const maxDepth = 10000

var errSyntax = errors.New("json syntax")

type jparser struct {
	b       []byte
	i       int
	depth   int
	buf     []byte
	escaped bool // the last string read was unescaped into buf
}

func (p *jparser) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, p.i)
}

func (p *jparser) end() error {
	if p.i != len(p.b) {
		return p.fail("data after the top-level value")
	}
	return nil
}

func (p *jparser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ':
			// Indentation: eight spaces at a time.
			for p.i+8 <= len(p.b) {
				x := binary.LittleEndian.Uint64(p.b[p.i:]) ^ (swarOnes * ' ')
				if x != 0 {
					p.i += bits.TrailingZeros64(x) >> 3
					break
				}
				p.i += 8
			}
			if p.i < len(p.b) && p.b[p.i] == ' ' {
				p.i++
			}
		case '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// SWAR ("SIMD within a register") constants: eight bytes are tested at
// once, in a uint64.
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// plainMask is nonzero when one of the eight bytes of w ends the plain run
// of a string: a quote, a backslash, a control character or a non-ASCII
// byte. Its lowest set bit lies in the first such byte (the borrows of the
// subtractions can only mark bytes above it).
func plainMask(w uint64) uint64 {
	q := w ^ (swarOnes * '"')
	b := w ^ (swarOnes * '\\')
	return ((q-swarOnes) & ^q | (b-swarOnes) & ^b | (w-swarOnes*0x20) & ^w | w) & swarHigh
}

// lit consumes a literal (null, true, false) if it comes next.
func (p *jparser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *jparser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// object reads an object, calling field for each key with the parser
// positioned at the value (after the colon and white space). field must
// consume the value.
func (p *jparser) object(field func(key []byte) error) error {
	if p.peek() != '{' {
		return errType
	}
	p.depth++
	if p.depth > maxDepth {
		return p.fail("nesting too deep")
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		p.depth--
		return nil
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return p.fail("want object key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if p.escaped {
			key = bytes.Clone(key) // buf is reused for the value
		}
		p.ws()
		if p.peek() != ':' {
			return p.fail("want colon")
		}
		p.i++
		p.ws()
		if err := field(key); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return nil
		default:
			return p.fail("want comma or end of object")
		}
	}
}

// array reads an array, calling elem with the parser at each element.
func (p *jparser) array(elem func() error) error {
	if p.peek() != '[' {
		return errType
	}
	p.depth++
	if p.depth > maxDepth {
		return p.fail("nesting too deep")
	}
	p.i++
	p.ws()
	if p.peek() == ']' {
		p.i++
		p.depth--
		return nil
	}
	for {
		p.ws()
		if err := elem(); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return nil
		default:
			return p.fail("want comma or end of array")
		}
	}
}

// errType means the value has another JSON type than the field; the
// caller falls back to encoding/json, which reports it.
var errType = errors.New("json type mismatch")

// str reads a string and returns its unescaped bytes, which stay valid
// until the next call. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func (p *jparser) str() ([]byte, error) {
	if p.peek() != '"' {
		return nil, errType
	}
	p.i++
	start := p.i
	p.escaped = false
	// Fast path: no escapes, ASCII only; eight bytes at a time, then the
	// byte that ended the run.
	for p.i+8 <= len(p.b) {
		if m := plainMask(binary.LittleEndian.Uint64(p.b[p.i:])); m != 0 {
			p.i += bits.TrailingZeros64(m) >> 3
			break
		}
		p.i += 8
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			return s, nil
		}
		if c == '\\' || c >= utf8.RuneSelf {
			break
		}
		if c < 0x20 {
			return nil, p.fail("control character in string")
		}
		p.i++
	}
	p.escaped = true
	p.buf = append(p.buf[:0], p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.buf, nil
		case c < 0x20:
			return nil, p.fail("control character in string")
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return nil, p.fail("unterminated escape")
			}
			e := p.b[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				p.buf = append(p.buf, e)
			case 'b':
				p.buf = append(p.buf, '\b')
			case 'f':
				p.buf = append(p.buf, '\f')
			case 'n':
				p.buf = append(p.buf, '\n')
			case 'r':
				p.buf = append(p.buf, '\r')
			case 't':
				p.buf = append(p.buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return nil, p.fail("bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A low surrogate must follow for a valid pair;
					// otherwise the half is replaced.
					save := p.i
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						p.i += 2
						r2, ok2 := p.hex4()
						if !ok2 {
							return nil, p.fail("bad \\u escape")
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							p.buf = utf8.AppendRune(p.buf, dec)
							continue
						}
					}
					p.i = save
					r = utf8.RuneError
				}
				p.buf = utf8.AppendRune(p.buf, r)
			default:
				return nil, p.fail("bad escape")
			}
		case c < utf8.RuneSelf:
			p.buf = append(p.buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				p.buf = utf8.AppendRune(p.buf, utf8.RuneError)
			} else {
				p.buf = append(p.buf, p.b[p.i:p.i+size]...)
			}
			p.i += size
		}
	}
	return nil, p.fail("unterminated string")
}

func (p *jparser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	for _, c := range p.b[p.i : p.i+4] {
		if c == '+' || c == '-' || c == '_' {
			return 0, false
		}
	}
	p.i += 4
	return rune(v), true
}

// skip consumes any value, checking its syntax.
func (p *jparser) skip() error {
	switch c := p.peek(); {
	case c == '{':
		return p.object(func([]byte) error { return p.skip() })
	case c == '[':
		return p.array(p.skip)
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case p.lit("true"), p.lit("false"), p.lit("null"):
		return nil
	default:
		return p.fail("want a value")
	}
}

// number consumes a number per the JSON grammar.
func (p *jparser) number() error {
	if p.peek() == '-' {
		p.i++
	}
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
	default:
		return p.fail("bad number")
	}
	if p.peek() == '.' {
		p.i++
		if c := p.peek(); c < '0' || c > '9' {
			return p.fail("bad number")
		}
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if c := p.peek(); c < '0' || c > '9' {
			return p.fail("bad number")
		}
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
	}
	return nil
}

// isNull consumes null if it comes next.
func (p *jparser) isNull() bool { return p.lit("null") }

// strField reads a string field: null leaves it unchanged.
func (p *jparser) strField(dst *string) error {
	if p.isNull() {
		return nil
	}
	s, err := p.str()
	if err != nil {
		return err
	}
	*dst = string(s)
	return nil
}

// strsField reads a []string field: null sets nil. Elements that are null
// become "".
func (p *jparser) strsField(dst *[]string) error {
	if p.isNull() {
		*dst = nil
		return nil
	}
	out := []string{}
	err := p.array(func() error {
		var s string
		if err := p.strField(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

// listField reads a slice of structs: null sets nil; each element is
// decoded by elem into a new zero value (a null element stays zero).
func listField[T any](p *jparser, dst *[]T, elem func(*T) error) error {
	if p.isNull() {
		*dst = nil
		return nil
	}
	out := []T{}
	err := p.array(func() error {
		var v T
		if !p.isNull() {
			if err := elem(&v); err != nil {
				return err
			}
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

// fields matches object keys to a struct's field names the way
// encoding/json does (exactly, else case-insensitively) and refuses a field
// that occurs twice: encoding/json merges repeated fields in ways not worth
// copying, so such a record takes the fallback.
type fields struct {
	names []string
	seen  uint64
}

// match returns the index of the field key names, or -1 to skip the value.
func (f *fields) match(key []byte) (int, error) {
	i := -1
	for j, n := range f.names {
		if string(key) == n {
			i = j
			break
		}
	}
	if i < 0 {
		for j, n := range f.names {
			if bytes.EqualFold(key, []byte(n)) {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return -1, nil
	}
	if f.seen&(1<<i) != 0 {
		return 0, errType
	}
	f.seen |= 1 << i
	return i, nil
}

var (
	recordFields    = []string{"schema_version", "id", "modified", "published", "withdrawn", "aliases", "upstream", "related", "summary", "details", "severity", "affected", "references", "database_specific"}
	severityFields  = []string{"type", "score"}
	referenceFields = []string{"type", "url"}
	affectedFields  = []string{"package", "severity", "ranges", "versions", "ecosystem_specific", "database_specific"}
	packageFields   = []string{"ecosystem", "name", "purl"}
	rangeFields     = []string{"type", "repo", "events"}
	eventFields     = []string{"introduced", "fixed", "last_affected", "limit"}
)

func (r *Record) fast(p *jparser) error {
	f := fields{names: recordFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		if err != nil {
			return err
		}
		switch i {
		case 0:
			return p.strField(&r.SchemaVersion)
		case 1:
			return p.strField(&r.ID)
		case 2:
			return p.strField(&r.Modified)
		case 3:
			return p.strField(&r.Published)
		case 4:
			return p.strField(&r.Withdrawn)
		case 5:
			return p.strsField(&r.Aliases)
		case 6:
			return p.strsField(&r.Upstream)
		case 7:
			return p.strsField(&r.Related)
		case 8:
			return p.strField(&r.Summary)
		case 9:
			return p.strField(&r.Details)
		case 10:
			return listField(p, &r.Severity, func(s *Severity) error { return s.fast(p) })
		case 11:
			return listField(p, &r.Affected, func(a *Affected) error { return a.fast(p) })
		case 12:
			return listField(p, &r.References, func(ref *Reference) error { return ref.fast(p) })
		case 13:
			return r.DatabaseSpecific.fast(p)
		}
		return p.skip()
	})
}

func (s *Severity) fast(p *jparser) error {
	f := fields{names: severityFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		switch {
		case err != nil:
			return err
		case i == 0:
			return p.strField(&s.Type)
		case i == 1:
			return p.strField(&s.Score)
		}
		return p.skip()
	})
}

func (ref *Reference) fast(p *jparser) error {
	f := fields{names: referenceFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		switch {
		case err != nil:
			return err
		case i == 0:
			return p.strField(&ref.Type)
		case i == 1:
			return p.strField(&ref.URL)
		}
		return p.skip()
	})
}

func (a *Affected) fast(p *jparser) error {
	f := fields{names: affectedFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		switch {
		case err != nil:
			return err
		case i == 0:
			if p.isNull() {
				return nil
			}
			return a.Package.fast(p)
		case i == 1:
			return listField(p, &a.Severity, func(s *Severity) error { return s.fast(p) })
		case i == 2:
			return listField(p, &a.Ranges, func(r *Range) error { return r.fast(p) })
		case i == 3:
			return p.strsField(&a.Versions)
		case i == 4:
			return a.EcosystemSpecific.fast(p)
		case i == 5:
			return a.DatabaseSpecific.fast(p)
		}
		return p.skip()
	})
}

func (pk *Package) fast(p *jparser) error {
	f := fields{names: packageFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		switch {
		case err != nil:
			return err
		case i == 0:
			return p.strField(&pk.Ecosystem)
		case i == 1:
			return p.strField(&pk.Name)
		case i == 2:
			return p.strField(&pk.PURL)
		}
		return p.skip()
	})
}

func (r *Range) fast(p *jparser) error {
	f := fields{names: rangeFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		switch {
		case err != nil:
			return err
		case i == 0:
			return p.strField(&r.Type)
		case i == 1:
			return p.strField(&r.Repo)
		case i == 2:
			return listField(p, &r.Events, func(e *Event) error { return e.fast(p) })
		}
		return p.skip()
	})
}

func (e *Event) fast(p *jparser) error {
	f := fields{names: eventFields}
	return p.object(func(key []byte) error {
		i, err := f.match(key)
		switch {
		case err != nil:
			return err
		case i == 0:
			return p.strField(&e.Introduced)
		case i == 1:
			return p.strField(&e.Fixed)
		case i == 2:
			return p.strField(&e.LastAffected)
		case i == 3:
			return p.strField(&e.Limit)
		}
		return p.skip()
	})
}

// fast reads a free-form object as Specific.UnmarshalJSON does: the last
// occurrence of each known key counts, and only a string value sets it.
// Anything that is not an object leaves it zero.
func (s *Specific) fast(p *jparser) error {
	*s = Specific{}
	if p.peek() != '{' {
		return p.skip()
	}
	return p.object(func(key []byte) error {
		switch k := string(key); k {
		case "severity", "urgency", "ubuntu_priority":
			if p.peek() == '"' {
				v, err := p.str()
				if err != nil {
					return err
				}
				s.set(k, string(v))
				return nil
			}
			s.set(k, "")
		}
		return p.skip()
	})
}
