package layerfs

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// The merge is incremental: layers may finish in any order (the walk starts
// with the largest), and each finished layer is folded at once into a "run",
// a composite of adjacent finished layers. A run keeps only what the layers
// outside it can still need:
//
//   - the union of its layers' path sets, to hide files of the layers below
//     it (none once the run reaches layer 0);
//   - for each path that has extractor results, the results of the topmost
//     layer of the run that touches the path, and for each of their
//     packages the layer that introduced it, as far as the run can tell;
//   - the findings that survive deletion (secrets in a lower layer).
//
// Joining two adjacent runs decides, for every path the lower one has
// results at, whether the upper one hides it; hidden results are dropped
// after their packages have extended the attribution chains of the upper
// results at the same path. Results that a finished but not adjacent upper
// layer hides are cut down to their package identities at once, so an image
// whose layers rewrite the same files never holds every copy. What a walk
// retains thus grows with the image's distinct paths, not with its layers.

// hideSet answers whether a layer, or a run of adjacent layers, replaces or
// deletes a path of a lower layer.
type hideSet struct {
	dirs, nonDirs      []uint64 // sorted path hashes
	whiteouts, opaques []string // sorted
}

// writes reports whether there is an entry of any kind at p.
func (h *hideSet) writes(p string) bool {
	k := hashPath(p)
	return has(h.nonDirs, k) || has(h.dirs, k)
}

// hides reports whether path p of a lower layer is replaced or deleted: p
// is written or whited out, or an ancestor is whited out, made opaque or
// replaced by a non-directory.
func (h *hideSet) hides(p string) bool {
	if h.writes(p) || hasString(h.whiteouts, p) {
		return true
	}
	for a := parent(p); a != ""; a = parent(a) {
		if hasString(h.whiteouts, a) || hasString(h.opaques, a) || has(h.nonDirs, hashPath(a)) {
			return true
		}
	}
	return false
}

func (h *hideSet) union(o *hideSet) hideSet {
	return hideSet{
		dirs:      mergeSorted(h.dirs, o.dirs),
		nonDirs:   mergeSorted(h.nonDirs, o.nonDirs),
		whiteouts: mergeSorted(h.whiteouts, o.whiteouts),
		opaques:   mergeSorted(h.opaques, o.opaques),
	}
}

// mergeSorted returns the sorted union of two sorted, duplicate-free slices.
func mergeSorted[T cmp.Ordered](a, b []T) []T {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0:
		return b
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// sortedSet returns s sorted and without duplicates, copying only when s is
// not already so (layer results from the walk are).
func sortedSet[T cmp.Ordered](s []T) []T {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			s = slices.Clone(s)
			slices.Sort(s)
			return slices.Compact(s)
		}
	}
	return s
}

func hasString(sorted []string, s string) bool {
	_, ok := slices.BinarySearch(sorted, s)
	return ok
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// entry is one extractor result still in play: visible so far, or hidden
// (held nil) but still a link in the attribution chain of the same path.
type entry struct {
	layer, order int // the layer and the index in its Files: output order
	path         string
	extractor    string
	held         *held // the layer's results, while this one is visible
	slot         int   // this result's index in held
	persistent   []extract.FileFinding
	pkgs         []chain // one per package of the result
}

// held keeps the visible results of one layer gob-encoded until the
// inventory is made: a few compact bytes instead of thousands of small
// objects (a dpkg file list is a string per file) that would sit on the
// heap for the rest of the walk. Once no entry is visible, it goes.
type held struct {
	data []byte
	live int // visible entries in it
}

func (h *held) release() {
	if h.live--; h.live == 0 {
		h.data = nil
	}
}

func (h *held) results() ([]*extract.Result, error) {
	var rs []*extract.Result
	if err := gob.NewDecoder(bytes.NewReader(h.data)).Decode(&rs); err != nil {
		return nil, fmt.Errorf("layerfs: decode held results: %w", err)
	}
	return rs, nil
}

// chain follows one package down the layers that kept it at the same path.
type chain struct {
	id    uint64 // identity: ecosystem, group, name, version, arch
	intro int32  // the earliest layer, so far, that continuously held it
	open  bool   // the chain reached the bottom of its run and may go on below
}

// deleted holds the findings of a hidden file that are kept anyway.
type deleted struct {
	layer, order int
	files        []inventory.FileFinding
}

// run is a composite of the finished layers lo..hi.
type run struct {
	lo, hi   int
	hide     hideSet
	top      map[string][]*entry
	deleted  []deleted
	warnings []inventory.Warning
}

func newRun(i int, lr *LayerResult) (*run, error) {
	r := &run{lo: i, hi: i, top: map[string][]*entry{}}
	r.hide = hideSet{
		dirs:      sortedSet(lr.Dirs),
		nonDirs:   sortedSet(lr.NonDirs),
		whiteouts: sortedSet(lr.Whiteouts),
		opaques:   sortedSet(lr.Opaques),
	}
	var extra []uint64
	var rs []*extract.Result
	h := &held{}
	for fi := range lr.Files {
		fr := &lr.Files[fi]
		if fr.Result == nil {
			continue
		}
		if !r.hide.writes(fr.Path) {
			// A result always comes from an entry of the layer; count
			// it as written even in a hand-made LayerResult.
			extra = append(extra, hashPath(fr.Path))
		}
		e := &entry{layer: i, order: fi, path: fr.Path, extractor: fr.Extractor, held: h, slot: len(rs)}
		rs = append(rs, fr.Result)
		h.live++
		for _, f := range fr.Result.Files {
			if f.Persistent {
				e.persistent = append(e.persistent, f)
			}
		}
		if n := len(fr.Result.Packages); n > 0 {
			e.pkgs = make([]chain, n)
			for k := range fr.Result.Packages {
				e.pkgs[k] = chain{id: packageID(&fr.Result.Packages[k]), intro: int32(i), open: true}
			}
		}
		r.top[fr.Path] = append(r.top[fr.Path], e)
	}
	if len(extra) > 0 {
		r.hide.dirs = mergeSorted(r.hide.dirs, sortedSet(extra))
	}
	for _, w := range lr.Warnings {
		w.Layer = i
		r.warnings = append(r.warnings, w)
	}
	if len(rs) > 0 {
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(rs); err != nil {
			return nil, fmt.Errorf("layerfs: hold results of layer %d: %w", i, err)
		}
		h.data = bytes.Clone(b.Bytes())
	}
	return r, nil
}

// packageID is a 64-bit FNV-1a hash of a package's identity, the fields
// attribution compares.
func packageID(p *inventory.Package) uint64 {
	h := uint64(14695981039346656037)
	for _, s := range [...]string{string(p.Ecosystem), p.Group, p.Name, p.Version, p.Arch} {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff // fields cannot run into each other: 0xff is no UTF-8 byte
		h *= 1099511628211
	}
	return h
}

// hideEntries marks the entries at one path as hidden by an upper layer:
// what survives is their persistent findings and, for the attribution of
// upper results at the same path, their package identities.
func (r *run) hideEntries(es []*entry) {
	for _, e := range es {
		if e.held == nil {
			continue
		}
		var keep []inventory.FileFinding
		for _, f := range e.persistent {
			ff := f.FileFinding
			ff.Path, ff.Layer, ff.Deleted = e.path, e.layer, true
			keep = append(keep, ff)
		}
		if len(keep) > 0 {
			r.deleted = append(r.deleted, deleted{layer: e.layer, order: e.order, files: keep})
		}
		e.held.release()
		e.held, e.persistent = nil, nil
	}
}

// prune hides the results of r that a finished upper layer hides. Hidden
// entries without packages are dropped: they can extend no chain, and
// where none is left, r's path set still says r touches the path.
func (r *run) prune(upper *hideSet) {
	for p, es := range r.top {
		if !slices.ContainsFunc(es, func(e *entry) bool { return e.held != nil }) || !upper.hides(p) {
			continue
		}
		r.hideEntries(es)
		if es = slices.DeleteFunc(es, func(e *entry) bool { return len(e.pkgs) == 0 }); len(es) == 0 {
			delete(r.top, p)
		} else {
			r.top[p] = es
		}
	}
}

// join returns the run of the adjacent runs l (below) and u (above). It
// takes over u's storage; neither l nor u may be used afterwards.
func join(l, u *run) *run {
	for p, les := range l.top {
		if !u.hide.hides(p) {
			u.top[p] = les // u has no results at p: it would write p
			continue
		}
		if ues, ok := u.top[p]; ok {
			link(ues, les)
		}
		l.hideEntries(les)
	}
	if l.lo > 0 {
		// Chains that pass l without finding l's results at their path:
		// l touching the path at all ends them.
		for p, ues := range u.top {
			if _, ok := l.top[p]; ok || !anyOpen(ues) || !l.hide.hides(p) {
				continue
			}
			for _, e := range ues {
				for k := range e.pkgs {
					e.pkgs[k].open = false
				}
			}
		}
		u.hide = u.hide.union(&l.hide)
	}
	u.lo = l.lo
	u.deleted = append(l.deleted, u.deleted...)
	u.warnings = append(l.warnings, u.warnings...)
	return u
}

// link extends the open chains of the upper entries ues through the lower
// entries les at the same path, the results of the topmost lower layer
// touching that path: a package goes on where the same extractor found the
// same package, and stops anywhere else.
func link(ues, les []*entry) {
	for _, ue := range ues {
		for k := range ue.pkgs {
			c := &ue.pkgs[k]
			if !c.open {
				continue
			}
			c.open = false
			for _, le := range les {
				if le.extractor != ue.extractor {
					continue
				}
				if i := slices.IndexFunc(le.pkgs, func(lc chain) bool { return lc.id == c.id }); i >= 0 {
					c.intro, c.open = le.pkgs[i].intro, le.pkgs[i].open
					break
				}
			}
		}
	}
}

func anyOpen(es []*entry) bool {
	for _, e := range es {
		for k := range e.pkgs {
			if e.pkgs[k].open {
				return true
			}
		}
	}
	return false
}

// merger folds layer results into runs as they arrive, in any order. It is
// not safe for concurrent use.
type merger struct {
	n          int
	byLo, byHi []*run // the run starting, or ending, at each layer
}

func newMerger(n int) *merger {
	return &merger{n: n, byLo: make([]*run, n), byHi: make([]*run, n)}
}

// add folds in a layer's run, made by newRun (which needs no lock: it
// keeps references into the layer's result, never modifying it, but not
// the result itself).
func (m *merger) add(r *run) {
	i := r.lo
	// Cut down what finished upper layers hide, and what this one hides
	// in finished lower layers; adjacent runs are joined below anyway.
	for _, o := range m.byLo {
		switch {
		case o == nil:
		case o.lo > i+1:
			r.prune(&o.hide)
		case o.hi < i-1:
			o.prune(&r.hide)
		}
	}
	if i > 0 && m.byHi[i-1] != nil {
		l := m.byHi[i-1]
		m.byLo[l.lo], m.byHi[l.hi] = nil, nil
		r = join(l, r)
	}
	if i+1 < m.n && m.byLo[i+1] != nil {
		u := m.byLo[i+1]
		m.byLo[u.lo], m.byHi[u.hi] = nil, nil
		r = join(r, u)
	}
	if r.lo == 0 {
		r.hide = hideSet{} // nothing lies below layer 0
	}
	m.byLo[r.lo], m.byHi[r.hi] = r, r
}

// inventory returns the merged inventory once every layer was added.
func (m *merger) inventory() (*inventory.Inventory, error) {
	inv := &inventory.Inventory{}
	if m.n == 0 {
		return inv, nil
	}
	r := m.byLo[0]
	if r == nil || r.hi != m.n-1 {
		panic("layerfs: merge of an incomplete set of layers")
	}
	inv.Warnings = r.warnings
	// Everything in the order of the layers and of their results.
	type item struct {
		e *entry
		d *deleted
	}
	var items []item
	for _, es := range r.top {
		for _, e := range es {
			if e.held != nil {
				items = append(items, item{e: e})
			}
		}
	}
	for k := range r.deleted {
		items = append(items, item{d: &r.deleted[k]})
	}
	pos := func(it item) (int, int) {
		if it.e != nil {
			return it.e.layer, it.e.order
		}
		return it.d.layer, it.d.order
	}
	slices.SortFunc(items, func(a, b item) int {
		al, ao := pos(a)
		bl, bo := pos(b)
		return cmp.Or(cmp.Compare(al, bl), cmp.Compare(ao, bo))
	})
	bestRank := -1
	owned := map[ownKey][]string{}
	decoded := map[*held][]*extract.Result{}
	for _, it := range items {
		if it.d != nil {
			inv.Files = append(inv.Files, it.d.files...)
			continue
		}
		e := it.e
		rs, ok := decoded[e.held]
		if !ok {
			var err error
			if rs, err = e.held.results(); err != nil {
				return nil, err
			}
			decoded[e.held] = rs
		}
		res := rs[e.slot]
		for _, f := range res.Files {
			ff := f.FileFinding
			ff.Path, ff.Layer, ff.Deleted = e.path, e.layer, false
			inv.Files = append(inv.Files, ff)
		}
		if res.Distro != nil && (bestRank < 0 || res.DistroRank <= bestRank) {
			d := *res.Distro
			inv.Distro, bestRank = &d, res.DistroRank
		}
		for _, o := range res.Owned {
			k := ownKey{o.Ecosystem, o.Package, o.Arch}
			owned[k] = append(owned[k], o.Files...)
		}
		for pi := range res.Packages {
			p := res.Packages[pi] // copy: cached results stay untouched
			p.Locations = append([]inventory.Location(nil), p.Locations...)
			if len(p.Locations) == 0 {
				p.Locations = []inventory.Location{{Path: e.path}}
			}
			for l := range p.Locations {
				p.Locations[l].Layer = e.layer
			}
			p.Layer = int(e.pkgs[pi].intro)
			inv.Packages = append(inv.Packages, p)
		}
	}
	attachOwnership(inv, owned)
	return inv, nil
}

// Merge combines per-layer results (lowest layer first) into the inventory
// of the final image. A package is kept when the file it was read from is
// still visible; it is attributed to the earliest layer from which an
// identical package was continuously present at that path (so a dpkg status
// file rewritten by every apt-get layer still credits each package to the
// layer that installed it).
func Merge(layers []*LayerResult) (*inventory.Inventory, error) {
	m := newMerger(len(layers))
	for i, lr := range layers {
		r, err := newRun(i, lr)
		if err != nil {
			return nil, err
		}
		m.add(r)
	}
	return m.inventory()
}

type ownKey struct {
	eco        inventory.Ecosystem
	name, arch string
}

// attachOwnership gives OS packages the file lists kept apart from their
// records, then marks language packages whose files an OS package installed.
func attachOwnership(inv *inventory.Inventory, owned map[ownKey][]string) {
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if !p.Ecosystem.IsOS() || len(p.Files) > 0 {
			continue
		}
		if f, ok := owned[ownKey{p.Ecosystem, p.Name, p.Arch}]; ok {
			p.Files = f
		} else if f, ok := owned[ownKey{p.Ecosystem, p.Name, ""}]; ok {
			p.Files = f
		}
	}
	owner := map[string]string{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if !p.Ecosystem.IsOS() {
			continue
		}
		for _, f := range p.Files {
			owner[strings.TrimPrefix(path.Clean("/"+f), "/")] = p.Ref()
		}
	}
	if len(owner) == 0 {
		return
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.Ecosystem.IsOS() || len(p.Locations) == 0 {
			continue
		}
		loc := p.Locations[0].Path
		if k := strings.IndexByte(loc, '!'); k >= 0 {
			loc = loc[:k] // a jar inside a war: the outer file is what dpkg lists
		}
		if o, ok := owner[loc]; ok {
			p.OwnedBy = o
		}
	}
}
