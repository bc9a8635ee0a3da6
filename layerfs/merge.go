package layerfs

import (
	"path"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

type ownKey struct {
	eco        inventory.Ecosystem
	name, arch string
}

// layerIndex is a LayerResult prepared for visibility queries.
type layerIndex struct {
	lr        *LayerResult
	whiteouts map[string]bool
	opaques   map[string]bool
	files     map[string][]int // path -> indexes into lr.Files
}

func index(lr *LayerResult) *layerIndex {
	li := &layerIndex{lr: lr, files: map[string][]int{}}
	if len(lr.Whiteouts) > 0 {
		li.whiteouts = make(map[string]bool, len(lr.Whiteouts))
		for _, w := range lr.Whiteouts {
			li.whiteouts[w] = true
		}
	}
	if len(lr.Opaques) > 0 {
		li.opaques = make(map[string]bool, len(lr.Opaques))
		for _, o := range lr.Opaques {
			li.opaques[o] = true
		}
	}
	for i := range lr.Files {
		li.files[lr.Files[i].Path] = append(li.files[lr.Files[i].Path], i)
	}
	return li
}

// hides reports whether this (upper) layer replaces or deletes the path p
// of a lower layer: it writes p itself, whites out p or an ancestor, makes
// an ancestor opaque, or puts a non-directory where an ancestor was.
func (li *layerIndex) hides(p string) bool {
	if li.writes(p) || li.whiteouts[p] {
		return true
	}
	for a := parent(p); a != ""; a = parent(a) {
		if li.whiteouts[a] || li.opaques[a] || has(li.lr.NonDirs, hashPath(a)) {
			return true
		}
	}
	return false
}

// writes reports whether the layer has an entry of any kind at p.
func (li *layerIndex) writes(p string) bool {
	h := hashPath(p)
	return has(li.lr.NonDirs, h) || has(li.lr.Dirs, h)
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// View answers visibility questions over a stack of layer results.
type View struct {
	layers []*layerIndex
}

// NewView prepares layer results, lowest first, for queries.
func NewView(layers []*LayerResult) *View {
	v := &View{layers: make([]*layerIndex, len(layers))}
	for i, lr := range layers {
		v.layers[i] = index(lr)
	}
	return v
}

// Visible reports whether path p as written by layer i survives in the
// final image: no upper layer replaces or deletes it.
func (v *View) Visible(p string, i int) bool {
	for j := i + 1; j < len(v.layers); j++ {
		if v.layers[j].hides(p) {
			return false
		}
	}
	return true
}

// Merge combines per-layer results (lowest layer first) into the inventory
// of the final image. A package is kept when the file it was read from is
// still visible; it is attributed to the earliest layer from which an
// identical package was continuously present at that path (so a dpkg status
// file rewritten by every apt-get layer still credits each package to the
// layer that installed it).
func Merge(layers []*LayerResult) *inventory.Inventory {
	v := NewView(layers)
	inv := &inventory.Inventory{}
	bestRank := -1
	owned := map[ownKey][]string{}
	for i, li := range v.layers {
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
			visible := v.Visible(fr.Path, i)
			for _, f := range res.Files {
				if !visible && !f.Persistent {
					continue
				}
				ff := f.FileFinding
				ff.Path, ff.Layer, ff.Deleted = fr.Path, i, !visible
				inv.Files = append(inv.Files, ff)
			}
			if !visible {
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
				p := res.Packages[pi] // copy: cached results stay untouched
				p.Locations = append([]inventory.Location(nil), p.Locations...)
				if len(p.Locations) == 0 {
					p.Locations = []inventory.Location{{Path: fr.Path}}
				}
				for l := range p.Locations {
					p.Locations[l].Layer = i
				}
				p.Layer = v.introducedBy(&p, fr, i)
				inv.Packages = append(inv.Packages, p)
			}
		}
	}
	attachOwnership(inv, owned)
	return inv
}

// introducedBy walks down from layer i through earlier writers of the same
// path while they held an identical package.
func (v *View) introducedBy(p *inventory.Package, fr *FileResult, i int) int {
	intro := i
	for j := i - 1; j >= 0; j-- {
		lj := v.layers[j]
		idx, wrote := lj.files[fr.Path]
		if !wrote {
			if lj.writes(fr.Path) {
				return intro // written here but yielded nothing: a different file
			}
			if lj.hides(fr.Path) {
				return intro // deleted in between and written again later
			}
			continue
		}
		found := false
		for _, k := range idx {
			o := &lj.lr.Files[k]
			if o.Extractor == fr.Extractor && o.Result != nil && containsPackage(o.Result, p) {
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

func containsPackage(r *extract.Result, p *inventory.Package) bool {
	for i := range r.Packages {
		q := &r.Packages[i]
		if q.Ecosystem == p.Ecosystem && q.Name == p.Name && q.Version == p.Version && q.Arch == p.Arch && q.Group == p.Group {
			return true
		}
	}
	return false
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
