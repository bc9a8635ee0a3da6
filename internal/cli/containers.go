package cli

import (
	"cmp"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/audit/container"
	"github.com/vigilsec/vigil/report"
)

func newContainersCommand(g *globals) *cobra.Command {
	var (
		af     auditFlags
		all    bool
		labels []string
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
			r := g.auditReport(kindContainers, c.Host(), issues)
			return g.finishAudit(r, specs, sev)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "check stopped and created containers too")
	cmd.Flags().StringArrayVar(&labels, "label", nil, "only containers with this label (key or key=value; repeatable)")
	cmd.Flags().StringVar(&g.dockerHost, "docker-host", "", "Docker Engine address (default: DOCKER_HOST or unix:///var/run/docker.sock)")
	addAuditFlags(cmd, &af)
	return cmd
}
