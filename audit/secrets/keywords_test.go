package secrets

import (
	"bytes"
	"fmt"
	"testing"
)

// TestKeywordSetAgreesWithContains checks the automaton against
// bytes.Contains, the obvious oracle, on generated texts over a small
// alphabet (so that keywords overlap, share prefixes and suffixes, and
// occur often) and on the real rule keywords.
func TestKeywordSetAgreesWithContains(t *testing.T) {
	r := fakeRand(42)
	word := func(alpha string, min, max int) string {
		n := min + int(r.next())%(max-min+1)
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[int(r.next())%len(alpha)]
		}
		return string(b)
	}
	var sets [][]string
	for i := 0; i < 300; i++ {
		var ks []string
		for j := 0; j < 1+int(r.next())%maxKeywords; j++ {
			ks = append(ks, word("abc", 1, 6))
		}
		sets = append(sets, ks)
	}
	var real []string
	for _, rl := range builtinRules() {
		real = append(real, rl.keywords...)
	}
	sets = append(sets, real)
	for si, ks := range sets {
		set, err := newKeywordSet(ks)
		if err != nil {
			t.Fatal(err)
		}
		for ti := 0; ti < 20; ti++ {
			text := []byte(word("abcd", 0, 200))
			if si == len(sets)-1 {
				text = []byte(word("AKIeyJ:/_-secrtSK", 0, 400) + real[ti%len(real)][1:])
			}
			var want uint64
			for i, k := range ks {
				if bytes.Contains(text, []byte(k)) {
					want |= 1 << uint(i)
				}
			}
			if got := set.scan(text); got != want {
				t.Fatalf("set %d %q on %q: scan = %b, want %b", si, ks, text, got, want)
			}
		}
	}
}

func TestKeywordSetLimits(t *testing.T) {
	var many []string
	for i := 0; i <= maxKeywords; i++ {
		many = append(many, fmt.Sprint("k", i))
	}
	if _, err := newKeywordSet(many); err == nil {
		t.Error("65 keywords: want an error")
	}
	if _, err := newKeywordSet([]string{"a", ""}); err == nil {
		t.Error("empty keyword: want an error")
	}
	if set, err := newKeywordSet(nil); err != nil || set.scan([]byte("anything")) != 0 {
		t.Errorf("no keywords: %v", err)
	}
}
