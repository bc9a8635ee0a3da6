package report

import (
	"path"
	"strings"
)

// ShortStep turns a history entry's created_by into the Dockerfile
// instruction a reader recognises:
//
//	/bin/sh -c #(nop)  CMD ["bash"]                -> CMD ["bash"]
//	/bin/sh -c apt-get install -y curl             -> RUN apt-get install -y curl
//	|1 V=2 /bin/sh -c make                         -> RUN make
//	RUN /bin/sh -c apt-get update # buildkit       -> RUN apt-get update
//	RUN |2 A=1 B=2 /bin/bash -o pipefail -c make   -> RUN make
//	COPY . /app # buildkit                         -> COPY . /app
//
// Runs of white space (continuation lines) collapse to one space. The
// result is not truncated.
func ShortStep(createdBy string) string {
	s := strings.Join(strings.Fields(createdBy), " ")
	s = strings.TrimSuffix(s, " # buildkit")
	s = strings.TrimSuffix(s, "# buildkit")
	s = strings.TrimSpace(s)
	// BuildKit writes the instruction first.
	if rest, ok := strings.CutPrefix(s, "RUN "); ok {
		return "RUN " + stripShell(stripBuildArgs(rest))
	}
	// The classic builder writes the shell invocation first, then either
	// "#(nop) " and the instruction, or the RUN command line.
	body := stripBuildArgs(s)
	shelled := stripShell(body)
	if shelled == body {
		return s
	}
	if nop, ok := strings.CutPrefix(shelled, "#(nop)"); ok {
		return strings.TrimSpace(nop)
	}
	return "RUN " + shelled
}

// stripBuildArgs removes the "|N k=v ..." prefix that records the build
// arguments a RUN saw.
func stripBuildArgs(s string) string {
	if !strings.HasPrefix(s, "|") {
		return s
	}
	fields := strings.SplitN(s, " ", 2)
	n := 0
	for _, c := range fields[0][1:] {
		if c < '0' || c > '9' || n > 1000 {
			return s
		}
		n = n*10 + int(c-'0')
	}
	if len(fields) < 2 {
		return s
	}
	rest := fields[1]
	for range n {
		k, r, _ := strings.Cut(rest, " ")
		if !strings.Contains(k, "=") {
			return s
		}
		rest = r
	}
	return rest
}

// stripShell removes a leading shell invocation ("/bin/sh -c ", "bash -o
// pipefail -c ").
func stripShell(s string) string {
	first, rest, ok := strings.Cut(s, " ")
	if !ok {
		return s
	}
	switch path.Base(first) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
	default:
		return s
	}
	for rest != "" {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		switch {
		case tok == "-c":
			return rest
		case strings.HasPrefix(tok, "-") && strings.HasSuffix(tok, "c") && !strings.HasPrefix(tok, "--"):
			// Combined flags such as "-ec" or "-exc".
			return rest
		case tok == "-o" || tok == "+o":
			_, rest, _ = strings.Cut(rest, " ")
		case strings.HasPrefix(tok, "-") || strings.HasPrefix(tok, "+"):
		default:
			return s
		}
	}
	return s
}
