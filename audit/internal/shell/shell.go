// Package shell reads POSIX shell command lines the way the audit needs
// them: RUN instructions of Dockerfiles and the created_by steps of image
// histories. It splits a script into simple commands grouped in pipelines,
// removes quoting, and names the program each command runs. It is
// forgiving: unbalanced quotes or parentheses end the word at the end of the
// input instead of failing, and it never expands variables. It runs in
// linear time, so hostile input costs no more than reading it.
package shell

import (
	"regexp"
	"strings"
)

// Command is one simple command.
type Command struct {
	// Words are the command's words with quotes removed. Command
	// substitutions and process substitutions stay inside their word
	// verbatim ("$(curl -s x)").
	Words []string
	// Pipeline numbers the pipeline the command belongs to; Stage is its
	// position in it (0 for the first command).
	Pipeline, Stage int
}

// Parse splits a script into commands.
func Parse(script string) []Command {
	var (
		out      []Command
		words    []string
		word     strings.Builder
		inWord   bool
		pipeline int
		stage    int
	)
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCommand := func() {
		endWord()
		if len(words) > 0 {
			out = append(out, Command{Words: words, Pipeline: pipeline, Stage: stage})
			words = nil
		}
	}
	endPipeline := func() {
		endCommand()
		pipeline++
		stage = 0
	}
	s := script
	n := len(s)
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < n && s[i+1] == '\n' { // line continuation
				i++
				continue
			}
			if i+1 < n {
				word.WriteByte(s[i+1])
				i++
			}
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				word.WriteString(s[i+1:])
				i = n
			} else {
				word.WriteString(s[i+1 : i+1+j])
				i += j + 1
			}
			inWord = true
		case c == '"':
			i = readDouble(s, i+1, &word)
			inWord = true
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				word.WriteString(s[i:])
				i = n
			} else {
				word.WriteString(s[i : i+2+j])
				i += j + 1
			}
			inWord = true
		case (c == '$' || c == '<' || c == '>') && i+1 < n && s[i+1] == '(':
			end := matchParen(s, i+1)
			word.WriteString(s[i:end])
			i = end - 1
			inWord = true
		case c == '>' || c == '<':
			// Redirections stay words; "2>&1" and "&>" must not split at &.
			word.WriteByte(c)
			if i+1 < n && s[i+1] == '&' {
				word.WriteByte('&')
				i++
			}
			inWord = true
		case c == '#' && !inWord:
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = n
			} else {
				i += j - 1
			}
		case c == '|':
			if i+1 < n && s[i+1] == '|' {
				i++
				endPipeline()
				continue
			}
			endCommand()
			stage++
		case c == '&':
			if i+1 < n && s[i+1] == '>' {
				word.WriteString("&>")
				i++
				inWord = true
				continue
			}
			if i+1 < n && s[i+1] == '&' {
				i++
			}
			endPipeline()
		case c == ';' || c == '\n' || c == '(' || c == ')':
			endPipeline()
		case (c == '{' || c == '}') && !inWord && (i+1 == n || strings.IndexByte(" \t\n;", s[i+1]) >= 0):
			endPipeline() // a { ...; } group
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCommand()
	return out
}

// readDouble copies a double-quoted string starting after the opening quote
// into w and returns the index of the closing quote (or the last index).
func readDouble(s string, i int, w *strings.Builder) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i
		case '\\':
			if i+1 < len(s) {
				switch s[i+1] {
				case '"', '\\', '$', '`':
					w.WriteByte(s[i+1])
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			w.WriteByte('\\')
		default:
			w.WriteByte(s[i])
		}
	}
	return len(s) - 1
}

// matchParen returns the index just past the parenthesis that closes the
// one at s[open], or len(s). Quotes inside are skipped.
func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case '\\':
			i++
		}
	}
	return len(s)
}

// Program returns the basename of the program a command runs and its
// arguments, looking through variable assignments, the reserved words that
// precede a command (if, then, else, elif, do, while, until, !) and the
// wrappers sudo, env, command, exec, nohup, time and nice. sudo is true when sudo was one
// of the wrappers.
func Program(c Command) (name string, args []string, sudo bool) {
	w := c.Words
	for len(w) > 0 {
		first := w[0]
		switch {
		case isAssignment(first):
			w = w[1:]
			continue
		}
		switch base(first) {
		case "sudo", "doas":
			sudo = true
			w = skipWrapperFlags(w[1:], "ughprCDT")
			continue
		case "env":
			w = w[1:]
			for len(w) > 0 && (strings.HasPrefix(w[0], "-") || isAssignment(w[0])) {
				if w[0] == "-u" && len(w) > 1 {
					w = w[1:]
				}
				w = w[1:]
			}
			continue
		case "if", "then", "else", "elif", "do", "while", "until", "!":
			w = w[1:] // reserved words that precede a command
			continue
		case "command", "exec", "nohup", "time":
			w = skipWrapperFlags(w[1:], "")
			continue
		case "nice":
			w = skipWrapperFlags(w[1:], "n")
			continue
		}
		return base(first), w[1:], sudo
	}
	return "", nil, sudo
}

// skipWrapperFlags drops leading flags; flags whose letter is in withArg
// take the next word as their value.
func skipWrapperFlags(w []string, withArg string) []string {
	for len(w) > 0 && strings.HasPrefix(w[0], "-") && w[0] != "-" {
		f := w[0]
		w = w[1:]
		if f == "--" {
			break
		}
		if len(f) == 2 && strings.IndexByte(withArg, f[1]) >= 0 && len(w) > 0 {
			w = w[1:]
		}
	}
	return w
}

func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := w[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Shells are the interpreters a downloaded script is piped into.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true,
	"busybox": true, "python": true, "python3": true, "perl": true, "ruby": true, "node": true}

var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true}

// substitutedDownload matches a shell fed by a command or process
// substitution that downloads: bash -c "$(curl -fsSL x)", sh <(wget -qO- x).
var substitutedDownload = regexp.MustCompile(`(?:^|[\s;&|(])(?:sh|bash|dash|ash|zsh|ksh)\s+(?:-\w+\s+)*["']?(?:\$\(|<\(|` + "`" + `)\s*(?:curl|wget)\b`)

// PipeToShell reports whether a script downloads something and runs it
// with a shell or interpreter without saving it first, and returns the
// offending pipeline as evidence.
func PipeToShell(script string) (string, bool) {
	cmds := Parse(script)
	for i := range cmds {
		name, _, _ := Program(cmds[i])
		if !downloaders[name] {
			continue
		}
		for j := i + 1; j < len(cmds) && cmds[j].Pipeline == cmds[i].Pipeline; j++ {
			if n, _, _ := Program(cmds[j]); shells[n] {
				return pipelineText(cmds, cmds[i].Pipeline), true
			}
		}
	}
	if loc := substitutedDownload.FindStringIndex(script); loc != nil {
		end := loc[1] + 80
		if end > len(script) {
			end = len(script)
		}
		return strings.TrimSpace(script[loc[0]:end]), true
	}
	return "", false
}

func pipelineText(cmds []Command, p int) string {
	var parts []string
	for _, c := range cmds {
		if c.Pipeline == p {
			parts = append(parts, strings.Join(c.Words, " "))
		}
	}
	return strings.Join(parts, " | ")
}

// Install is one package-manager invocation that installs packages.
type Install struct {
	// Manager is "apt", "apk", "yum", "dnf", "microdnf", "tdnf" or "zypper";
	// Program is the command run ("apt-get").
	Manager, Program string
	// Packages are the names given (version pins like "curl=7.88*" keep
	// only the name); Virtual is apk's --virtual group name, if any.
	Packages []string
	Virtual  string
	// Args are all arguments after the program name, flags included.
	Args []string
}

// Installs finds package installations in the commands, and the package
// names removed again in the same script (apt-get purge/remove, apk del,
// yum/dnf remove), so that a build-and-clean RUN is not reported.
func Installs(cmds []Command) (installs []Install, removed map[string]bool) {
	removed = map[string]bool{}
	for _, c := range cmds {
		name, args, _ := Program(c)
		var mgr string
		switch name {
		case "apt-get", "apt", "aptitude":
			mgr = "apt"
		case "apk":
			mgr = "apk"
		case "yum", "dnf", "microdnf", "tdnf", "zypper":
			mgr = name
		default:
			continue
		}
		sub, rest := subcommand(args, mgr)
		switch {
		case sub == "install" || sub == "add" && mgr == "apk" || sub == "in" && mgr == "zypper":
			in := Install{Manager: mgr, Program: name, Args: args}
			in.Packages, in.Virtual = packageArgs(rest, mgr)
			installs = append(installs, in)
		case sub == "remove" || sub == "purge" || sub == "erase" || sub == "del" || sub == "autoremove" || sub == "rm":
			names, _ := packageArgs(rest, mgr)
			for _, n := range names {
				removed[n] = true
			}
		}
	}
	return installs, removed
}

// subcommand returns the first non-flag argument and the arguments after
// it (flags before the subcommand are kept in rest too).
func subcommand(args []string, mgr string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if flagTakesValue(a, mgr) {
				i++
			}
			continue
		}
		rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
		return a, rest
	}
	return "", nil
}

func flagTakesValue(f, mgr string) bool {
	if strings.Contains(f, "=") {
		return false
	}
	switch mgr {
	case "apt":
		return f == "-o" || f == "-t" || f == "-c" || f == "--target-release" || f == "--option"
	case "apk":
		return f == "-t" || f == "--virtual" || f == "-X" || f == "--repository" || f == "--root" || f == "-p" || f == "--arch"
	default:
		return f == "--setopt" || f == "--enablerepo" || f == "--disablerepo" || f == "--releasever" ||
			f == "--installroot" || f == "-c" || f == "--config" || f == "--repo" || f == "--exclude" || f == "-x"
	}
}

// packageArgs returns the package names among the arguments and apk's
// virtual group name.
func packageArgs(args []string, mgr string) (names []string, virtual string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if mgr == "apk" && (a == "-t" || a == "--virtual") && i+1 < len(args) {
				virtual = args[i+1]
				i++
				continue
			}
			if v, ok := strings.CutPrefix(a, "--virtual="); ok && mgr == "apk" {
				virtual = v
				continue
			}
			if flagTakesValue(a, mgr) {
				i++
			}
			continue
		}
		if strings.ContainsAny(a, "$`<>&") || strings.HasPrefix(a, "/") || strings.HasPrefix(a, "./") || a == "" {
			continue // a variable, a substitution, a redirection or a local .deb/.rpm path
		}
		names = append(names, pkgName(a, mgr))
	}
	return names, virtual
}

// pkgName drops a version pin or architecture: "curl=7.88*", "gcc~=12",
// "libc6:amd64", "nginx>1.24", "make-4.3".
func pkgName(a, mgr string) string {
	cut := "=<>~"
	if mgr == "apt" {
		cut += ":"
	}
	if i := strings.IndexAny(a, cut); i > 0 {
		a = a[:i]
	}
	return strings.ToLower(a)
}
