package secrets

import "fmt"

// keywordSet finds which of up to 64 keywords occur in a text, in one pass
// over it: an Aho-Corasick automaton compiled to a dense transition table,
// so that each byte costs one table load and one OR. Running the keywords
// one bytes.Contains at a time costs a pass per keyword; with some thirty
// keywords that pass count dominated the extractor's time.
type keywordSet struct {
	// delta maps state and byte to the next state. A state where some
	// keyword ends has the terminal bit set; the rest is its index.
	delta [][256]uint16
	out   []uint64 // state -> keywords that end here (bit i = keyword i)
}

// terminal marks states in which a keyword ends.
const terminal = 1 << 15

// maxKeywords is the width of the result mask.
const maxKeywords = 64

// newKeywordSet compiles the keywords; keyword i sets bit i of Scan's result.
func newKeywordSet(keywords []string) (*keywordSet, error) {
	if len(keywords) > maxKeywords {
		return nil, fmt.Errorf("secrets: %d keywords, more than the %d a mask holds", len(keywords), maxKeywords)
	}
	// Trie.
	type node struct {
		next [256]int32
		fail int32
		out  uint64
	}
	newNode := func() node {
		var n node
		for i := range n.next {
			n.next[i] = -1
		}
		return n
	}
	nodes := []node{newNode()}
	for i, k := range keywords {
		if k == "" {
			return nil, fmt.Errorf("secrets: keyword %d is empty", i)
		}
		s := int32(0)
		for j := 0; j < len(k); j++ {
			c := k[j]
			if nodes[s].next[c] < 0 {
				nodes = append(nodes, newNode())
				nodes[s].next[c] = int32(len(nodes) - 1)
			}
			s = nodes[s].next[c]
		}
		nodes[s].out |= 1 << uint(i)
	}
	if len(nodes) >= terminal {
		return nil, fmt.Errorf("secrets: keyword automaton of %d states is too large", len(nodes))
	}
	// Breadth-first: failure links, merged outputs, and the full
	// transition function (missing edges follow the failure link).
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < 256; c++ {
		if n := nodes[0].next[c]; n >= 0 {
			nodes[n].fail = 0
			queue = append(queue, n)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nodes[s].out |= nodes[nodes[s].fail].out
		for c := 0; c < 256; c++ {
			n := nodes[s].next[c]
			if n < 0 {
				nodes[s].next[c] = nodes[nodes[s].fail].next[c]
				continue
			}
			nodes[n].fail = nodes[nodes[s].fail].next[c]
			queue = append(queue, n)
		}
	}
	ks := &keywordSet{delta: make([][256]uint16, len(nodes)), out: make([]uint64, len(nodes))}
	for s := range nodes {
		for c := 0; c < 256; c++ {
			n := nodes[s].next[c]
			ks.delta[s][c] = uint16(n)
			if nodes[n].out != 0 {
				ks.delta[s][c] |= terminal
			}
		}
		ks.out[s] = nodes[s].out
	}
	return ks, nil
}

// scan returns the mask of keywords that occur in data. Most bytes of most
// texts keep the automaton in its root state; that stretch runs as a loop
// of independent table loads, and only the bytes that start a keyword walk
// the automaton.
func (ks *keywordSet) scan(data []byte) uint64 {
	var found uint64
	root := &ks.delta[0]
	i, n := 0, len(data)
	for i < n {
		for i < n && root[data[i]] == 0 {
			i++
		}
		if i == n {
			break
		}
		s := root[data[i]]
		i++
		for {
			if s&terminal != 0 {
				s &^= terminal
				found |= ks.out[s]
			}
			if s == 0 || i == n {
				break
			}
			s = ks.delta[s][data[i]]
			i++
		}
	}
	return found
}
