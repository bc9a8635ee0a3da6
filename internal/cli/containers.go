package cli

import (
	"cmp"
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/audit"
	"github.com/vigilsec/vigil/audit/container"
	"github.com/vigilsec/vigil/report"
)

func newContainersCommand(g *globals) *cobra.Command {
	var (
		af         auditFlags
		all        bool
		labels     []string
		scanImages bool
		dbPath     string
	)
	cmd := &cobra.Command{
		Use:   "containers",
		Short: "Check running containers on the Docker Engine for insecure settings",
		Long: "Ask the Docker Engine (DOCKER_HOST, --docker-host, or unix:///var/run/docker.sock) for its\n" +
			"running containers and check each one: privileged mode, capabilities, a read-only root, the\n" +
			"user, no-new-privileges, seccomp/AppArmor, host namespaces, the Docker socket mounted, memory\n" +
			"and CPU limits, and the image reference. Each finding's path is the container's name.\n" +
			"Formats: table (default), json, ...",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specs, err := g.outputs(defaultFormat(g), auditFormats())
			if err != nil {
				return err
			}
			sev, err := af.threshold()
			if err != nil {
				return err
			}
			c, err := container.NewClient(cmp.Or(g.dockerHost, os.Getenv("DOCKER_HOST")))
			if err != nil {
				return usageError("%v", err)
			}
			res, err := container.Audit(cmd.Context(), c, container.ListOptions{All: all, Labels: labels})
			if err != nil {
				return err
			}
			var issues []report.Issue
			for _, r := range res {
				issues = append(issues, r.Issues...)
				if !g.quiet {
					g.logger.Info("checked container", "name", r.Name, "image", r.Image, "imageID", r.ImageID,
						"state", r.State, "findings", len(r.Issues))
				}
			}
			if len(res) == 0 && !g.quiet {
				g.logger.Warn("no containers to check on " + c.Host())
			}
			if scanImages && len(res) > 0 {
				more, err := g.scanContainerImages(cmd.Context(), res, dbPath)
				if err != nil {
					return err
				}
				issues = append(issues, more...)
			}
			r := g.auditReport(kindContainers, c.Host(), issues)
			return g.finishAudit(r, specs, sev)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "check stopped and created containers too")
	cmd.Flags().BoolVar(&scanImages, "scan-images", true, "also scan each container's image for known vulnerabilities (needs the database)")
	cmd.Flags().StringVar(&dbPath, "db", "", "vulnerability database file (default: <cache-dir>/db/vigil.db)")
	cmd.Flags().StringArrayVar(&labels, "label", nil, "only containers with this label (key or key=value; repeatable)")
	cmd.Flags().StringVar(&g.dockerHost, "docker-host", "", "Docker Engine address (default: DOCKER_HOST or unix:///var/run/docker.sock)")
	addAuditFlags(cmd, &af)
	return cmd
}

// scanContainerImages scans each distinct image the containers run for
// known vulnerabilities and returns one issue per container whose image
// has some, naming the counts and the command that shows them all.
func (g *globals) scanContainerImages(ctx context.Context, res []container.Result, dbPath string) ([]report.Issue, error) {
	db, err := g.openDB(dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	svc, err := g.service()
	if err != nil {
		return nil, err
	}
	opts, err := g.scanOptions(&scanFlags{verify: "auto"})
	if err != nil {
		return nil, err
	}
	opts.Image.DockerHost = g.dockerHost
	type counts struct {
		bySev map[report.Severity]int
		total int
	}
	seen := map[string]*counts{}
	var out []report.Issue
	for _, r := range res {
		if r.ImageID == "" {
			continue
		}
		c, ok := seen[r.ImageID]
		if !ok {
			rep, err := svc.Inventory(ctx, "docker:"+r.ImageID, opts)
			if err != nil {
				g.logger.Warn("cannot scan the image of a container", "container", r.Name, "image", r.Image, "err", err)
				seen[r.ImageID] = nil
				continue
			}
			if err := svc.Match(ctx, rep, db); err != nil {
				return nil, err
			}
			c = &counts{bySev: map[report.Severity]int{}}
			for _, f := range rep.Vulnerabilities {
				c.bySev[f.Severity]++
				c.total++
			}
			seen[r.ImageID] = c
		}
		if c == nil {
			continue
		}
		if is, ok := audit.ContainerImageVulns(r.Name, r.Image, shortDigest(r.ImageID), c.bySev); ok {
			out = append(out, is)
		}
	}
	return out, nil
}
