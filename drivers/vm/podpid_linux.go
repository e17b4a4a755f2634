package vm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
)

// The pod's PID namespace by path. In CRI's POD PID mode (crictl's
// default, Kubernetes' shareProcessNamespace) every container of a pod
// names the pause container's PID namespace as /proc/PID/ns/pid, PID being
// what the pause container's Create returned: for a container of a vm pod,
// the pod's QEMU, the pid every container of the pod reports. Such a path
// cannot name a namespace of the host (the containers run in the guest);
// it names the pod's: the guest PID namespace of the pod's container that
// has one of its own (CRI's pause container, pid 1 in it), which the new
// container joins by its guest path, as runc joins the pause container's
// on the host. A pod that shares the guest's PID namespace (the sandbox
// spec lists pid) ignores the path, as it does for ipc and uts.

// namesPodPID reports whether ns is a PID namespace given by a path that
// names the pod's VM (/proc/QEMUPID/ns/pid).
func namesPodPID(ns specs.LinuxNamespace, qemuPid int) bool {
	if ns.Type != specs.PIDNamespace || qemuPid <= 0 {
		return false
	}
	rest, ok := strings.CutPrefix(ns.Path, "/proc/")
	if !ok {
		return false
	}
	pid, ok := strings.CutSuffix(rest, "/ns/pid")
	return ok && pid == strconv.Itoa(qemuPid)
}

// joinsPodPID reports whether spec's PID namespace is the pod's by path
// (namesPodPID) in a pod that does not share the guest's.
func joinsPodPID(spec *specs.Spec, pc *podConfig, qemuPid int) bool {
	if spec.Linux == nil || podShares(pc, specs.PIDNamespace) {
		return false
	}
	return slices.ContainsFunc(spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return namesPodPID(ns, qemuPid) })
}

// ownsPIDNamespace reports whether a guest spec gives its container a new
// PID namespace (no path): one other containers of the pod may join.
func ownsPIDNamespace(g *specs.Spec) bool {
	return g.Linux != nil && slices.ContainsFunc(g.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == specs.PIDNamespace && ns.Path == ""
	})
}

// podPIDOwner picks the container whose PID namespace is the pod's, among
// the running containers of the pod that have one of their own (owners):
// exactly one. None: the pause container ended (or never had one); more:
// the path cannot say which (every container of a pod reports the same
// pid), so only the pod-wide namespace (CRI's POD mode) is supported, not
// CRI's TARGET mode between containers of their own namespaces.
func podPIDOwner(id, sandbox string, owners []string) (string, error) {
	switch len(owners) {
	case 1:
		return owners[0], nil
	case 0:
		return "", driver.FailedPreconditionf("create %s: its PID namespace is the pod's (a path naming sandbox %s's VM), but no running container of the pod has a PID namespace of its own to share (did the pod's pause container end?)", id, sandbox)
	}
	slices.Sort(owners)
	return "", driver.InvalidArgumentf("create %s: its PID namespace path names sandbox %s's VM, which every container of the pod reports as its pid, and containers %s each have their own PID namespace: the path cannot say which; a vm pod supports the pause container's namespace shared by the pod (CRI's POD mode), not CRI's TARGET mode", id, sandbox, strings.Join(owners, ", "))
}

// podPIDPath returns the guest path of the pod's PID namespace: that of
// its running container with a namespace of its own.
func (m *monitor) podPIDPath(ctx context.Context, id string) (string, error) {
	m.mu.Lock()
	var owners []string
	for cid, c := range m.ctrs {
		if c.ownPID && !c.stopped() {
			owners = append(owners, cid)
		}
	}
	m.mu.Unlock()
	owner, err := podPIDOwner(id, m.req.ID, owners)
	if err != nil {
		return "", err
	}
	st, err := m.sess.agent.State(ctx, owner)
	if err != nil {
		return "", fmt.Errorf("create %s: the pod's PID namespace (of container %s): %w", id, owner, err)
	}
	if st.Pid == 0 || st.Status == driver.StatusStopped {
		return "", driver.FailedPreconditionf("create %s: the pod's PID namespace is container %s's, which has stopped", id, owner)
	}
	return fmt.Sprintf("/proc/%d/ns/pid", st.Pid), nil
}

// setPodPID points a guest spec's PID namespace at path.
func setPodPID(g *specs.Spec, path string) {
	for i, ns := range g.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			g.Linux.Namespaces[i].Path = path
		}
	}
}
