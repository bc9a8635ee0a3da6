package audit

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/audit/internal/imgref"
	"github.com/vigilsec/vigil/audit/internal/secret"
	"github.com/vigilsec/vigil/audit/internal/shell"
	"github.com/vigilsec/vigil/report"
)

// Labels that record the base image (OCI image-spec annotations, which
// BuildKit also writes as labels).
const (
	labelBaseName   = "org.opencontainers.image.base.name"
	labelBaseDigest = "org.opencontainers.image.base.digest"
)

// configIssues checks the image configuration.
func configIssues(r *report.Report) []report.Issue {
	cfg := r.Target.Config
	var out []report.Issue
	if cfg != nil {
		u := strings.TrimSpace(cfg.User)
		name, _, _ := strings.Cut(u, ":")
		switch {
		case u == "":
			out = append(out, issue(catalog.ImgRootUser, "", 0, -1, "no USER in the image config: containers run as root"))
		case name == "root" || name == "0":
			out = append(out, issue(catalog.ImgRootUser, "", 0, -1, "USER "+u))
		}
		for _, e := range cfg.Env {
			k, v, _ := strings.Cut(e, "=")
			for _, ev := range secretsIn(k, v) {
				out = append(out, issue(catalog.ImgSecretEnv, "", 0, -1, ev))
			}
		}
		keys := make([]string, 0, len(cfg.Labels))
		for k := range cfg.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, ev := range secretsIn(k, cfg.Labels[k]) {
				out = append(out, issue(catalog.ImgSecretLabel, "", 0, -1, ev))
			}
		}
		if len(cfg.Healthcheck) == 0 {
			out = append(out, issue(catalog.ImgNoHealthcheck, "", 0, -1, "no HEALTHCHECK in the image config"))
		}
		for _, p := range cfg.ExposedPorts {
			num, _, _ := strings.Cut(p, "/")
			if n, err := strconv.Atoi(num); err == nil && n > 0 && n < 1024 {
				out = append(out, issue(catalog.ImgPrivilegedPort, "", 0, -1, "EXPOSE "+p))
			}
		}
		if base := cfg.Labels[labelBaseName]; base != "" && cfg.Labels[labelBaseDigest] == "" {
			if reason, ok := imgref.Mutable(base); ok {
				out = append(out, issue(catalog.ImgMutableTag, "", 0, -1, "base image "+base+" ("+reason+", from label "+labelBaseName+")"))
			}
		}
	}
	if ev, ok := mutableName(&r.Target); ok {
		out = append(out, issue(catalog.ImgMutableTag, "", 0, -1, ev))
	}
	return out
}

// mutableName checks the image's own name, or its tags when the name is
// not known.
func mutableName(t *report.Target) (string, bool) {
	if t.Digest != "" && strings.Contains(t.Ref, "@") {
		return "", false // the user named the image by digest
	}
	if t.Name != "" {
		if reason, ok := imgref.Mutable(t.Name); ok {
			return "image " + t.Name + " (" + reason + ")", true
		}
		return "", false
	}
	for _, tag := range t.RepoTags {
		if reason, ok := imgref.Mutable(tag); ok {
			return "image " + tag + " (" + reason + ")", true
		}
	}
	return "", false
}

// secretsIn returns masked evidence for a name=value pair that holds a
// credential: a secret-looking name with a literal value, or a value that
// contains a credential (a URL with a password, a known token format).
func secretsIn(name, value string) []string {
	if secret.IsSecretName(name) && secret.IsLiteral(value) {
		return []string{name + "=" + secret.Mask(value)}
	}
	var out []string
	for _, m := range secret.Scan(value) {
		out = append(out, name+": "+m.Evidence)
	}
	return out
}

// historyIssues checks the build steps recorded for each layer.
func historyIssues(r *report.Report) []report.Issue {
	if r.Inventory == nil {
		return nil
	}
	// ENV values also appear in the config; report them once, there.
	inConfig := map[string]bool{}
	if cfg := r.Target.Config; cfg != nil {
		for _, e := range cfg.Env {
			k, v, _ := strings.Cut(e, "=")
			for _, ev := range secretsIn(k, v) {
				inConfig[ev] = true
			}
		}
	}
	var out []report.Issue
	for _, l := range r.Inventory.Layers {
		if l.CreatedBy == "" {
			continue
		}
		for _, m := range secret.Scan(l.CreatedBy) {
			if inConfig[m.Evidence] {
				continue
			}
			out = append(out, issue(catalog.ImgSecretHistory, "", 0, l.Index, m.Evidence))
		}
		st := parseStep(l.CreatedBy)
		switch st.Cmd {
		case "ADD":
			if hasFlag(st.Flags, "checksum") {
				break
			}
			for _, w := range strings.Fields(st.Text) {
				lw := strings.ToLower(w)
				if strings.HasPrefix(lw, "http://") || strings.HasPrefix(lw, "https://") {
					out = append(out, issue(catalog.ImgAddRemoteURL, "", 0, l.Index, "ADD "+w))
				}
			}
		case "RUN":
			if ev, ok := shell.PipeToShell(st.Text); ok {
				out = append(out, issue(catalog.ImgPipeToShell, "", 0, l.Index, clip(ev)))
			}
		}
	}
	return out
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		k, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if k == name {
			return true
		}
	}
	return false
}

// clip folds white space and cuts evidence to 200 characters.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

// step is a history created_by reduced to the Dockerfile instruction it
// records.
type step struct {
	// Cmd is the instruction ("RUN", "COPY", "ADD", "WORKDIR", ...), or ""
	// when the history does not say (other builders).
	Cmd string
	// Text is RUN's script, or the arguments of other instructions with
	// the flags removed.
	Text  string
	Flags []string
}

var (
	argsPrefix  = regexp.MustCompile(`^\|(\d+)\s`)
	shellPrefix = regexp.MustCompile(`^(?:\S*/)?(?:sh|bash|ash|dash|zsh)\s+(?:\S+\s+)*?-c\s+`)
	keywords    = map[string]bool{"RUN": true, "COPY": true, "ADD": true, "WORKDIR": true, "ENV": true, "ARG": true,
		"USER": true, "LABEL": true, "EXPOSE": true, "CMD": true, "ENTRYPOINT": true, "VOLUME": true,
		"HEALTHCHECK": true, "SHELL": true, "STOPSIGNAL": true, "ONBUILD": true, "MAINTAINER": true}
)

// parseStep understands the two common history shapes: BuildKit's
// "RUN |2 A=1 B=2 /bin/sh -c make # buildkit", "COPY . /src # buildkit",
// and the classic builder's "/bin/sh -c make", "/bin/sh -c #(nop) COPY
// file:0a1b... in /src ".
func parseStep(createdBy string) step {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c #(nop)"); ok {
		s = strings.TrimSpace(rest)
	} else if strings.HasPrefix(s, "|") || shellPrefix.MatchString(s) {
		return step{Cmd: "RUN", Text: runText(s)}
	}
	word, rest, _ := strings.Cut(s, " ")
	cmd := strings.ToUpper(word)
	if !keywords[cmd] {
		return step{Text: s}
	}
	rest = strings.TrimSpace(rest)
	if cmd == "RUN" {
		return step{Cmd: cmd, Text: runText(rest)}
	}
	st := step{Cmd: cmd}
	for strings.HasPrefix(rest, "--") {
		f, r, _ := strings.Cut(rest, " ")
		st.Flags = append(st.Flags, f)
		rest = strings.TrimSpace(r)
	}
	st.Text = rest
	return st
}

// runText removes BuildKit's build-argument prefix ("|2 A=1 B=2 ") and the
// shell invocation ("/bin/sh -c ") from a RUN step.
func runText(s string) string {
	if m := argsPrefix.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		s = s[len(m[0]):]
		for i := 0; i < n && i < 10000; i++ {
			s = strings.TrimLeft(s, " ")
			if j := strings.IndexByte(s, ' '); j >= 0 {
				s = s[j+1:]
			} else {
				s = ""
			}
		}
	}
	s = strings.TrimSpace(s)
	if loc := shellPrefix.FindStringIndex(s); loc != nil {
		s = s[loc[1]:]
	}
	return strings.TrimSpace(s)
}
