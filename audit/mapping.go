package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/audit/dockerfile"
	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

// MapToDockerfile leads image issues back to the Dockerfile the image was
// built from. An issue tied to a layer goes to the instruction that made
// the layer: the layers' history steps (created_by) are matched to the
// final stage's RUN, COPY and ADD instructions (and those of the stages it
// is built FROM), and layers older than the first matched one belong to the
// base image, i.e. to the FROM line. Configuration issues go to the
// instruction that sets what they are about: the last USER, the EXPOSE of
// the port, the ENV or LABEL of the variable, or else the final FROM.
//
// An issue without a Path (configuration and layer issues) gets Path = the
// Dockerfile's path and Line = the instruction's line. An issue that already
// points at a file in the image keeps its Path and Line; the Dockerfile
// line is added to its Description instead. Issues are modified in place.
func MapToDockerfile(issues []report.Issue, layers []inventory.Layer, df *dockerfile.File) {
	if df == nil || len(df.Stages) == 0 {
		return
	}
	m := newMapper(layers, df)
	for i := range issues {
		is := &issues[i]
		in := m.byLayer[is.Layer]
		if is.Layer < 0 || in == nil {
			in = m.byIssue(is)
		}
		if in == nil {
			continue
		}
		if is.Path == "" {
			is.Path, is.Line = df.Path, in.Line
			continue
		}
		is.Description += fmt.Sprintf(" Introduced by %s line %d: %s", df.Path, in.Line, clip(in.Original))
	}
}

type mapper struct {
	df      *dockerfile.File
	chain   []*dockerfile.Stage // root first, final last
	byLayer map[int]*dockerfile.Instruction
}

func newMapper(layers []inventory.Layer, df *dockerfile.File) *mapper {
	m := &mapper{df: df, byLayer: map[int]*dockerfile.Instruction{}}
	layers = slices.Clone(layers)
	slices.SortStableFunc(layers, func(a, b inventory.Layer) int { return cmp.Compare(a.Index, b.Index) })
	c := df.Chain(df.Final())
	for i := len(c) - 1; i >= 0; i-- {
		m.chain = append(m.chain, c[i])
	}
	// The instructions that make layers, in build order.
	var made []*dockerfile.Instruction
	for _, st := range m.chain {
		for j := range st.Instructions {
			switch in := &st.Instructions[j]; in.Cmd {
			case "RUN", "COPY", "ADD":
				made = append(made, in)
			}
		}
	}
	from := &m.chain[0].From
	next := len(made) - 1
	oldest := -1 // position in layers of the oldest layer matched to an instruction
	for li := len(layers) - 1; li >= 0; li-- {
		l := layers[li]
		if next < 0 {
			break
		}
		st := parseStep(l.CreatedBy)
		if st.Cmd != "RUN" && st.Cmd != "COPY" && st.Cmd != "ADD" {
			continue // WORKDIR and unknown builders' steps: leave unmapped
		}
		found := -1
		for j := next; j >= 0; j-- {
			if stepMatches(st, made[j]) {
				found = j
				break
			}
		}
		if found < 0 && made[next].Cmd == st.Cmd {
			found = next // same kind in the same position: the best guess left
		}
		if found >= 0 {
			m.byLayer[l.Index] = made[found]
			next = found - 1
			oldest = li
		}
	}
	// Layers older than the oldest matched one (or all of them, when the
	// Dockerfile makes no layers) come from the base image: the FROM line.
	if oldest < 0 && len(made) == 0 {
		oldest = len(layers)
	}
	for li := 0; li < oldest; li++ {
		if _, ok := m.byLayer[layers[li].Index]; !ok {
			m.byLayer[layers[li].Index] = from
		}
	}
	return m
}

// stepMatches reports whether a history step records the instruction.
func stepMatches(st step, in *dockerfile.Instruction) bool {
	if st.Cmd != in.Cmd {
		return false
	}
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	switch in.Cmd {
	case "RUN":
		a, b := norm(st.Text), norm(in.Script())
		if a == b {
			return true
		}
		// Heredocs and SHELL changes alter the recorded text; accept a
		// long common prefix.
		return len(a) >= 20 && len(b) >= 20 && (strings.HasPrefix(a, b[:20]) || strings.HasPrefix(b, a[:20]))
	default:
		a, b := norm(st.Text), norm(strings.Join(in.Args, " "))
		if a == b {
			return true
		}
		// Classic builder: "file:<hash> in /dest" or "dir:<hash> in /dest".
		if _, dest, ok := strings.Cut(a, " in "); ok && len(in.Args) > 0 {
			return strings.TrimSpace(dest) == in.Args[len(in.Args)-1]
		}
		return false
	}
}

// byIssue finds the instruction a configuration issue is about.
func (m *mapper) byIssue(is *report.Issue) *dockerfile.Instruction {
	final := m.chain[len(m.chain)-1]
	last := func(cmd string, pred func(*dockerfile.Instruction) bool) *dockerfile.Instruction {
		for si := len(m.chain) - 1; si >= 0; si-- {
			st := m.chain[si]
			for j := len(st.Instructions) - 1; j >= 0; j-- {
				in := &st.Instructions[j]
				if in.Cmd == cmd && (pred == nil || pred(in)) {
					return in
				}
			}
		}
		return nil
	}
	hasKey := func(key string) func(*dockerfile.Instruction) bool {
		return func(in *dockerfile.Instruction) bool {
			for _, kv := range in.KeyValues {
				if kv.Key == key {
					return true
				}
			}
			return false
		}
	}
	var in *dockerfile.Instruction
	switch is.ID {
	case catalog.ImgRootUser:
		in = last("USER", nil)
	case catalog.ImgPrivilegedPort:
		port := strings.TrimPrefix(is.Evidence, "EXPOSE ")
		num, _, _ := strings.Cut(port, "/")
		in = last("EXPOSE", func(in *dockerfile.Instruction) bool {
			for _, a := range in.Args {
				if a == port || a == num {
					return true
				}
			}
			return false
		})
	case catalog.ImgSecretEnv:
		in = last("ENV", hasKey(evidenceKey(is.Evidence)))
	case catalog.ImgSecretLabel:
		in = last("LABEL", hasKey(evidenceKey(is.Evidence)))
	case catalog.ImgMutableTag, catalog.CntEOLOS, catalog.CntOversized, catalog.CntShellPkgManager:
		return &m.chain[0].From
	}
	if in == nil {
		in = &final.From
	}
	return in
}

// evidenceKey returns the variable name of "NAME=****" or "NAME: ..." evidence.
func evidenceKey(ev string) string {
	if i := strings.IndexAny(ev, "=:"); i > 0 {
		return ev[:i]
	}
	return ev
}

// DockerfileSteps returns the Dockerfile instruction that made each layer,
// for report.Target.DockerfileSteps, matched the way MapToDockerfile
// matches them: base image layers map to the FROM line, layers it cannot
// place are left out. The steps are ordered by layer.
func DockerfileSteps(layers []inventory.Layer, df *dockerfile.File) []report.DockerfileStep {
	if df == nil || len(df.Stages) == 0 {
		return nil
	}
	m := newMapper(layers, df)
	var out []report.DockerfileStep
	for layer, in := range m.byLayer {
		st := report.DockerfileStep{Layer: layer, Line: in.Line, Instruction: strings.Join(strings.Fields(in.Original), " ")}
		if in.EndLine > in.Line {
			st.EndLine = in.EndLine
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b report.DockerfileStep) int { return cmp.Compare(a.Layer, b.Layer) })
	return out
}
