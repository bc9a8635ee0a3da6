package container

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/audit/internal/imgref"
	"github.com/vigilsec/vigil/audit/internal/runtime"
	"github.com/vigilsec/vigil/report"
)

// Result is the audit of one container.
type Result struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Image is the reference the container was created from; ImageID the
	// image's ID (config digest), which an image scan can open directly.
	Image   string         `json:"image"`
	ImageID string         `json:"imageID"`
	State   string         `json:"state"`
	Issues  []report.Issue `json:"issues"`
}

// Audit lists the containers (running ones unless opts.All) and checks
// each. Results are ordered by container name. A container that
// disappears between the list and its inspection is skipped.
func Audit(ctx context.Context, c *Client, opts ListOptions) ([]Result, error) {
	list, err := c.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, s := range list {
		in, err := c.Inspect(ctx, s.ID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			var se *StatusError
			if errors.As(err, &se) && se.Code == http.StatusNotFound {
				continue // removed meanwhile
			}
			return nil, err
		}
		out = append(out, Result{
			ID:      in.ID,
			Name:    strings.TrimPrefix(in.Name, "/"),
			Image:   in.Config.Image,
			ImageID: in.Image,
			State:   in.State.Status,
			Issues:  Check(in),
		})
	}
	slices.SortFunc(out, func(a, b Result) int { return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

var hexID = regexp.MustCompile(`^(sha256:)?[0-9a-f]{12,64}$`)

// Check runs the container rules on one inspect document. Path is the
// container's name, Layer -1.
func Check(in *Inspect) []report.Issue {
	name := strings.TrimPrefix(in.Name, "/")
	if name == "" {
		name = in.ID
	}
	var out []report.Issue
	add := func(id, ev string) { out = append(out, catalog.Get(id).Issue(name, 0, -1, ev)) }
	hc := &in.HostConfig

	if hc.Privileged {
		add(catalog.CtrPrivileged, "HostConfig.Privileged: true")
	}
	if !runtime.DropsAll(hc.CapDrop) {
		ev := "HostConfig.CapDrop does not include ALL"
		if len(hc.CapDrop) > 0 {
			ev += " (" + strings.Join(hc.CapDrop, ", ") + ")"
		}
		add(catalog.CtrCapsNotDropped, ev)
	}
	for _, c := range hc.CapAdd {
		if runtime.DangerousCap(c) {
			add(catalog.CtrDangerousCap, "HostConfig.CapAdd: "+runtime.Cap(c))
		}
	}
	if !hc.ReadonlyRootfs {
		add(catalog.CtrWritableRoot, "HostConfig.ReadonlyRootfs: false")
	}
	u := strings.TrimSpace(in.Config.User)
	if uname, _, _ := strings.Cut(u, ":"); u == "" || uname == "root" || uname == "0" {
		ev := "Config.User: " + u
		if u == "" {
			ev = "Config.User not set (root)"
		}
		add(catalog.CtrRunAsRoot, ev)
	}
	nnp := false
	for _, o := range hc.SecurityOpt {
		nnp = nnp || runtime.NoNewPrivileges(o)
		if runtime.Unconfined(o) {
			add(catalog.CtrUnconfined, "HostConfig.SecurityOpt: "+o)
		}
	}
	if !nnp {
		add(catalog.CtrNoNewPrivileges, "HostConfig.SecurityOpt lacks no-new-privileges")
	}
	for _, ns := range []struct{ field, mode string }{{"NetworkMode", hc.NetworkMode}, {"PidMode", hc.PidMode}, {"IpcMode", hc.IpcMode}} {
		if ns.mode == "host" {
			add(catalog.CtrHostNamespace, "HostConfig."+ns.field+": host")
		}
	}
	for _, m := range in.Mounts {
		if m.Type == "bind" && runtime.DockerSocket(m.Source) {
			add(catalog.CtrDockerSocket, "mount "+m.Source+" -> "+m.Destination)
		}
	}
	var missing []string
	if hc.Memory <= 0 {
		missing = append(missing, "memory (HostConfig.Memory)")
	}
	if hc.NanoCpus <= 0 && hc.CPUQuota <= 0 {
		missing = append(missing, "CPU (HostConfig.NanoCpus, CpuQuota)")
	}
	if len(missing) > 0 {
		add(catalog.CtrNoLimits, "no "+strings.Join(missing, " or ")+" limit")
	}
	if img := in.Config.Image; !hexID.MatchString(img) {
		if reason, ok := imgref.Mutable(img); ok {
			add(catalog.CtrMutableImage, "Config.Image: "+img+" ("+reason+")")
		}
	}
	slices.SortStableFunc(out, func(a, b report.Issue) int { return strings.Compare(a.ID, b.ID) })
	return out
}
