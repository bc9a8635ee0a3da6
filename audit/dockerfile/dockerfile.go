// Package dockerfile reads a Dockerfile with BuildKit's own parser and checks
// it against container hardening practice: the final stage's user, base
// images pinned by tag and digest, package manager hygiene, secrets in ARG
// and ENV, build tools in the image that ships, ADD versus COPY, a
// .dockerignore for COPY ., sudo, HEALTHCHECK, and scripts piped from the
// network into a shell. Findings point at Dockerfile lines. The parsed File
// is also what audit.MapToDockerfile uses to lead image findings back to the
// instruction that caused them.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// MaxSize caps the size of a Dockerfile read by Parse and Load. Real
// Dockerfiles are a few KiB; 1 MiB leaves room for generated ones.
const MaxSize = 1 << 20

// ErrTooLarge is returned for input over MaxSize.
var ErrTooLarge = errors.New("dockerfile larger than 1 MiB")

// File is a parsed Dockerfile.
type File struct {
	// Path is the file name findings report (as given to Parse or Load).
	Path string
	// GlobalArgs are the ARG instructions before the first FROM.
	GlobalArgs []Instruction
	// Stages are the build stages in order; the last one is the image
	// that ships.
	Stages []*Stage
	// Dockerignore is true when a .dockerignore applies to the build
	// context. Load sets it from the Dockerfile's directory; callers that
	// know the context directory may set it with HasDockerignore.
	Dockerignore bool
}

// Stage is one FROM and the instructions up to the next FROM.
type Stage struct {
	// Index is the stage's position, from 0.
	Index int
	// Name is the stage's AS name, lower-case, or "".
	Name string
	// Base is the FROM image with global ARG defaults substituted;
	// BaseResolved is false when a variable had no default.
	Base         string
	BaseResolved bool
	// Parent is the index of the earlier stage this one is built FROM, or
	// -1 when it starts from an image.
	Parent int
	From   Instruction
	// Instructions follow the FROM, in order.
	Instructions []Instruction
}

// KeyValue is one assignment of ENV, ARG or LABEL. Value has its quotes
// removed; Raw is as written. HasValue is false for "ARG NAME".
type KeyValue struct {
	Key, Value, Raw string
	HasValue        bool
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	// Cmd is the instruction keyword in upper case ("RUN").
	Cmd string
	// Flags are the --flags given before the arguments ("--from=build").
	Flags []string
	// Args are the arguments. Shell-form RUN, CMD and ENTRYPOINT have one
	// argument, the command line (continuations joined); exec (JSON) form
	// has one per array element. COPY and ADD list sources then the
	// destination. FROM lists image, "AS", name.
	Args []string
	// JSON is true for the exec (JSON array) form.
	JSON bool
	// KeyValues are ENV, ARG and LABEL assignments.
	KeyValues []KeyValue
	// Heredocs hold the bodies of here-documents (RUN <<EOF ...).
	Heredocs []string
	// Original is the instruction as written (continuations joined).
	Original string
	// Line and EndLine are the 1-based lines the instruction spans.
	Line, EndLine int
}

// Flag returns the value of --name=value, and whether the flag is set.
func (in *Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Script returns the shell script a RUN executes: the command line in shell
// form, the "-c" argument of an exec-form shell call, or the words of an
// exec form joined by spaces; here-document bodies are appended.
func (in *Instruction) Script() string {
	var s string
	switch {
	case !in.JSON && len(in.Args) > 0:
		s = in.Args[0]
	case len(in.Args) >= 3 && (strings.HasSuffix(in.Args[0], "sh") || strings.HasSuffix(in.Args[0], "bash")) && in.Args[1] == "-c":
		s = strings.Join(in.Args[2:], " ")
	default:
		s = strings.Join(in.Args, " ")
	}
	for _, h := range in.Heredocs {
		s += "\n" + h
	}
	return s
}

// Parse reads a Dockerfile from r. name is the path findings will report.
// Input over MaxSize is refused with ErrTooLarge.
func Parse(r io.Reader, name string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("dockerfile: read %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("dockerfile: read %s: %w; is this a Dockerfile?", name, ErrTooLarge)
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("dockerfile: parse %s: %w (fix the syntax; docker build reports the same error)", name, err)
	}
	f := &File{Path: name}
	lex := shell.NewLex(res.EscapeToken)
	for _, n := range res.AST.Children {
		in := instruction(n)
		switch in.Cmd {
		case "FROM":
			f.addStage(in, lex)
		default:
			if len(f.Stages) == 0 {
				if in.Cmd == "ARG" {
					f.GlobalArgs = append(f.GlobalArgs, in)
				}
				// Anything else before FROM is a build error; ignore it.
				continue
			}
			st := f.Stages[len(f.Stages)-1]
			st.Instructions = append(st.Instructions, in)
		}
	}
	if len(f.Stages) == 0 {
		return nil, fmt.Errorf("dockerfile: parse %s: no FROM instruction; is this a Dockerfile?", name)
	}
	return f, nil
}

// Load reads the Dockerfile at path and notes whether a .dockerignore sits
// beside it.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dockerfile: open %s: %w", path, err)
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("dockerfile: open %s: is a directory; name the Dockerfile itself", path)
	}
	f, err := Parse(fh, path)
	if err != nil {
		return nil, err
	}
	f.Dockerignore = HasDockerignore(path, filepath.Dir(path))
	return f, nil
}

// HasDockerignore reports whether a build of the Dockerfile at path with
// the given context directory uses an ignore file: <Dockerfile>.dockerignore
// beside the Dockerfile (BuildKit's per-Dockerfile ignore file) or
// .dockerignore at the root of the context.
func HasDockerignore(path, contextDir string) bool {
	for _, p := range []string{path + ".dockerignore", filepath.Join(contextDir, ".dockerignore")} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func instruction(n *parser.Node) Instruction {
	in := Instruction{
		Cmd:      strings.ToUpper(n.Value),
		Flags:    n.Flags,
		JSON:     n.Attributes["json"],
		Original: n.Original,
		Line:     n.StartLine,
		EndLine:  n.EndLine,
	}
	for _, h := range n.Heredocs {
		in.Heredocs = append(in.Heredocs, h.Content)
	}
	switch in.Cmd {
	case "ENV", "LABEL":
		// key, value, separator triples
		for k := n.Next; k != nil; {
			v := k.Next
			kv := KeyValue{Key: k.Value, HasValue: v != nil}
			if v != nil {
				kv.Raw = v.Value
				kv.Value = unquote(v.Value)
				k = v.Next
				if k != nil && (k.Value == "=" || k.Value == "") {
					k = k.Next
				}
			} else {
				k = nil
			}
			in.KeyValues = append(in.KeyValues, kv)
		}
	case "ARG":
		for w := n.Next; w != nil; w = w.Next {
			k, v, ok := strings.Cut(w.Value, "=")
			in.KeyValues = append(in.KeyValues, KeyValue{Key: k, Value: unquote(v), Raw: v, HasValue: ok})
		}
	case "ONBUILD":
		if n.Next != nil && len(n.Next.Children) > 0 {
			sub := instruction(n.Next.Children[0])
			in.Args = []string{sub.Original}
		}
		return in
	}
	if in.Cmd != "ENV" && in.Cmd != "LABEL" && in.Cmd != "ARG" {
		for w := n.Next; w != nil; w = w.Next {
			in.Args = append(in.Args, w.Value)
		}
	}
	return in
}

// unquote removes one level of shell quoting from a value.
func unquote(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\'':
			j := strings.IndexByte(v[i+1:], '\'')
			if j < 0 {
				b.WriteString(v[i+1:])
				return b.String()
			}
			b.WriteString(v[i+1 : i+1+j])
			i += j + 1
		case '"':
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
		case '\\':
			if i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (f *File) addStage(in Instruction, lex *shell.Lex) {
	st := &Stage{Index: len(f.Stages), From: in, Parent: -1}
	args := in.Args
	if len(args) >= 3 && strings.EqualFold(args[len(args)-2], "AS") {
		st.Name = strings.ToLower(args[len(args)-1])
	}
	if len(args) > 0 {
		st.Base, st.BaseResolved = f.expand(args[0], lex)
	}
	for _, prev := range f.Stages {
		if prev.Name != "" && strings.EqualFold(prev.Name, st.Base) {
			st.Parent = prev.Index
		}
	}
	f.Stages = append(f.Stages, st)
}

// expand substitutes the global ARG defaults into a FROM image. ok is false
// when a variable has no default (its value comes from --build-arg).
func (f *File) expand(word string, lex *shell.Lex) (string, bool) {
	if !strings.Contains(word, "$") {
		return word, true
	}
	var env []string
	for _, a := range f.GlobalArgs {
		for _, kv := range a.KeyValues {
			if kv.HasValue {
				env = append(env, kv.Key+"="+kv.Value)
			}
		}
	}
	out, unmatched, err := lex.ProcessWord(word, shell.EnvsFromSlice(env))
	if err != nil || len(unmatched) > 0 {
		return word, false
	}
	return out, true
}

// Final returns the stage that ships.
func (f *File) Final() *Stage { return f.Stages[len(f.Stages)-1] }

// Chain returns a stage and the stages it is built FROM, nearest first.
func (f *File) Chain(st *Stage) []*Stage {
	out := []*Stage{st}
	seen := map[int]bool{st.Index: true}
	for st.Parent >= 0 && st.Parent < len(f.Stages) && !seen[st.Parent] {
		st = f.Stages[st.Parent]
		seen[st.Index] = true
		out = append(out, st)
	}
	return out
}
