package manifest

import (
	"errors"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// errBudget stops a walk that visits too many nodes: alias and merge-key
// expansion lets a small document describe an exponentially large tree
// (the "billion laughs" attack), and a YAML anchor may even refer to
// itself. yaml.v3 guards against this only when decoding into Go values,
// not into yaml.Node, so the walk counts its own steps.
var errBudget = errors.New("too many alias and merge-key expansions (a YAML alias bomb?)")

// maxVisits bounds the node visits of one document; real manifests need
// a few thousand.
const maxVisits = 200_000

// maxAliasDepth bounds chains of aliases and nested merge keys.
const maxAliasDepth = 64

// tree walks one YAML document with a visit budget.
type tree struct {
	visits int
	err    error
}

func (t *tree) spend() bool {
	t.visits++
	if t.visits > maxVisits {
		t.err = errBudget
		return false
	}
	return t.err == nil
}

// deref follows aliases.
func (t *tree) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > maxAliasDepth || !t.spend() {
			if t.err == nil {
				t.err = errBudget
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

// get looks a key up in a mapping, following aliases and "<<" merge keys
// (explicit keys win over merged ones, earlier merged maps over later
// ones). It returns the key node and the value node, or nils.
func (t *tree) get(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	return t.getDepth(m, key, 0)
}

func (t *tree) getDepth(m *yaml.Node, key string, depth int) (*yaml.Node, *yaml.Node) {
	m = t.deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > maxAliasDepth {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !t.spend() {
			return nil, nil
		}
		k := t.deref(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value == key && k.Tag != "!!merge" {
			return k, m.Content[i+1]
		}
		if k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "") {
			merges = append(merges, m.Content[i+1])
		}
	}
	for _, mv := range merges {
		mv = t.deref(mv)
		if mv == nil {
			continue
		}
		sources := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			sources = mv.Content
		}
		for _, src := range sources {
			if k, v := t.getDepth(src, key, depth+1); k != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// pairs returns the key/value pairs of a mapping, merged keys included
// (explicit keys first), in document order.
func (t *tree) pairs(m *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	t.pairsDepth(m, 0, seen, &out)
	return out
}

func (t *tree) pairsDepth(m *yaml.Node, depth int, seen map[string]bool, out *[][2]*yaml.Node) {
	m = t.deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > maxAliasDepth {
		return
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !t.spend() {
			return
		}
		k := t.deref(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "") {
			merges = append(merges, m.Content[i+1])
			continue
		}
		if seen[k.Value] {
			continue
		}
		seen[k.Value] = true
		*out = append(*out, [2]*yaml.Node{k, m.Content[i+1]})
	}
	for _, mv := range merges {
		mv = t.deref(mv)
		if mv == nil {
			continue
		}
		sources := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			sources = mv.Content
		}
		for _, src := range sources {
			t.pairsDepth(src, depth+1, seen, out)
		}
	}
}

// items returns the elements of a sequence (aliases resolved), or nil.
func (t *tree) items(n *yaml.Node) []*yaml.Node {
	n = t.deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if !t.spend() {
			return out
		}
		if c = t.deref(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// path follows a chain of mapping keys; it returns the last key and value
// found, or nils when a key is missing.
func (t *tree) path(m *yaml.Node, keys ...string) (*yaml.Node, *yaml.Node) {
	var k, v *yaml.Node
	v = m
	for _, key := range keys {
		k, v = t.get(v, key)
		if k == nil {
			return nil, nil
		}
	}
	return k, v
}

// str returns a scalar's value ("" for other nodes).
func (t *tree) str(n *yaml.Node) string {
	n = t.deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// boolean returns a scalar's boolean value; ok is false when the node is
// missing or not a boolean. YAML 1.1 spellings (yes, on) count, as docker
// compose and Kubernetes' YAML parsers accept them.
func (t *tree) boolean(n *yaml.Node) (val, ok bool) {
	switch strings.ToLower(t.str(n)) {
	case "true", "yes", "on", "y":
		return true, true
	case "false", "no", "off", "n":
		return false, true
	}
	return false, false
}

// integer returns a scalar's integer value.
func (t *tree) integer(n *yaml.Node) (int64, bool) {
	s := t.str(n)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// line returns a node's line, or 0 for nil.
func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}
