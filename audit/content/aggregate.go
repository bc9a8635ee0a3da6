package content

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/inventory"
)

// Aggregate folds the per-entry cache findings of an inventory into one
// finding per rule, cache directory, layer and deletion state: Path is the
// cache directory and Evidence counts the entries and the bytes of the
// files ("14 entries, 41.6 MiB"). A cache filled in one layer and emptied
// in a later one thus gives one finding for the first layer, marked
// Deleted. The folded finding takes the place of the first entry it folds;
// every other finding passes through unchanged. The input is not modified.
func Aggregate(files []inventory.FileFinding) []inventory.FileFinding {
	type key struct {
		rule, dir string
		layer     int
		deleted   bool
	}
	type sum struct {
		at      int // index in out
		entries int
		bytes   int64
	}
	sums := map[key]*sum{}
	var out []inventory.FileFinding
	for _, f := range files {
		if !isCacheRule(f.Rule) {
			out = append(out, f)
			continue
		}
		i := strings.LastIndexByte(f.Path, '/')
		if i < 0 {
			out = append(out, f)
			continue
		}
		k := key{f.Rule, f.Path[:i], f.Layer, f.Deleted}
		s, ok := sums[k]
		if !ok {
			s = &sum{at: len(out)}
			sums[k] = s
			out = append(out, inventory.FileFinding{Rule: f.Rule, Path: k.dir, Layer: f.Layer, Deleted: f.Deleted})
		}
		s.entries++
		if n, ok := strings.CutSuffix(f.Evidence, " bytes"); ok {
			if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
				s.bytes += v
			}
		}
	}
	for _, s := range sums {
		ev := fmt.Sprintf("%d entries", s.entries)
		if s.entries == 1 {
			ev = "1 entry"
		}
		if s.bytes > 0 {
			ev += ", " + humanBytes(s.bytes)
		}
		out[s.at].Evidence = ev
	}
	return out
}

func isCacheRule(r string) bool {
	switch r {
	case RuleAptCache, RuleApkCache, RulePipCache, RuleNpmCache:
		return true
	}
	return false
}

// humanBytes renders a size in binary units with one decimal.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, u := float64(n)/unit, 0
	for v >= unit && u < 3 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[u])
}
