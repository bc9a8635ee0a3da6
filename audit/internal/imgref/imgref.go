// Package imgref splits container image references ("registry/repo:tag@
// sha256:...") into name, tag and digest, and says when a reference is
// mutable: named by the tag latest or by no tag, without a digest.
package imgref

import "strings"

// Ref is a parsed image reference.
type Ref struct {
	// Name is everything before the tag and digest ("docker.io/library/nginx",
	// "localhost:5000/app").
	Name   string
	Tag    string
	Digest string
}

// Parse splits a reference. It does not validate; an empty string gives an
// empty Ref.
func Parse(s string) Ref {
	s = strings.TrimSpace(s)
	var r Ref
	if at := strings.IndexByte(s, '@'); at >= 0 {
		r.Digest = s[at+1:]
		s = s[:at]
	}
	slash := strings.LastIndexByte(s, '/')
	if colon := strings.LastIndexByte(s, ':'); colon > slash {
		r.Tag = s[colon+1:]
		s = s[:colon]
	}
	r.Name = s
	return r
}

// Mutable reports whether a reference names a moving target: no digest and
// either no tag or the tag "latest". The reason is "latest tag" or "no
// tag". References with unexpanded variables ($VAR) and "scratch" are never
// mutable: what they name is not known or not an image.
func Mutable(s string) (reason string, mutable bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, "$") || strings.EqualFold(s, "scratch") {
		return "", false
	}
	r := Parse(s)
	if r.Digest != "" {
		return "", false
	}
	switch {
	case r.Tag == "":
		return "no tag", true
	case strings.EqualFold(r.Tag, "latest"):
		return "latest tag", true
	}
	return "", false
}
