package manifest

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/audit/internal/imgref"
	"github.com/vigilsec/vigil/audit/internal/runtime"
	"github.com/vigilsec/vigil/report"
)

type checker struct {
	t    *tree
	path string
	out  []report.Issue
}

func (c *checker) add(id string, n *yaml.Node, evidence string) {
	c.out = append(c.out, catalog.Get(id).Issue(c.path, line(n), -1, evidence))
}

// kubeObject checks one Kubernetes object (a List's items recursively).
func (c *checker) kubeObject(obj *yaml.Node, depth int) {
	t := c.t
	kind := t.str(second(t.get(obj, "kind")))
	_, name := t.path(obj, "metadata", "name")
	label := kind + "/" + t.str(name)
	var spec, podMeta *yaml.Node
	switch kind {
	case "List":
		if depth > 2 {
			return
		}
		_, items := t.get(obj, "items")
		for _, it := range t.items(items) {
			c.kubeObject(it, depth+1)
		}
		return
	case "Pod":
		_, spec = t.get(obj, "spec")
		_, podMeta = t.get(obj, "metadata")
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		_, spec = t.path(obj, "spec", "template", "spec")
		_, podMeta = t.path(obj, "spec", "template", "metadata")
	case "CronJob":
		_, spec = t.path(obj, "spec", "jobTemplate", "spec", "template", "spec")
		_, podMeta = t.path(obj, "spec", "jobTemplate", "spec", "template", "metadata")
	default:
		return
	}
	if t.deref(spec) == nil {
		return
	}
	c.podSpec(label, spec, podMeta)
}

func second(_, v *yaml.Node) *yaml.Node { return v }

func (c *checker) podSpec(label string, spec, podMeta *yaml.Node) {
	t := c.t
	for _, key := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		k, v := t.get(spec, key)
		if b, _ := t.boolean(v); b {
			c.add(catalog.ManHostNamespace, k, label+": "+key+": true")
		}
	}
	// hostPath volumes that expose the Docker socket
	_, vols := t.get(spec, "volumes")
	for _, vol := range t.items(vols) {
		pk, pv := t.path(vol, "hostPath", "path")
		if pk != nil && runtime.DockerSocket(t.str(pv)) {
			c.add(catalog.ManDockerSocket, pk, label+" volume "+t.str(second(t.get(vol, "name")))+": hostPath "+t.str(pv))
		}
	}
	_, podSC := t.get(spec, "securityContext")
	if k, v := t.path(podSC, "seccompProfile", "type"); strings.EqualFold(t.str(v), "Unconfined") {
		c.add(catalog.ManUnconfined, k, label+": securityContext.seccompProfile.type: Unconfined")
	}
	if k, v := t.path(podSC, "appArmorProfile", "type"); strings.EqualFold(t.str(v), "Unconfined") {
		c.add(catalog.ManUnconfined, k, label+": securityContext.appArmorProfile.type: Unconfined")
	}
	_, annotations := t.get(podMeta, "annotations")
	for _, list := range []string{"initContainers", "containers"} {
		_, cs := t.get(spec, list)
		for _, ctr := range t.items(cs) {
			c.container(label, ctr, podSC, annotations)
		}
	}
}

func (c *checker) container(label string, ctr, podSC, annotations *yaml.Node) {
	t := c.t
	cname := t.str(second(t.get(ctr, "name")))
	who := label + " container " + cname
	_, sc := t.get(ctr, "securityContext")

	if k, v := t.get(sc, "privileged"); v != nil {
		if b, _ := t.boolean(v); b {
			c.add(catalog.ManPrivileged, k, who+": privileged: true")
		}
	}

	dropK, drop := t.path(sc, "capabilities", "drop")
	dropsAll := false
	for _, it := range t.items(drop) {
		dropsAll = dropsAll || runtime.Cap(t.str(it)) == "ALL"
	}
	if !dropsAll {
		at := dropK
		if at == nil {
			at = ctr
		}
		c.add(catalog.ManCapsNotDropped, at, who+": capabilities.drop does not include ALL")
	}
	_, add := t.path(sc, "capabilities", "add")
	for _, it := range t.items(add) {
		if capName := runtime.Cap(t.str(it)); runtime.DangerousCap(capName) {
			c.add(catalog.ManDangerousCap, it, who+": capabilities.add: "+capName)
		}
	}

	roK, ro := t.get(sc, "readOnlyRootFilesystem")
	if b, _ := t.boolean(ro); !b {
		at := roK
		if at == nil {
			at = ctr
		}
		c.add(catalog.ManWritableRoot, at, who+": readOnlyRootFilesystem is not true")
	}

	c.runAsRoot(who, ctr, sc, podSC)

	apeK, ape := t.get(sc, "allowPrivilegeEscalation")
	if b, ok := t.boolean(ape); !ok || b {
		at := apeK
		if at == nil {
			at = ctr
		}
		c.add(catalog.ManPrivEscalation, at, who+": allowPrivilegeEscalation is not false")
	}

	if k, v := t.path(sc, "seccompProfile", "type"); strings.EqualFold(t.str(v), "Unconfined") {
		c.add(catalog.ManUnconfined, k, who+": securityContext.seccompProfile.type: Unconfined")
	}
	if k, v := t.path(sc, "appArmorProfile", "type"); strings.EqualFold(t.str(v), "Unconfined") {
		c.add(catalog.ManUnconfined, k, who+": securityContext.appArmorProfile.type: Unconfined")
	}
	if k, v := t.get(annotations, "container.apparmor.security.beta.kubernetes.io/"+cname); strings.EqualFold(t.str(v), "unconfined") {
		c.add(catalog.ManUnconfined, k, who+": AppArmor annotation unconfined")
	}

	limK, lim := t.path(ctr, "resources", "limits")
	var missing []string
	for _, r := range []string{"memory", "cpu"} {
		if k, v := t.get(lim, r); k == nil || t.str(v) == "" {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		at := limK
		if at == nil {
			at = ctr
		}
		c.add(catalog.ManNoLimits, at, who+": no resources.limits."+strings.Join(missing, ", "))
	}

	if k, v := t.get(ctr, "image"); k != nil {
		if reason, ok := imgref.Mutable(t.str(v)); ok {
			c.add(catalog.ManMutableImage, v, who+": image "+t.str(v)+" ("+reason+")")
		}
	}
}

// runAsRoot applies the Pod Security Standards' non-root rule: the
// container (or, failing that, the pod) must set runAsNonRoot: true or a
// non-zero runAsUser; runAsUser: 0 is root whatever runAsNonRoot says.
func (c *checker) runAsRoot(who string, ctr, sc, podSC *yaml.Node) {
	t := c.t
	userK, userV := t.get(sc, "runAsUser")
	if userK == nil {
		userK, userV = t.get(podSC, "runAsUser")
	}
	nrK, nrV := t.get(sc, "runAsNonRoot")
	if nrK == nil {
		nrK, nrV = t.get(podSC, "runAsNonRoot")
	}
	uid, hasUID := t.integer(userV)
	nonRoot, _ := t.boolean(nrV)
	switch {
	case hasUID && uid == 0:
		c.add(catalog.ManRunAsRoot, userK, who+": runAsUser: 0")
	case nonRoot, hasUID && uid > 0:
	default:
		at := nrK
		if at == nil {
			at = ctr
		}
		c.add(catalog.ManRunAsRoot, at, who+": neither runAsNonRoot: true nor a non-zero runAsUser (pod or container)")
	}
}
