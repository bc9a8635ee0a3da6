package layerfs

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// oracleMerge is the merge as it was before it became incremental: every
// layer's result held to the end, visibility asked of every upper layer,
// attribution walked down through every lower one. It is kept as the
// reference the incremental merge must agree with.
func oracleMerge(layers []*LayerResult) *inventory.Inventory {
	idx := make([]*oracleLayer, len(layers))
	for i, lr := range layers {
		idx[i] = newOracleLayer(lr)
	}
	visible := func(p string, i int) bool {
		for j := i + 1; j < len(idx); j++ {
			if idx[j].hides(p) {
				return false
			}
		}
		return true
	}
	inv := &inventory.Inventory{}
	bestRank := -1
	owned := map[ownKey][]string{}
	for i, li := range idx {
		for _, w := range li.lr.Warnings {
			w.Layer = i
			inv.Warnings = append(inv.Warnings, w)
		}
		for fi := range li.lr.Files {
			fr := &li.lr.Files[fi]
			if fr.Result == nil {
				continue
			}
			res := fr.Result
			vis := visible(fr.Path, i)
			for _, f := range res.Files {
				if !vis && !f.Persistent {
					continue
				}
				ff := f.FileFinding
				ff.Path, ff.Layer, ff.Deleted = fr.Path, i, !vis
				inv.Files = append(inv.Files, ff)
			}
			if !vis {
				continue
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
				p := res.Packages[pi]
				p.Locations = append([]inventory.Location(nil), p.Locations...)
				if len(p.Locations) == 0 {
					p.Locations = []inventory.Location{{Path: fr.Path}}
				}
				for l := range p.Locations {
					p.Locations[l].Layer = i
				}
				p.Layer = oracleIntro(idx, &p, fr, i)
				inv.Packages = append(inv.Packages, p)
			}
		}
	}
	attachOwnership(inv, owned)
	return inv
}

type oracleLayer struct {
	lr                 *LayerResult
	whiteouts, opaques map[string]bool
	files              map[string][]int
}

func newOracleLayer(lr *LayerResult) *oracleLayer {
	li := &oracleLayer{lr: lr, whiteouts: map[string]bool{}, opaques: map[string]bool{}, files: map[string][]int{}}
	for _, w := range lr.Whiteouts {
		li.whiteouts[w] = true
	}
	for _, o := range lr.Opaques {
		li.opaques[o] = true
	}
	for i := range lr.Files {
		li.files[lr.Files[i].Path] = append(li.files[lr.Files[i].Path], i)
	}
	return li
}

func (li *oracleLayer) writes(p string) bool {
	h := hashPath(p)
	return slices.Contains(li.lr.NonDirs, h) || slices.Contains(li.lr.Dirs, h)
}

func (li *oracleLayer) hides(p string) bool {
	if li.writes(p) || li.whiteouts[p] {
		return true
	}
	for a := parent(p); a != ""; a = parent(a) {
		if li.whiteouts[a] || li.opaques[a] || slices.Contains(li.lr.NonDirs, hashPath(a)) {
			return true
		}
	}
	return false
}

func oracleIntro(idx []*oracleLayer, p *inventory.Package, fr *FileResult, i int) int {
	intro := i
	for j := i - 1; j >= 0; j-- {
		lj := idx[j]
		fis, wrote := lj.files[fr.Path]
		if !wrote {
			if lj.hides(fr.Path) {
				return intro
			}
			continue
		}
		found := false
		for _, k := range fis {
			o := &lj.lr.Files[k]
			if o.Extractor == fr.Extractor && o.Result != nil && slices.ContainsFunc(o.Result.Packages, func(q inventory.Package) bool {
				return q.Ecosystem == p.Ecosystem && q.Name == p.Name && q.Version == p.Version && q.Arch == p.Arch && q.Group == p.Group
			}) {
				found = true
				break
			}
		}
		if !found {
			return intro
		}
		intro = j
	}
	return intro
}

// randomLayers makes a stack of consistent layer results over a small tree
// of paths, so that layers often rewrite, delete and hide each other's
// files, and keep or change each other's packages.
func randomLayers(rng *rand.Rand) []*LayerResult {
	dirs := []string{"a", "a/b", "c", "c/d"}
	files := []string{"a/x", "a/b/y", "a/b", "c/d/z", "c/z", "w", "c"}
	pool := []inventory.Package{
		{Ecosystem: inventory.Deb, Name: "libc", Version: "1"},
		{Ecosystem: inventory.Deb, Name: "libc", Version: "2"},
		{Ecosystem: inventory.Deb, Name: "libc", Version: "2", Arch: "amd64"},
		{Ecosystem: inventory.NPM, Name: "left-pad", Version: "1"},
		{Ecosystem: inventory.Maven, Group: "org.x", Name: "core", Version: "1"},
		{Ecosystem: inventory.Maven, Group: "org.y", Name: "core", Version: "1"},
		{Ecosystem: inventory.NPM, Name: "b", Version: "1", Locations: []inventory.Location{{Path: "a/x!inner"}}},
	}
	n := 1 + rng.Intn(6)
	layers := make([]*LayerResult, n)
	for i := range layers {
		lr := &LayerResult{}
		written := map[string]bool{}
		for _, d := range dirs {
			switch rng.Intn(6) {
			case 0:
				lr.Dirs = append(lr.Dirs, hashPath(d))
				written[d] = true
			case 1:
				lr.Opaques = append(lr.Opaques, d)
			}
		}
		for _, f := range files {
			switch rng.Intn(5) {
			case 0, 1:
				lr.NonDirs = append(lr.NonDirs, hashPath(f))
				written[f] = true
			case 2:
				lr.Whiteouts = append(lr.Whiteouts, f)
			}
		}
		var paths []string
		for p := range written {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		for _, p := range paths {
			for k := rng.Intn(4); k > 0; k-- { // 0 to 3 results, duplicates allowed
				res := &extract.Result{}
				for m := rng.Intn(4); m > 0; m-- {
					res.Packages = append(res.Packages, pool[rng.Intn(len(pool))])
				}
				if rng.Intn(4) == 0 {
					res.Files = append(res.Files, extract.FileFinding{
						FileFinding: inventory.FileFinding{Rule: fmt.Sprint("rule", rng.Intn(3)), Line: rng.Intn(3)},
						Persistent:  rng.Intn(2) == 0,
					})
				}
				if rng.Intn(6) == 0 {
					res.Distro = &inventory.Distro{Family: fmt.Sprint("d", i), Source: p}
					res.DistroRank = rng.Intn(3)
				}
				if rng.Intn(5) == 0 {
					res.Owned = []extract.Ownership{{Ecosystem: inventory.Deb, Package: "libc", Files: []string{"/a/x", fmt.Sprint("/l", i)}}}
				}
				lr.Files = append(lr.Files, FileResult{Path: p, Extractor: []string{"e1", "e2"}[rng.Intn(2)], Result: res})
			}
		}
		if rng.Intn(4) == 0 {
			lr.Warnings = []inventory.Warning{{Path: "a/x", Component: "t", Message: fmt.Sprint("w", i)}}
		}
		if rng.Intn(3) > 0 {
			slices.Sort(lr.Dirs)
			slices.Sort(lr.NonDirs)
			slices.Sort(lr.Whiteouts)
			slices.Sort(lr.Opaques)
		}
		layers[i] = lr
	}
	return layers
}

// TestMergeMatchesOracle: whatever order the layers finish in, the
// incremental merge gives exactly the inventory the full merge gives.
func TestMergeMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 5000; iter++ {
		layers := randomLayers(rng)
		want := oracleMerge(layers)
		got, err := Merge(layers)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("stack %d, in order (-oracle +merge):\n%s", iter, diff)
		}
		for k := 0; k < 3; k++ {
			order := rng.Perm(len(layers))
			m := newMerger(len(layers))
			for _, i := range order {
				m.add(mustRun(t, i, layers[i]))
			}
			got, err := m.inventory()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("stack %d, order %v (-oracle +merge):\n%s", iter, order, diff)
			}
		}
	}
}

func mustRun(t *testing.T, i int, lr *LayerResult) *run {
	t.Helper()
	r, err := newRun(i, lr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mergeState counts what a merger holds: results still visible, entries
// kept only for attribution, and path hashes.
func (m *merger) state() (results, entries, hashes int) {
	for _, r := range m.byLo {
		if r == nil {
			continue
		}
		hashes += len(r.hide.dirs) + len(r.hide.nonDirs)
		for _, es := range r.top {
			for _, e := range es {
				entries++
				if e.held != nil {
					results++
				}
			}
		}
	}
	return results, entries, hashes
}

// TestMergeHoldsOneCopyOfRewrittenFiles: layers that rewrite the same files
// leave the merge holding one copy of each result, whatever order they
// finish in, and the path sets of joined layers are held once.
func TestMergeHoldsOneCopyOfRewrittenFiles(t *testing.T) {
	const n, paths = 12, 50
	layer := func(i int) *LayerResult {
		lr := &LayerResult{}
		for p := 0; p < paths; p++ {
			name := fmt.Sprintf("var/lib/f%02d", p)
			lr.NonDirs = append(lr.NonDirs, hashPath(name))
			lr.Files = append(lr.Files, FileResult{Path: name, Extractor: "e", Result: &extract.Result{
				Packages: []inventory.Package{{Ecosystem: inventory.Deb, Name: name, Version: "1", Files: []string{"/usr/bin/" + name}}},
				Files:    []extract.FileFinding{{FileFinding: inventory.FileFinding{Rule: "secret"}, Persistent: i == 0}},
			}})
		}
		lr.Dirs = []uint64{hashPath("var"), hashPath("var/lib")}
		slices.Sort(lr.Dirs)
		slices.Sort(lr.NonDirs)
		return lr
	}
	orders := map[string][]int{}
	for i := 0; i < n; i++ {
		orders["bottom up"] = append(orders["bottom up"], i)
		orders["top down"] = append(orders["top down"], n-1-i)
	}
	// Every other layer first: no two adjacent, so nothing joins and
	// hidden results must be cut down against layers above, or below.
	for _, start := range []int{1, 0} {
		for i := start; i < n; i += 2 {
			orders["odd then even, going up"] = append(orders["odd then even, going up"], i)
			orders["odd then even, going down"] = append(orders["odd then even, going down"], n-1-i)
		}
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			m := newMerger(n)
			var layers []*LayerResult
			for i := 0; i < n; i++ {
				layers = append(layers, layer(i))
			}
			for k, i := range order {
				m.add(mustRun(t, i, layers[i]))
				results, entries, hashes := m.state()
				if results > paths {
					t.Errorf("after %d layers: %d results held, want at most %d", k+1, results, paths)
				}
				runs := 0
				for _, r := range m.byLo {
					if r != nil {
						runs++
					}
				}
				if max := runs * (paths + 2); hashes > max || entries > runs*paths {
					t.Errorf("after %d layers in %d runs: %d hashes, %d entries", k+1, runs, hashes, entries)
				}
			}
			if _, _, hashes := m.state(); hashes != 0 {
				t.Errorf("all layers merged, %d path hashes still held", hashes)
			}
			inv, err := m.inventory()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(oracleMerge(layers), inv); diff != "" {
				t.Errorf("(-oracle +merge):\n%s", diff)
			}
			if len(inv.Packages) != paths || inv.Packages[0].Layer != 0 || inv.Packages[0].Locations[0].Layer != n-1 || len(inv.Packages[0].Files) != 1 {
				t.Errorf("packages: %d, first %+v", len(inv.Packages), inv.Packages[0])
			}
			deleted := 0
			for _, f := range inv.Files {
				if f.Deleted {
					deleted++
				}
			}
			if deleted != paths {
				t.Errorf("%d deleted findings kept, want the %d persistent ones of layer 0", deleted, paths)
			}
		})
	}
}

func TestHideSet(t *testing.T) {
	h := hideSet{
		dirs:      []uint64{hashPath("usr")},
		nonDirs:   []uint64{hashPath("etc/passwd"), hashPath("opt")},
		whiteouts: []string{"var/cache"},
		opaques:   []string{"srv"},
	}
	slices.Sort(h.nonDirs)
	for p, want := range map[string]bool{
		"usr":                          true,  // written (a directory replaces or merges; either way this layer has it)
		"usr/bin/ls":                   false, // a directory does not hide what is under it
		"etc/passwd":                   true,
		"etc/passwd/x":                 true, // under a non-directory
		"opt/app/a.jar":                true,
		"var/cache":                    true,
		"var/cache/apt":                true,
		"var/cacheX":                   false,
		"srv":                          false, // the opaque directory itself stays
		"srv/www/index":                true,
		"etc/group":                    false,
		"":                             false,
		strings.Repeat("x/", 50) + "y": false,
	} {
		if got := h.hides(p); got != want {
			t.Errorf("hides(%q) = %v, want %v", p, got, want)
		}
	}
	u := h.union(&hideSet{dirs: []uint64{hashPath("home")}, whiteouts: []string{"tmp", "var/cache"}})
	if !u.hides("home") || !u.hides("tmp/x") || !u.hides("etc/passwd") || len(u.whiteouts) != 2 {
		t.Errorf("union lost entries: %+v", u)
	}
}
