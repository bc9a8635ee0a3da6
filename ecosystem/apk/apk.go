// Package apk reads the package database of Alpine, Wolfi and Chainguard
// images (lib/apk/db/installed): each installed package with its origin,
// which Alpine advisories are keyed by, its licence and the files it
// installed.
package apk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// MaxInstalledSize caps the database read; a large image's is a few MiB.
const MaxInstalledSize = 128 << 20

const (
	maxLine     = 64 << 10
	maxWarnings = 20
)

type extractor struct{}

// New returns the apk database extractor.
func New() extract.Extractor { return extractor{} }

func (extractor) Name() string { return "apk" }
func (extractor) Version() int { return 1 }

func (extractor) Wants(p string, fi fs.FileInfo) bool {
	if fi != nil && fi.IsDir() {
		return false
	}
	// apk-tools 3 keeps the database under usr/lib.
	return p == "lib/apk/db/installed" || p == "usr/lib/apk/db/installed"
}

func (extractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Size > MaxInstalledSize {
		return &extract.Result{Warnings: []string{fmt.Sprintf(
			"apk: %s is %d bytes, over the %d-byte cap; ignored", in.Path, in.Size, MaxInstalledSize)}}, nil
	}
	var r io.Reader = strings.NewReader("")
	if in.Reader != nil {
		r = &exactReader{r: io.NewSectionReader(in.Reader, 0, in.Size), left: in.Size}
	}
	pkgs, warns, err := parse(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("apk: parse %s: %w", in.Path, err)
	}
	res := &extract.Result{Packages: pkgs}
	for _, w := range warns {
		res.Warnings = append(res.Warnings, "apk: "+in.Path+": "+w)
	}
	return res, nil
}

// parse reads the installed database: records of "X:value" lines separated
// by blank lines. P name, V version, A arch, o origin, L licence; F opens a
// directory and each R after it names a file in it. Records without a
// name or version are dropped with a warning.
func parse(ctx context.Context, r io.Reader) ([]inventory.Package, []string, error) {
	var (
		pkgs    []inventory.Package
		warns   []string
		dropped int
		cur     inventory.Package
		dir     string
		fields  int
		line    int
		seen    = map[string]bool{}
	)
	warn := func(format string, args ...any) {
		if len(warns) < maxWarnings {
			warns = append(warns, fmt.Sprintf(format, args...))
		} else {
			dropped++
		}
	}
	flush := func() {
		defer func() { cur, dir, fields = inventory.Package{}, "", 0 }()
		switch {
		case fields == 0:
			return
		case !validToken(cur.Name):
			warn("record ending at line %d has no valid P: name (%.60q); skipped", line, cur.Name)
			return
		case !validToken(cur.Version):
			warn("package %s has no valid V: version (%.60q); skipped", cur.Name, cur.Version)
			return
		case seen[cur.Name]:
			warn("package %s listed twice; kept the first", cur.Name)
			return
		}
		seen[cur.Name] = true
		cur.Ecosystem = inventory.APK
		if cur.SourceName == "" {
			cur.SourceName = cur.Name
		}
		cur.SourceVersion = cur.Version
		pkgs = append(pkgs, cur)
	}
	br := bufio.NewReaderSize(r, maxLine)
	for {
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		b, long, err := br.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, err
		}
		line++
		if long {
			warn("line %d longer than %d bytes ignored", line, maxLine)
			for long && err == nil {
				_, long, err = br.ReadLine()
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, nil, err
			}
			continue
		}
		s := strings.TrimRight(string(b), "\r")
		if strings.TrimSpace(s) == "" {
			flush()
			continue
		}
		if len(s) < 2 || s[1] != ':' {
			warn("line %d is not a field: %.60q", line, s)
			continue
		}
		fields++
		v := s[2:]
		switch s[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.SourceName = v
		case 'L':
			cur.Licenses = licenses(v)
		case 'F':
			dir = v
		case 'R':
			if p, ok := clean(dir, v); ok {
				cur.Files = append(cur.Files, p)
			} else {
				warn("package %.60q: file %.60q in %.60q is not a clean relative path; skipped", cur.Name, v, dir)
			}
		}
	}
	flush()
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("%d more problems not shown", dropped))
	}
	return pkgs, warns, nil
}

// licenses splits Alpine's L: field. Older packages list licences
// separated by spaces ("MIT BSD GPL2+"); newer ones hold one SPDX
// expression ("( Apache-2.0 OR MIT ) AND MPL-2.0"), which is kept whole.
func licenses(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	f := strings.Fields(v)
	for _, w := range f {
		switch w {
		case "AND", "OR", "WITH", "(", ")":
			return []string{strings.Join(f, " ")}
		}
		if strings.ContainsAny(w, "()") {
			return []string{strings.Join(f, " ")}
		}
	}
	return f
}

// clean joins an R: file to its F: directory, refusing absolute paths,
// parent references and NUL bytes.
func clean(dir, file string) (string, bool) {
	if file == "" || strings.ContainsRune(dir+file, 0) || strings.Contains(file, "/") {
		return "", false
	}
	p := path.Join(dir, file)
	if path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || p == "." {
		return "", false
	}
	return p, true
}

// validToken accepts non-empty printable ASCII without spaces.
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// exactReader turns an early end of file (a reader shorter than the size
// the layer recorded) into io.ErrUnexpectedEOF.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if errors.Is(err, io.EOF) && e.left > 0 {
		err = fmt.Errorf("%w: %d bytes short of the recorded size", io.ErrUnexpectedEOF, e.left)
	}
	return n, err
}
