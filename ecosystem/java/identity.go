package java

import (
	"strings"
)

// coords are Maven coordinates.
type coords struct {
	Group, Artifact, Version string
}

// fileName is what an archive's file name says about it.
type fileName struct {
	stem    string // name without the extension: "log4j-core-2.19.0"
	name    string // artifact part when the name carries a version: "log4j-core"
	version string // "2.19.0"
}

// preQualifiers are version qualifiers that may be followed by a further
// dash-separated number ("1.0-beta-2", "2.0-rc-1").
var preQualifiers = map[string]bool{
	"a": true, "alpha": true, "b": true, "beta": true, "m": true, "milestone": true,
	"rc": true, "cr": true, "pre": true, "preview": true, "ea": true, "dev": true,
}

// parseFileName splits "name-version.ext". The version starts at the last
// dash-separated part that begins with a digit ("log4j-1.2-api-2.19.0" ->
// "log4j-1.2-api" + "2.19.0", as Trivy's pattern does), moved back over a
// pre-release qualifier that splits a version ("foo-1.0-beta-2" -> "foo" +
// "1.0-beta-2"). Without such a part only the stem is known.
func parseFileName(base string) fileName {
	stem := base
	if dot := strings.LastIndexByte(base, '.'); dot > 0 {
		stem = base[:dot]
	}
	f := fileName{stem: stem}
	parts := strings.Split(stem, "-")
	k := -1
	for i := len(parts) - 1; i >= 1; i-- {
		if startsWithDigit(parts[i]) {
			k = i
			break
		}
	}
	if k < 0 {
		return f
	}
	for k >= 3 && preQualifiers[strings.ToLower(parts[k-1])] && startsWithDigit(parts[k-2]) {
		k -= 2
	}
	name := strings.Join(parts[:k], "-")
	if name == "" || !isIdentifier(name) {
		return f
	}
	f.name, f.version = name, strings.Join(parts[k:], "-")
	return f
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// isIdentifier reports whether s looks like a Maven group or artifact ID
// (letters, digits, '.', '-', '_', starting with a letter or digit), as
// opposed to a human-readable title.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validVersion rejects versions that are empty, unresolved build
// placeholders ("${project.version}") or not a single token.
func validVersion(v string) bool {
	if v == "" || len(v) > 200 || strings.Contains(v, "${") {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return false
		}
	}
	return true
}

// pomCoords reads one META-INF/maven/<group>/<artifact>/pom.properties. The
// directory names stand in for missing groupId/artifactId keys.
func pomCoords(dirGroup, dirArtifact string, props map[string]string) (coords, bool) {
	c := coords{
		Group:    strings.TrimSpace(props["groupId"]),
		Artifact: strings.TrimSpace(props["artifactId"]),
		Version:  strings.TrimSpace(props["version"]),
	}
	if c.Group == "" {
		c.Group = dirGroup
	}
	if c.Artifact == "" {
		c.Artifact = dirArtifact
	}
	if !isIdentifier(c.Group) || !isIdentifier(c.Artifact) || !validVersion(c.Version) {
		return coords{}, false
	}
	return c, true
}

// identify derives an archive's own coordinates from its manifest and file
// name (the ranking is documented on the package). nameFromStem reports
// that the name is only the bare file name, the weakest evidence (it is the
// artifact ID in Debian's /usr/share/java, and "app" in many images).
func identify(m manifest, f fileName) (c coords, nameFromStem bool) {
	if f.name != "" {
		c.Artifact = f.name
	} else {
		// Short-Name is the Jenkins plugin ID. A candidate that the
		// Bundle-SymbolicName confirms beats the order.
		cands := []string{m.get("Short-Name"), m.get("Implementation-Title"), m.get("Bundle-Name"), f.stem}
		bsn := m.bundleSymbolicName()
		pick := -1
		for i, n := range cands {
			if isIdentifier(n) && len(bsnGroups(bsn, n)) > 0 {
				pick = i
				break
			}
		}
		for i, n := range cands {
			if pick < 0 && isIdentifier(n) {
				pick = i
			}
		}
		if pick >= 0 {
			c.Artifact, nameFromStem = cands[pick], pick == len(cands)-1
		}
	}
	for _, v := range []string{m.get("Implementation-Version"), f.version, m.get("Plugin-Version"),
		m.get("Bundle-Version"), m.get("Specification-Version")} {
		if validVersion(v) {
			c.Version = v
			break
		}
	}
	if c.Artifact == "" {
		return coords{}, false
	}
	switch g := groupFromBSN(m.bundleSymbolicName(), c.Artifact); {
	case isIdentifier(m.get("Group-Id")):
		c.Group = m.get("Group-Id") // Jenkins plugins
	case g != "":
		c.Group = g
	case isIdentifier(m.get("Implementation-Vendor-Id")) && strings.Contains(m.get("Implementation-Vendor-Id"), "."):
		c.Group = m.get("Implementation-Vendor-Id")
	}
	return c, nameFromStem
}

// groupFromBSN returns the group that the maven-bundle-plugin's default
// symbolic name rule makes consistent with bsn and artifact, or "".
func groupFromBSN(bsn, artifact string) string {
	if g := bsnGroups(bsn, artifact); len(g) > 0 {
		return g[0]
	}
	return ""
}

// bsnGroups inverts the maven-bundle-plugin's default symbolic name for
// group g and artifact a: g + "." + a in general; g alone when a is g's last
// segment; g + "." + rest when a is g's last segment + "-" or "." + rest. It
// returns every group consistent with bsn, the general rule first ("bson"
// in "org.mongodb.bson" is read as org.mongodb:bson, not
// org.mongodb.bson:bson).
func bsnGroups(bsn, artifact string) []string {
	if artifact == "" || !isIdentifier(bsn) {
		return nil
	}
	var out []string
	if g, ok := strings.CutSuffix(bsn, "."+artifact); ok && g != "" {
		out = append(out, g) // "com.fasterxml.jackson.core.jackson-databind"
	}
	if bsn[strings.LastIndexByte(bsn, '.')+1:] == artifact && strings.Contains(bsn, ".") {
		out = append(out, bsn) // "com.google.guava" for guava
	}
	for i := 0; i < len(artifact); i++ {
		if artifact[i] != '-' && artifact[i] != '.' {
			continue
		}
		head, rest := artifact[:i], artifact[i+1:]
		g, ok := strings.CutSuffix(bsn, "."+rest)
		if ok && g != "" && g[strings.LastIndexByte(g, '.')+1:] == head {
			out = append(out, g) // "org.apache.logging.log4j.core" for log4j-core
		}
	}
	return out
}

// isOwn reports whether pom.properties coordinates c describe the archive
// itself (rather than a dependency shaded into it).
func isOwn(c coords, m manifest, f fileName) bool {
	a := c.Artifact
	if a == f.name || a == f.stem {
		return true
	}
	if c.Version == f.version && strings.HasPrefix(f.name, a+"-") {
		return true // a renamed classifier jar: "wagon-http-shaded-3.5.3.jar"
	}
	if a == m.get("Implementation-Title") || a == m.get("Bundle-Name") || a == m.get("Short-Name") {
		return true
	}
	for _, g := range bsnGroups(m.bundleSymbolicName(), a) {
		if g == c.Group {
			return true
		}
	}
	return false
}
