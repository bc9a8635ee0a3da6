package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/audit/manifest"
)

func newConfigCommand(g *globals) *cobra.Command {
	var af auditFlags
	cmd := &cobra.Command{
		Use:   "config PATH",
		Short: "Check docker compose files and Kubernetes manifests for insecure settings",
		Long: "Check deployment manifests: a file, or every *.yaml and *.yml under a directory (skipping .git,\n" +
			"node_modules and vendor). Docker compose files and Kubernetes workloads (Pod, Deployment,\n" +
			"StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, List; multi-document files such as\n" +
			"'helm template' output) are checked for privileged containers, capabilities, a writable root,\n" +
			"root users, privilege escalation, host namespaces, the Docker socket, missing limits, mutable\n" +
			"image tags and disabled seccomp/AppArmor. Findings carry the line of the offending key.\n" +
			"Files that do not parse are reported on stderr and skipped. Formats: table (default), json, ...",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := g.outputs(defaultFormat(g), auditFormats())
			if err != nil {
				return err
			}
			sev, err := af.threshold()
			if err != nil {
				return err
			}
			res, err := manifest.Walk(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !g.quiet {
				for _, s := range res.Skipped {
					g.logger.Warn("skipped "+s.Path, "reason", s.Reason)
				}
				if len(res.Files) == 0 {
					g.logger.Warn("no YAML manifest found under " + args[0])
				}
			}
			r := g.auditReport(kindConfig, args[0], res.Issues)
			return g.finishAudit(r, specs, sev)
		},
	}
	addAuditFlags(cmd, &af)
	return cmd
}
