package manifest

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/audit/internal/imgref"
	"github.com/vigilsec/vigil/audit/internal/runtime"
)

// compose checks every service of a compose file (the Compose
// Specification, and the v2/v3 file formats it absorbed).
func (c *checker) compose(root *yaml.Node) {
	t := c.t
	_, services := t.get(root, "services")
	for _, kv := range t.pairs(services) {
		c.service(kv[0], kv[1])
	}
}

func (c *checker) service(nameNode, svc *yaml.Node) {
	t := c.t
	if t.deref(svc) == nil || t.deref(svc).Kind != yaml.MappingNode {
		return
	}
	who := "service " + nameNode.Value

	if k, v := t.get(svc, "privileged"); v != nil {
		if b, _ := t.boolean(v); b {
			c.add(catalog.ManPrivileged, k, who+": privileged: true")
		}
	}

	dropK, drop := t.get(svc, "cap_drop")
	dropsAll := false
	for _, it := range t.items(drop) {
		dropsAll = dropsAll || runtime.Cap(t.str(it)) == "ALL"
	}
	if !dropsAll {
		at := dropK
		if at == nil {
			at = nameNode
		}
		c.add(catalog.ManCapsNotDropped, at, who+": cap_drop does not include ALL")
	}
	_, add := t.get(svc, "cap_add")
	for _, it := range t.items(add) {
		if capName := runtime.Cap(t.str(it)); runtime.DangerousCap(capName) {
			c.add(catalog.ManDangerousCap, it, who+": cap_add: "+capName)
		}
	}

	roK, ro := t.get(svc, "read_only")
	if b, _ := t.boolean(ro); !b {
		at := roK
		if at == nil {
			at = nameNode
		}
		c.add(catalog.ManWritableRoot, at, who+": read_only is not true")
	}

	userK, userV := t.get(svc, "user")
	u := strings.TrimSpace(t.str(userV))
	uname, _, _ := strings.Cut(u, ":")
	switch {
	case userK == nil || u == "":
		at := userK
		if at == nil {
			at = nameNode
		}
		c.add(catalog.ManRunAsRoot, at, who+": no user set: runs as the image's USER, root unless the image sets one")
	case uname == "root" || uname == "0":
		c.add(catalog.ManRunAsRoot, userK, who+": user: "+u)
	}

	soK, so := t.get(svc, "security_opt")
	noNewPriv := false
	for _, it := range t.items(so) {
		switch opt := t.str(it); {
		case runtime.NoNewPrivileges(opt):
			noNewPriv = true
		case runtime.Unconfined(opt):
			c.add(catalog.ManUnconfined, it, who+": security_opt: "+opt)
		}
	}
	if !noNewPriv {
		at := soK
		if at == nil {
			at = nameNode
		}
		c.add(catalog.ManPrivEscalation, at, who+": security_opt lacks no-new-privileges:true")
	}

	for _, key := range []string{"network_mode", "pid", "ipc"} {
		if k, v := t.get(svc, key); strings.EqualFold(strings.TrimSpace(t.str(v)), "host") {
			c.add(catalog.ManHostNamespace, k, who+": "+key+": host")
		}
	}

	_, vols := t.get(svc, "volumes")
	for _, it := range t.items(vols) {
		var src string
		sock := false
		if it.Kind == yaml.ScalarNode {
			src, _, _ = strings.Cut(it.Value, ":")
			// "${DOCKER_SOCK:-/var/run/docker.sock}:/var/run/docker.sock"
			sock = strings.Contains(it.Value, "docker.sock}:")
		} else {
			src = t.str(second(t.get(it, "source")))
		}
		if sock || runtime.DockerSocket(src) {
			c.add(catalog.ManDockerSocket, it, who+": volume "+src)
		}
	}

	c.composeLimits(who, nameNode, svc)

	if k, v := t.get(svc, "image"); k != nil {
		if reason, ok := imgref.Mutable(t.str(v)); ok {
			c.add(catalog.ManMutableImage, v, who+": image "+t.str(v)+" ("+reason+")")
		}
	}
}

// composeLimits wants a memory and a CPU limit: deploy.resources.limits
// (memory, cpus) or the service-level mem_limit and cpus / cpu_quota.
func (c *checker) composeLimits(who string, nameNode, svc *yaml.Node) {
	t := c.t
	limK, lim := t.path(svc, "deploy", "resources", "limits")
	has := func(keys ...string) bool {
		for _, k := range keys {
			if kk, v := t.get(lim, k); kk != nil && t.str(v) != "" {
				return true
			}
			if kk, v := t.get(svc, k); kk != nil && t.str(v) != "" {
				return true
			}
		}
		return false
	}
	var missing []string
	if !has("memory", "mem_limit") {
		missing = append(missing, "memory")
	}
	if !has("cpus", "cpu_quota") {
		missing = append(missing, "cpus")
	}
	if len(missing) == 0 {
		return
	}
	at := limK
	if at == nil {
		at = nameNode
	}
	c.add(catalog.ManNoLimits, at, who+": no "+strings.Join(missing, " or ")+" limit")
}
