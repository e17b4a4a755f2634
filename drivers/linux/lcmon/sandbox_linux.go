package lcmon

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/kit/monitor/proc"
)

// Join is what a container created in a sandbox takes from it, carried in
// its monitor request's Backend field.
type Join struct {
	Sandbox string
	// Namespaces maps a namespace type to the path the container joins.
	Namespaces map[specs.LinuxNamespaceType]string
	// Cgroup is the sandbox's cgroup: the container's goes below it.
	Cgroup string `json:",omitempty"`
}

// backendJoin is the Backend field of a monitor request.
type backendJoin struct {
	Join *Join `json:",omitempty"`
}

// EncodeJoin returns the Backend field of a container created in j's sandbox.
func EncodeJoin(j *Join) (json.RawMessage, error) { return json.Marshal(backendJoin{Join: j}) }

// joinOf decodes the Backend field of r; nil for a container of its own.
func joinOf(r *proc.Request) (*Join, error) {
	if len(r.Backend) == 0 {
		return nil, nil
	}
	var b backendJoin
	if err := json.Unmarshal(r.Backend, &b); err != nil {
		return nil, invalidf("create %s: backend record: %v", r.ID, err)
	}
	return b.Join, nil
}

// applyJoin makes spec join j's namespaces (replacing its own of each type)
// and puts its cgroup below the sandbox's when the spec names none.
func applyJoin(spec *specs.Spec, id string, j *Join) {
	if j == nil {
		return
	}
	for typ, path := range j.Namespaces {
		found := false
		for i := range spec.Linux.Namespaces {
			if spec.Linux.Namespaces[i].Type == typ {
				spec.Linux.Namespaces[i].Path, found = path, true
			}
		}
		if !found {
			spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
		}
		if typ == specs.UTSNamespace {
			spec.Hostname = "" // the sandbox's hostname; setting one would change it for all
		}
	}
	if spec.Linux.CgroupsPath == "" && j.Cgroup != "" {
		spec.Linux.CgroupsPath = j.Cgroup + "/" + id
	}
}
