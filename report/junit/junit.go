// Package junit writes a report as JUnit XML, the test-report format CI
// systems (GitLab, Jenkins, Azure Pipelines, CircleCI) show in their test
// views.
//
// The document has one testsuite per target (the OS packages, then each
// language target by path) and one each for hardening and secret findings.
// Every finding is a testcase: unsuppressed findings fail (the failure type
// is the severity, the body says what is vulnerable, which Dockerfile step
// brought it in and how to fix it), suppressed ones are skipped with their
// reason. A target without findings gets one passing testcase, so that
// every scanned target shows up.
package junit

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
)

// Encoder writes JUnit XML.
type Encoder struct{}

type testsuites struct {
	XMLName   xml.Name    `xml:"testsuites"`
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Suites    []testsuite `xml:"testsuite"`
}

type testsuite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Time       string     `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr,omitempty"`
	Properties []property `xml:"properties>property,omitempty"`
	Cases      []testcase `xml:"testcase"`
}

type property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type testcase struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *failure `xml:"failure,omitempty"`
	Skipped   *skipped `xml:"skipped,omitempty"`
}

type failure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type skipped struct {
	Message string `xml:"message,attr"`
}

// Encode implements report.Encoder.
func (Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("junit: encode: nil report")
	}
	doc := build(remediation.Annotated(r))
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("junit: write report for %s: %w", r.Target.DisplayName(), err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: write report for %s: %w", r.Target.DisplayName(), err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("junit: write report for %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

func build(r *report.Report) *testsuites {
	ts := ""
	if !r.CreatedAt.IsZero() {
		ts = r.CreatedAt.UTC().Format("2006-01-02T15:04:05")
	}
	doc := &testsuites{Name: "vigil " + cmp.Or(r.Target.DisplayName(), "scan"), Time: "0", Timestamp: ts}
	inv := r.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	byGroup := map[string][]*report.Finding{}
	var orphans []*report.Finding
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		p := r.PackageOf(f)
		if p == nil {
			orphans = append(orphans, f)
			continue
		}
		byGroup[groupKey(p)] = append(byGroup[groupKey(p)], f)
	}
	props := []property{{Name: "target", Value: r.Target.DisplayName()}}
	if r.Target.Digest != "" {
		props = append(props, property{Name: "digest", Value: r.Target.Digest})
	}
	for _, g := range report.Groups(inv) {
		var key string
		if len(g.Packages) > 0 {
			key = groupKey(g.Packages[0])
		}
		s := testsuite{Name: groupName(inv, g), Time: "0", Timestamp: ts, Properties: props}
		for _, f := range byGroup[key] {
			s.Cases = append(s.Cases, findingCase(r, f, s.Name))
		}
		if len(s.Cases) == 0 {
			n := "1 package"
			if len(g.Packages) != 1 {
				n = strconv.Itoa(len(g.Packages)) + " packages"
			}
			s.Cases = append(s.Cases, testcase{Name: "no known vulnerabilities in " + n, Classname: s.Name, Time: "0"})
		}
		doc.add(s)
	}
	if len(orphans) > 0 {
		s := testsuite{Name: "packages not in the inventory", Time: "0", Timestamp: ts, Properties: props}
		for _, f := range orphans {
			s.Cases = append(s.Cases, findingCase(r, f, s.Name))
		}
		doc.add(s)
	}
	hard := testsuite{Name: "Hardening", Time: "0", Timestamp: ts, Properties: props}
	secrets := testsuite{Name: "Secrets", Time: "0", Timestamp: ts, Properties: props}
	for i := range r.Audit {
		is := &r.Audit[i]
		if is.Category == report.CategorySecret {
			secrets.Cases = append(secrets.Cases, issueCase(r, is, secrets.Name))
		} else {
			hard.Cases = append(hard.Cases, issueCase(r, is, hard.Name))
		}
	}
	for _, s := range []testsuite{hard, secrets} {
		if len(s.Cases) > 0 {
			doc.add(s)
		}
	}
	return doc
}

func (d *testsuites) add(s testsuite) {
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	d.Tests += s.Tests
	d.Failures += s.Failures
	d.Skipped += s.Skipped
	d.Suites = append(d.Suites, s)
}

// groupKey identifies the group of a package as report.Groups forms them.
func groupKey(p *inventory.Package) string {
	if p.Ecosystem.IsOS() {
		return "os"
	}
	return string(p.Ecosystem) + "\x00" + report.TargetPath(p)
}

func groupName(inv *inventory.Inventory, g report.Group) string {
	if g.OS {
		if inv.Distro != nil {
			return "OS packages: " + distroName(inv.Distro)
		}
		return "OS packages"
	}
	return cmp.Or(g.Path, "(no path)") + " (" + string(g.Ecosystem) + ")"
}

func distroName(d *inventory.Distro) string {
	if d.Name != "" {
		return d.Name
	}
	return strings.TrimSpace(d.Family + " " + d.Version)
}

func layerText(r *report.Report, index int) string {
	s := "layer #" + strconv.Itoa(index)
	if st := r.DockerfileStep(index); st != nil {
		s += fmt.Sprintf(" (%s line %d)", cmp.Or(r.Target.Dockerfile, "Dockerfile"), st.Line)
		if st.Instruction != "" {
			return s + ": " + st.Instruction
		}
	}
	if l := r.Layer(index); l != nil {
		if step := report.ShortStep(l.CreatedBy); step != "" {
			s += ": " + step
		}
	}
	return s
}

func findingCase(r *report.Report, f *report.Finding, class string) testcase {
	c := testcase{
		Name:      fmt.Sprintf("%s %s %s", f.ID, f.Package.Name, f.InstalledVersion),
		Classname: class,
		Time:      "0",
	}
	if s := f.Suppressed; s != nil {
		c.Skipped = &skipped{Message: "suppressed by " + cmp.Or(s.Source, "policy") + ": " + s.Reason}
		return c
	}
	var body strings.Builder
	fmt.Fprintf(&body, "%s %s (%s) is affected by %s", f.Package.Name, f.InstalledVersion, f.Package.Ecosystem, f.ID)
	if len(f.Aliases) > 0 {
		fmt.Fprintf(&body, " (%s)", strings.Join(f.Aliases, ", "))
	}
	fmt.Fprintf(&body, ".\nSeverity: %s\n", f.Severity)
	if f.Title != "" {
		fmt.Fprintf(&body, "Title: %s\n", f.Title)
	}
	if len(f.FixedVersions) > 0 {
		fmt.Fprintf(&body, "Fixed in: %s\n", strings.Join(f.FixedVersions, ", "))
	}
	fmt.Fprintf(&body, "Introduced by: %s\n", layerText(r, f.Layer))
	if rem := f.Remediation; rem != nil {
		fmt.Fprintf(&body, "Fix: %s\n", rem.Text)
		if rem.Command != "" {
			fmt.Fprintf(&body, "Command: %s\n", rem.Command)
		}
	}
	for _, ref := range f.References {
		fmt.Fprintf(&body, "See: %s\n", ref)
	}
	c.Failure = &failure{
		Message: fmt.Sprintf("%s (%s): %s", f.ID, f.Severity, cmp.Or(f.Title, f.Package.Name+" "+f.InstalledVersion)),
		Type:    string(f.Severity),
		Body:    body.String(),
	}
	return c
}

func issueCase(r *report.Report, is *report.Issue, class string) testcase {
	where := is.Path
	if where != "" && is.Line > 0 {
		where += ":" + strconv.Itoa(is.Line)
	}
	name := is.ID + " " + is.Title
	if where != "" {
		name += " (" + where + ")"
	}
	c := testcase{Name: name, Classname: class, Time: "0"}
	if s := is.Suppressed; s != nil {
		c.Skipped = &skipped{Message: "suppressed by " + cmp.Or(s.Source, "policy") + ": " + s.Reason}
		return c
	}
	var body strings.Builder
	fmt.Fprintf(&body, "%s (%s)\n", cmp.Or(is.Description, is.Title), is.Severity)
	if where != "" {
		fmt.Fprintf(&body, "Where: %s\n", where)
	}
	if is.Layer >= 0 {
		fmt.Fprintf(&body, "Introduced by: %s\n", layerText(r, is.Layer))
	}
	if is.Evidence != "" {
		fmt.Fprintf(&body, "Evidence: %s\n", is.Evidence)
	}
	if is.Fix != "" {
		fmt.Fprintf(&body, "Fix: %s\n", is.Fix)
	}
	if is.Reference != "" {
		fmt.Fprintf(&body, "See: %s\n", is.Reference)
	}
	c.Failure = &failure{Message: fmt.Sprintf("%s (%s): %s", is.ID, is.Severity, is.Title), Type: string(is.Severity), Body: body.String()}
	return c
}
