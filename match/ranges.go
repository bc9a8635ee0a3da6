package match

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/version"
	"github.com/vigilsec/vigil/vulndb"
)

// comparer compares an installed version with the versions an advisory
// names, in one ecosystem's scheme.
type comparer struct {
	scheme version.Scheme
	// norm rewrites an advisory's version into the scheme's form: Go
	// records write module versions without the "v" the Go scheme wants;
	// RPM records may leave out the epoch (see rpmEpoch).
	norm func(string) string
}

func (c *comparer) parse(v string) (version.Version, error) {
	if c.norm != nil {
		v = c.norm(v)
	}
	return c.scheme.Parse(v)
}

// goVersion adds the "v" OSV's Go records leave out ("1.19.6" ->
// "v1.19.6"); toolchain ("go1.21") and v-prefixed versions are kept.
func goVersion(v string) string {
	if v == "" || strings.HasPrefix(v, "v") || strings.HasPrefix(v, "go") {
		return v
	}
	return "v" + v
}

// rpmEpoch returns the normaliser for the advisory versions of an RPM
// package whose installed version is installed.
//
// rpm itself reads a missing epoch as 0. AlmaLinux and Rocky Linux OSV
// records follow that: Rocky writes every epoch ("0:102.11.0-2.el8_7" in
// RLSA-2023:3220, "1:11.0.13.0.8-1.el8_4" in RLSA-2021:3891), AlmaLinux
// writes non-zero ones ("3:10.3.39-1.module_el8.8.0+3609+204d4ab0" for
// mariadb in ALSA-2023:5259) and leaves out zero ones ("4.4.0-2.el9" for
// libtiff in ALSA-2022:8194). Other RPM feeds (some OVAL-derived data, and
// records written by hand) drop non-zero epochs, and comparing
// "1:1.1.1k-4.el8" with "1.1.1k-5.el8_5" as rpm would says "not affected"
// for every fixed version, silently. So, as Grype does, an advisory version
// without an epoch takes the installed package's epoch: on the data above
// this changes nothing (a missing epoch there is the package's epoch 0),
// and where a record does drop an epoch the comparison stays within the
// installed epoch instead of missing the vulnerability.
func rpmEpoch(installed string) func(string) string {
	epoch, ok := rpmEpochOf(installed)
	if !ok {
		return nil
	}
	return func(v string) string {
		if _, has := rpmEpochOf(v); has || v == "" {
			return v
		}
		return epoch + ":" + v
	}
}

// rpmEpochOf returns the epoch of an rpm EVR ("1" for "1:1.0-2") and
// whether it has one.
func rpmEpochOf(v string) (string, bool) {
	i := strings.IndexByte(v, ':')
	if i <= 0 || !digitsOnly(v[:i]) {
		return "", false
	}
	return v[:i], true
}

// event is a parsed range event.
type event struct {
	kind int // evIntroduced, evFixed, evLastAffected, evLimit
	raw  string
	// zero marks introduced "0" (before every version), inf limit "*"
	// (after every version); v is unset for both.
	zero, inf bool
	v         version.Version
}

const (
	evIntroduced = iota
	evLastAffected
	evFixed
	evLimit
)

// verdict is what one affected entry says about an installed version.
type verdict struct {
	affected bool
	// fixes are the lowest fixed versions above the installed one, one per
	// range that affects it, as the comparison saw them (normalised).
	fixes []string
	// invalid lists the range versions that did not parse; a range holding
	// one decides nothing.
	invalid []error
}

// evaluate applies OSV's range semantics to one entry: the installed
// version is affected when it lies in one of the ECOSYSTEM or SEMVER
// ranges (both compared with the ecosystem's own scheme) or equals one of
// the listed versions. An entry with neither ranges nor versions affects
// every version, as the OSV schema says.
func evaluate(c *comparer, inst version.Version, a *vulndb.Affected) verdict {
	var out verdict
	if len(a.Ranges) == 0 && len(a.Versions) == 0 {
		out.affected = true
		return out
	}
	for i := range a.Ranges {
		r := &a.Ranges[i]
		if r.Type != vulndb.RangeEcosystem && r.Type != vulndb.RangeSemver {
			continue
		}
		hit, fix, err := inRange(c, inst, r.Events)
		if err != nil {
			out.invalid = append(out.invalid, err)
			continue
		}
		if hit {
			out.affected = true
			if fix != "" && !slices.Contains(out.fixes, fix) {
				out.fixes = append(out.fixes, fix)
			}
		}
	}
	if !out.affected {
		for _, s := range a.Versions {
			if listedVersion(c, inst, s) {
				out.affected = true
				// The list names no fix; the ranges may.
				out.fixes = append(out.fixes, lowestFixAbove(c, inst, a.Ranges)...)
				break
			}
		}
	}
	return out
}

// listedVersion reports whether s, an entry of a "versions" list, names the
// installed version: equal in the scheme, or equal as strings when s does
// not parse (a list is an enumeration; a malformed entry names nothing
// else).
func listedVersion(c *comparer, inst version.Version, s string) bool {
	v, err := c.parse(s)
	if err != nil {
		return s == inst.String()
	}
	return v.Compare(inst) == 0
}

// lowestFixAbove returns the lowest valid fixed event above inst in the
// ranges, or nothing.
func lowestFixAbove(c *comparer, inst version.Version, ranges []vulndb.Range) []string {
	var best *version.Version
	for _, r := range ranges {
		for _, e := range r.Events {
			if e.Fixed == "" {
				continue
			}
			v, err := c.parse(e.Fixed)
			if err != nil || v.Compare(inst) <= 0 {
				continue
			}
			if best == nil || v.Compare(*best) < 0 {
				best = &v
			}
		}
	}
	if best == nil {
		return nil
	}
	return []string{best.String()}
}

// inRange evaluates one range. Events are sorted by version ("introduced
// 0" first); walking them in order, an introduced event at or below the
// installed version turns "affected" on, a fixed event at or below it or a
// last_affected event below it turns it off. When the range has limit
// events the installed version must also be below one of them. The fix
// returned is the lowest fixed event above the installed version.
func inRange(c *comparer, inst version.Version, raw []vulndb.Event) (bool, string, error) {
	evs := make([]event, 0, len(raw))
	for _, r := range raw {
		var e event
		switch {
		case r.Introduced != "":
			e.kind, e.raw = evIntroduced, r.Introduced
			e.zero = r.Introduced == "0"
		case r.Fixed != "":
			e.kind, e.raw = evFixed, r.Fixed
		case r.LastAffected != "":
			e.kind, e.raw = evLastAffected, r.LastAffected
		case r.Limit != "":
			e.kind, e.raw = evLimit, r.Limit
			e.inf = r.Limit == "*"
		default:
			continue
		}
		if !e.zero && !e.inf {
			v, err := c.parse(e.raw)
			if err != nil {
				return false, "", fmt.Errorf("%s event %q: %w", kindName(e.kind), clip(e.raw), err)
			}
			e.v = v
		}
		evs = append(evs, e)
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		return cmp.Or(compareEvents(a, b), cmp.Compare(a.kind, b.kind))
	})
	limited, below := false, false
	affected := false
	for _, e := range evs {
		switch e.kind {
		case evIntroduced:
			if e.zero || inst.Compare(e.v) >= 0 {
				affected = true
			}
		case evFixed:
			if inst.Compare(e.v) >= 0 {
				affected = false
			}
		case evLastAffected:
			if inst.Compare(e.v) > 0 {
				affected = false
			}
		case evLimit:
			limited = true
			if e.inf || inst.Compare(e.v) < 0 {
				below = true
			}
		}
	}
	if limited && !below {
		affected = false
	}
	if !affected {
		return false, "", nil
	}
	for _, e := range evs {
		if e.kind == evFixed && inst.Compare(e.v) < 0 {
			return true, e.v.String(), nil
		}
	}
	return true, "", nil
}

// compareEvents orders events by version: introduced "0" first, limit "*"
// last.
func compareEvents(a, b event) int {
	switch {
	case a.zero || b.zero:
		return -cmp.Compare(btoi(a.zero), btoi(b.zero))
	case a.inf || b.inf:
		return cmp.Compare(btoi(a.inf), btoi(b.inf))
	}
	return a.v.Compare(b.v)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func kindName(k int) string {
	switch k {
	case evIntroduced:
		return "introduced"
	case evFixed:
		return "fixed"
	case evLastAffected:
		return "last_affected"
	}
	return "limit"
}
