// Package manifest checks deployment manifests for container hardening:
// docker compose files and Kubernetes workload manifests (Pod, Deployment,
// StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob
// and List, in multi-document YAML such as "helm template" output). It
// flags privileged containers, capabilities not dropped or dangerous ones
// added, writable root file systems, containers that may run as root,
// privilege escalation left open, host namespaces, the Docker socket
// mounted, missing memory and CPU limits, mutable image tags and disabled
// seccomp or AppArmor. Each finding carries the line of the offending key,
// or of the container or service when the key is missing.
package manifest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/report"
)

// MaxFileSize caps the size of one manifest file. Rendered Helm charts of
// large platforms reach a few MiB.
const MaxFileSize = 8 << 20

// maxDocuments caps the YAML documents of one file.
const maxDocuments = 10_000

// ErrTooLarge is returned for a file over MaxFileSize.
var ErrTooLarge = errors.New("manifest larger than 8 MiB")

// Check parses one file's contents (one or more YAML documents) and checks
// every compose file and Kubernetes workload in it; other YAML documents
// are ignored. path is what the findings report. The error says what could
// not be parsed; findings of the documents before it are still returned.
func Check(data []byte, path string) ([]report.Issue, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("manifest: read %s: %w", path, ErrTooLarge)
	}
	var out []report.Issue
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		if i >= maxDocuments {
			return sorted(out), fmt.Errorf("manifest: parse %s: more than %d YAML documents", path, maxDocuments)
		}
		var doc yaml.Node
		err := decode(dec, &doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sorted(out), fmt.Errorf("manifest: parse %s: document %d: %w", path, i+1, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		t := &tree{}
		root := doc.Content[0]
		c := &checker{t: t, path: path}
		switch {
		case isKubernetes(t, root):
			c.kubeObject(root, 0)
		case isCompose(t, root):
			c.compose(root)
		}
		if t.err != nil {
			return sorted(out), fmt.Errorf("manifest: check %s: document %d: %w", path, i+1, t.err)
		}
		out = append(out, c.out...)
	}
	return sorted(out), nil
}

// decode runs the YAML decoder, turning a panic inside it into an error:
// the input is untrusted and the parser is not ours.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

func sorted(is []report.Issue) []report.Issue {
	slices.SortStableFunc(is, func(a, b report.Issue) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), strings.Compare(a.ID, b.ID),
			strings.Compare(a.Evidence, b.Evidence))
	})
	return is
}

// CheckFile reads and checks one file.
func CheckFile(path string) ([]report.Issue, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	return Check(data, path)
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: open %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("manifest: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("manifest: read %s: %w", path, ErrTooLarge)
	}
	return data, nil
}

// Skipped is a file a walk could not check.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Result is what Walk found.
type Result struct {
	Issues []report.Issue
	// Files are the files checked (parsed as YAML), in walk order.
	Files []string
	// Skipped are files that could not be read or parsed; the walk went on.
	Skipped []Skipped
}

// skipDirs are directories a walk does not enter.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".terraform": true, ".venv": true}

// Walk checks a file, or every *.yaml and *.yml file under a directory
// (skipping .git, node_modules and vendor). A file that cannot be parsed is
// recorded in Result.Skipped and the walk continues; an unreadable root or
// a cancelled context is an error. Helm chart templates (files with "{{"
// that do not parse) are skipped with a note to render them first.
func Walk(ctx context.Context, root string) (*Result, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	res := &Result{}
	if !fi.IsDir() {
		is, err := CheckFile(root)
		if err != nil {
			return nil, err
		}
		res.Issues, res.Files = is, []string{root}
		return res, nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == root {
				return err
			}
			res.Skipped = append(res.Skipped, Skipped{Path: p, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(p))
		if !d.Type().IsRegular() || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		data, err := readCapped(p)
		if err != nil {
			res.Skipped = append(res.Skipped, Skipped{Path: p, Reason: err.Error()})
			return nil
		}
		is, err := Check(data, p)
		res.Issues = append(res.Issues, is...)
		if err != nil {
			reason := err.Error()
			if bytes.Contains(data, []byte("{{")) {
				reason = "looks like a Helm template: render it (helm template CHART > out.yaml) and check the output; " + reason
			}
			res.Skipped = append(res.Skipped, Skipped{Path: p, Reason: reason})
			return nil
		}
		res.Files = append(res.Files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manifest: walk %s: %w", root, err)
	}
	res.Issues = sorted(res.Issues)
	return res, nil
}

func isKubernetes(t *tree, root *yaml.Node) bool {
	k, _ := t.get(root, "kind")
	a, _ := t.get(root, "apiVersion")
	return k != nil && a != nil
}

func isCompose(t *tree, root *yaml.Node) bool {
	_, v := t.get(root, "services")
	v = t.deref(v)
	return v != nil && v.Kind == yaml.MappingNode
}
