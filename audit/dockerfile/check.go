package dockerfile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/audit/internal/imgref"
	"github.com/vigilsec/vigil/audit/internal/pkgclass"
	"github.com/vigilsec/vigil/audit/internal/secret"
	"github.com/vigilsec/vigil/audit/internal/shell"
	"github.com/vigilsec/vigil/report"
)

// maxEvidence caps the evidence text of one finding.
const maxEvidence = 200

// Check runs every Dockerfile rule and returns the findings, ordered by
// line then rule ID. Path is the File's Path and Line the instruction's
// first line; Layer is -1.
func Check(f *File) []report.Issue {
	if f == nil || len(f.Stages) == 0 {
		return nil
	}
	c := &checker{f: f}
	final := f.Final()
	shipped := map[int]bool{}
	for _, st := range f.Chain(final) {
		shipped[st.Index] = true
	}
	for _, in := range f.GlobalArgs {
		c.secrets(&in)
	}
	for _, st := range f.Stages {
		c.from(st)
		for i := range st.Instructions {
			in := &st.Instructions[i]
			switch in.Cmd {
			case "ARG", "ENV":
				c.secrets(in)
			case "RUN":
				c.run(in, shipped[st.Index])
			case "ADD":
				c.add(in)
				c.copyContext(in)
			case "COPY":
				c.copyContext(in)
			}
		}
	}
	c.user(final)
	c.healthcheck(final)
	slices.SortStableFunc(c.out, func(a, b report.Issue) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.ID, b.ID), strings.Compare(a.Evidence, b.Evidence))
	})
	return c.out
}

type checker struct {
	f   *File
	out []report.Issue
}

func (c *checker) add1(id string, line int, evidence string) {
	c.out = append(c.out, catalog.Get(id).Issue(c.f.Path, line, -1, clip(evidence)))
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxEvidence {
		return string(r[:maxEvidence-1]) + "…"
	}
	return s
}

// from checks a FROM line's image reference.
func (c *checker) from(st *Stage) {
	if st.Parent >= 0 || !st.BaseResolved || st.Base == "" {
		return
	}
	ev := "FROM " + st.Base
	if reason, mutable := imgref.Mutable(st.Base); mutable {
		c.add1(catalog.DkfBaseLatest, st.From.Line, ev+" ("+reason+")")
		return
	}
	if strings.EqualFold(st.Base, "scratch") {
		return
	}
	if imgref.Parse(st.Base).Digest == "" {
		c.add1(catalog.DkfBaseNoDigest, st.From.Line, ev)
	}
}

// secrets checks ARG and ENV assignments for literal credentials.
func (c *checker) secrets(in *Instruction) {
	for _, kv := range in.KeyValues {
		if !kv.HasValue || !secret.IsSecretName(kv.Key) || !secret.IsLiteral(kv.Raw) || !secret.IsLiteral(kv.Value) {
			continue
		}
		c.add1(catalog.DkfSecretArgEnv, in.Line, in.Cmd+" "+kv.Key+"="+secret.Mask(kv.Value))
	}
}

func (c *checker) run(in *Instruction, shipped bool) {
	script := in.Script()
	if ev, ok := shell.PipeToShell(script); ok {
		c.add1(catalog.DkfPipeToShell, in.Line, ev)
	}
	cmds := shell.Parse(script)
	sudo := false
	removesLists, removesApk := false, false
	for _, cmd := range cmds {
		name, args, viaSudo := shell.Program(cmd)
		sudo = sudo || viaSudo || name == "sudo"
		if name == "rm" {
			for _, a := range args {
				removesLists = removesLists || strings.HasPrefix(a, "/var/lib/apt/lists")
				removesApk = removesApk || strings.HasPrefix(a, "/var/cache/apk")
			}
		}
	}
	if sudo {
		c.add1(catalog.DkfSudo, in.Line, firstLine(script))
	}
	installs, removed := shell.Installs(cmds)
	aptInstall, apkNoCache := false, false
	var tools []string
	for _, inst := range installs {
		switch inst.Manager {
		case "apt":
			aptInstall = true
			if shipped && !slices.Contains(inst.Args, "--no-install-recommends") && !hasNoRecommendsOption(inst.Args) {
				c.add1(catalog.DkfAptRecommends, in.Line, inst.Program+" "+strings.Join(inst.Args, " "))
			}
		case "apk":
			if !slices.Contains(inst.Args, "--no-cache") {
				apkNoCache = true
			}
		}
		if removed[inst.Virtual] && inst.Virtual != "" {
			continue // apk add --virtual .deps ... && apk del .deps
		}
		for _, p := range inst.Packages {
			if removed[p] {
				continue
			}
			if _, ok := pkgclass.BuildTool(p, inst.Manager == "apk"); ok && !slices.Contains(tools, p) {
				tools = append(tools, p)
			}
		}
	}
	if aptInstall && shipped && !removesLists && !cacheMount(in, "/var/lib/apt") {
		c.add1(catalog.DkfAptLists, in.Line, firstLine(script))
	}
	if apkNoCache && shipped && !removesApk && !cacheMount(in, "/var/cache/apk") {
		c.add1(catalog.DkfApkCache, in.Line, firstLine(script))
	}
	if len(tools) > 0 && shipped {
		c.add1(catalog.DkfBuildTools, in.Line, "installs "+strings.Join(tools, ", "))
	}
}

func hasNoRecommendsOption(args []string) bool {
	for _, a := range args {
		l := strings.ToLower(a)
		if strings.Contains(l, "install-recommends=false") || strings.Contains(l, "install-recommends=0") ||
			strings.Contains(l, "install-recommends=no") {
			return true
		}
	}
	return false
}

// cacheMount reports whether the RUN has a cache mount at or above dir.
func cacheMount(in *Instruction, dir string) bool {
	for _, f := range in.Flags {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		isCache, target := false, ""
		for _, part := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(part, "=")
			switch strings.ToLower(k) {
			case "type":
				isCache = val == "cache"
			case "target", "dst", "destination":
				target = strings.TrimSuffix(val, "/")
			}
		}
		if isCache && target != "" && (dir == target || strings.HasPrefix(dir, target+"/") || strings.HasPrefix(target, dir)) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

var archiveExt = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.z"}

// add checks ADD sources: URLs need a checksum, local non-archives should
// be COPY.
func (c *checker) add(in *Instruction) {
	if len(in.Args) < 2 {
		return
	}
	_, checksum := in.Flag("checksum")
	for _, src := range in.Args[:len(in.Args)-1] {
		l := strings.ToLower(src)
		switch {
		case strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "git@") || strings.HasPrefix(l, "git://"):
			if !checksum {
				c.add1(catalog.DkfAddURL, in.Line, "ADD "+src)
			}
		case strings.Contains(src, "$") || len(in.Heredocs) > 0 || strings.HasPrefix(src, "<<"):
			// a variable or a here-document: cannot tell
		default:
			archive := false
			for _, e := range archiveExt {
				archive = archive || strings.HasSuffix(l, e)
			}
			if !archive {
				c.add1(catalog.DkfAddLocal, in.Line, "ADD "+src)
			}
		}
	}
}

// copyContext flags COPY . / ADD . from the build context without a
// .dockerignore.
func (c *checker) copyContext(in *Instruction) {
	if c.f.Dockerignore || len(in.Args) < 2 {
		return
	}
	if _, from := in.Flag("from"); from {
		return
	}
	for _, src := range in.Args[:len(in.Args)-1] {
		switch strings.TrimSuffix(src, "/") {
		case ".", "./.", "", "./*", "*":
			c.add1(catalog.DkfCopyContext, in.Line, in.Cmd+" "+strings.Join(in.Args, " "))
			return
		}
	}
}

// user flags a final stage that ends as root: no USER in it or the stages
// it is built from, or a last USER of root / 0.
func (c *checker) user(final *Stage) {
	for _, st := range c.f.Chain(final) {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			in := &st.Instructions[i]
			if in.Cmd != "USER" || len(in.Args) == 0 {
				continue
			}
			u := strings.TrimSpace(in.Args[0])
			name, _, _ := strings.Cut(u, ":")
			if name == "root" || name == "0" {
				c.add1(catalog.DkfRootUser, in.Line, "USER "+u)
			}
			return
		}
		if st.Parent < 0 && nonRootBase(st.Base) {
			return
		}
	}
	c.add1(catalog.DkfRootUser, final.From.Line, fmt.Sprintf("no USER in the final stage (FROM %s)", final.Base))
}

// nonRootBase reports whether a base image is published to run as a
// non-root user by default: distroless and Chainguard ":nonroot" variants.
func nonRootBase(ref string) bool {
	t := strings.ToLower(imgref.Parse(ref).Tag)
	return t == "nonroot" || strings.HasSuffix(t, "-nonroot") || strings.HasPrefix(t, "nonroot-")
}

// healthcheck flags a final stage (and the stages it builds on) without a
// HEALTHCHECK; HEALTHCHECK NONE is a deliberate choice and passes.
func (c *checker) healthcheck(final *Stage) {
	for _, st := range c.f.Chain(final) {
		for _, in := range st.Instructions {
			if in.Cmd == "HEALTHCHECK" {
				return
			}
		}
	}
	c.add1(catalog.DkfNoHealthcheck, final.From.Line, "no HEALTHCHECK in the final stage (FROM "+final.Base+")")
}
