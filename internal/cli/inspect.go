package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/resolve"
)

func addSourceFlags(cmd *cobra.Command, g *globals) {
	f := cmd.Flags()
	f.StringVar(&g.platform, "platform", "", "platform to select from a multi-platform image, os/arch[/variant] (default: this host's)")
	f.StringVar(&g.username, "username", "", "registry user name (default: from the Docker config and credential helpers)")
	f.StringVar(&g.password, "password", "", "registry password or token (or VIGIL_PASSWORD)")
	f.BoolVar(&g.insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry")
	f.StringVar(&g.dockerHost, "docker-host", "", "Docker Engine address (default: DOCKER_HOST or unix:///var/run/docker.sock)")
}

const refHelp = `REF names the image and where it lives:
  docker:NAME            the local Docker Engine
  podman:NAME            the local Podman service
  registry:NAME          a registry (Docker Hub, GHCR, a private one)
  docker-archive:FILE    a 'docker save' tarball (gzip too)
  oci-dir:DIR[:TAG|@DIGEST]    an OCI image layout directory
  oci-archive:FILE[:TAG|@DIGEST] an OCI layout packed in a tar
  dir:DIR                an unpacked root file system
Without a prefix an existing path is opened as a file or directory source;
otherwise the local engine is tried, then the registry.`

// inspectView is what inspect prints. Environment values are left out:
// they often hold secrets; names are enough to know what is set.
type inspectView struct {
	Source   string            `json:"source"`
	Ref      string            `json:"ref"`
	Name     string            `json:"name,omitempty"`
	RepoTags []string          `json:"repoTags,omitempty"`
	Digest   string            `json:"digest,omitempty"`
	ID       string            `json:"id,omitempty"`
	Platform image.Platform    `json:"platform"`
	Created  *time.Time        `json:"created,omitempty"`
	User     string            `json:"user"`
	EnvNames []string          `json:"envNames,omitempty"`
	Entry    []string          `json:"entrypoint,omitempty"`
	Cmd      []string          `json:"cmd,omitempty"`
	WorkDir  string            `json:"workingDir,omitempty"`
	Ports    []string          `json:"exposedPorts,omitempty"`
	Volumes  []string          `json:"volumes,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Health   []string          `json:"healthcheck,omitempty"`
	Layers   []inspectLayer    `json:"layers"`
	History  []inspectHistory  `json:"history,omitempty"`
	RootDir  string            `json:"rootDir,omitempty"`
}

type inspectLayer struct {
	Index     int    `json:"index"`
	DiffID    string `json:"diffID"`
	Digest    string `json:"digest,omitempty"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
}

type inspectHistory struct {
	// Layer is the index of the layer the step made, or -1 for an empty step.
	Layer     int        `json:"layer"`
	Created   *time.Time `json:"created,omitempty"`
	CreatedBy string     `json:"createdBy,omitempty"`
	Comment   string     `json:"comment,omitempty"`
}

func viewOf(img *image.Image) inspectView {
	v := inspectView{Source: img.Source, Ref: img.Ref, Name: img.Name, RepoTags: img.RepoTags, Digest: img.Digest, ID: img.ID,
		Platform: img.Platform, User: img.Config.User, Entry: img.Config.Entrypoint, Cmd: img.Config.Cmd,
		WorkDir: img.Config.WorkingDir, Ports: img.Config.ExposedPorts, Volumes: img.Config.Volumes,
		Labels: img.Config.Labels, Health: img.Config.Healthcheck, RootDir: img.RootDir, Layers: []inspectLayer{}}
	if !img.Created.IsZero() {
		c := img.Created.UTC()
		v.Created = &c
	}
	for _, e := range img.Config.Env {
		name, _, _ := strings.Cut(e, "=")
		v.EnvNames = append(v.EnvNames, name)
	}
	for i, l := range img.Layers {
		il := inspectLayer{Index: i, DiffID: l.DiffID, Digest: l.Digest, Size: l.Size, MediaType: l.MediaType}
		if l.History != nil {
			il.CreatedBy = l.History.CreatedBy
		}
		v.Layers = append(v.Layers, il)
	}
	li := 0
	for _, h := range img.History {
		ih := inspectHistory{Layer: -1, CreatedBy: h.CreatedBy, Comment: h.Comment}
		if !h.Created.IsZero() {
			c := h.Created.UTC()
			ih.Created = &c
		}
		if !h.EmptyLayer && li < len(img.Layers) {
			ih.Layer = li
			li++
		}
		v.History = append(v.History, ih)
	}
	return v
}

func newInspectCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show an image's identity, configuration and layers",
		Long:  "Show an image's identity (digest, platform), configuration (user, environment variable names,\nentrypoint, ports, labels) and each layer with its size, diffID and the history step that made it.\n\n" + refHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := g.outputs("table", []string{"table", "json"})
			if err != nil {
				return err
			}
			defer g.progressDone()
			opts, err := g.imageOptions()
			if err != nil {
				return err
			}
			img, err := resolve.Open(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			defer img.Close()
			v := viewOf(img)
			for _, s := range specs {
				err := g.write(s, func(w io.Writer) error {
					if s.format == "json" {
						enc := json.NewEncoder(w)
						enc.SetIndent("", "  ")
						return enc.Encode(v)
					}
					return writeInspectTable(w, &v)
				})
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	addSourceFlags(cmd, g)
	return cmd
}

func writeInspectTable(w io.Writer, v *inspectView) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, val)
		}
	}
	row("Image", v.Source+":"+v.Ref)
	row("Name", v.Name)
	row("Tags", strings.Join(v.RepoTags, ", "))
	row("Digest", v.Digest)
	row("ID", v.ID)
	row("Platform", v.Platform.String())
	if v.Created != nil {
		row("Created", v.Created.Format(time.RFC3339))
	}
	user := v.User
	if user == "" {
		user = "(not set: runs as root)"
	}
	row("User", user)
	row("Env", strings.Join(v.EnvNames, ", "))
	row("Entrypoint", quoteArgs(v.Entry))
	row("Cmd", quoteArgs(v.Cmd))
	row("WorkingDir", v.WorkDir)
	row("Ports", strings.Join(v.Ports, ", "))
	row("Volumes", strings.Join(v.Volumes, ", "))
	row("Healthcheck", quoteArgs(v.Health))
	row("Root", v.RootDir)
	if len(v.Labels) > 0 {
		keys := make([]string, 0, len(v.Labels))
		for k := range v.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			label := ""
			if i == 0 {
				label = "Labels"
			}
			fmt.Fprintf(tw, "%s\t%s=%s\n", pad(label), k, v.Labels[k])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(v.Layers) > 0 {
		fmt.Fprintf(w, "\nLayers:\n")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tSIZE\tDIFFID\tCREATED BY")
		for _, l := range v.Layers {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", l.Index, humanSize(l.Size), shortDigest(l.DiffID), oneLine(l.CreatedBy, 80))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(v.History) > 0 {
		fmt.Fprintf(w, "\nHistory:\n")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  LAYER\tCREATED\tCREATED BY")
		for _, h := range v.History {
			layer := "-"
			if h.Layer >= 0 {
				layer = fmt.Sprint(h.Layer)
			}
			created := ""
			if h.Created != nil {
				created = h.Created.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", layer, created, oneLine(h.CreatedBy, 90))
		}
		return tw.Flush()
	}
	return nil
}

func pad(s string) string {
	if s == "" {
		return ""
	}
	return s + ":"
}

func quoteArgs(a []string) string {
	if len(a) == 0 {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// oneLine makes a history step printable on one line: the shell wrapper
// builders add is removed and the result cut to max runes.
func oneLine(s string, max int) string {
	s = StepText(s)
	r := []rune(s)
	if len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// StepText shortens a history created_by for display: "/bin/sh -c #(nop) "
// and "/bin/sh -c " prefixes are dropped, buildkit's "|N k=v ..." argument
// prefix too, and white space is folded.
func StepText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{"/bin/sh -c #(nop) ", "/bin/sh -c "} {
		if strings.HasPrefix(s, p) {
			s = strings.TrimPrefix(s, p)
			if p == "/bin/sh -c " {
				s = "RUN " + s
			}
			break
		}
	}
	return s
}
