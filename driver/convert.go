package driver

import (
	"encoding/json"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/timestamppb"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// Conversions between the SDK types and the wire messages. They are total:
// a nil message converts to the zero value, a zero time to an unset
// timestamp, an empty slice or map to nil, so both sides see the same values.

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromProto(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func stringsCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

func mapCopy(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func infoToProto(i *Info) *driverv1.Info {
	if i == nil {
		return nil
	}
	return &driverv1.Info{
		Name:            i.Name,
		Version:         i.Version,
		ContractVersion: int32(i.ContractVersion),
		Os:              i.OS,
		Arch:            i.Arch,
		Isolation:       isolationToProto(i.Isolation),
		Capabilities:    capabilitiesToProto(i.Capabilities),
		Health:          &driverv1.Health{Ready: i.Health.Ready, Reason: i.Health.Reason},
	}
}

func infoFromProto(p *driverv1.Info) *Info {
	return &Info{
		Name:            p.GetName(),
		Version:         p.GetVersion(),
		ContractVersion: int(p.GetContractVersion()),
		OS:              p.GetOs(),
		Arch:            p.GetArch(),
		Isolation:       isolationFromProto(p.GetIsolation()),
		Capabilities:    capabilitiesFromProto(p.GetCapabilities()),
		Health:          Health{Ready: p.GetHealth().GetReady(), Reason: p.GetHealth().GetReason()},
	}
}

func isolationToProto(i Isolation) *driverv1.Isolation {
	return &driverv1.Isolation{
		Class:              string(i.Class),
		SharesHostKernel:   i.SharesHostKernel,
		GuestKernel:        i.GuestKernel,
		SyscallFilter:      i.SyscallFilter,
		UserNamespaces:     i.UserNamespaces,
		CapabilityModel:    i.CapabilityModel,
		Rootless:           i.Rootless,
		ResourceAccounting: i.ResourceAccounting,
		Platform:           i.Platform,
		KnownGaps:          stringsCopy(i.KnownGaps),
	}
}

func isolationFromProto(p *driverv1.Isolation) Isolation {
	return Isolation{
		Class:              IsolationClass(p.GetClass()),
		SharesHostKernel:   p.GetSharesHostKernel(),
		GuestKernel:        p.GetGuestKernel(),
		SyscallFilter:      p.GetSyscallFilter(),
		UserNamespaces:     p.GetUserNamespaces(),
		CapabilityModel:    p.GetCapabilityModel(),
		Rootless:           p.GetRootless(),
		ResourceAccounting: p.GetResourceAccounting(),
		Platform:           p.GetPlatform(),
		KnownGaps:          stringsCopy(p.GetKnownGaps()),
	}
}

func capabilitiesToProto(c Capabilities) *driverv1.Capabilities {
	return &driverv1.Capabilities{
		Exec:        c.Exec,
		Terminal:    c.Terminal,
		ResizePty:   c.ResizePty,
		CloseIo:     c.CloseIO,
		Pause:       c.Pause,
		Stats:       c.Stats,
		Update:      c.Update,
		Pids:        c.Pids,
		Events:      c.Events,
		Checkpoint:  c.Checkpoint,
		StatsFields: stringsCopy(c.StatsFields),

		NetworkNamespace: c.NetworkNamespace,
		Sandboxes:        c.Sandboxes,
	}
}

func capabilitiesFromProto(p *driverv1.Capabilities) Capabilities {
	return Capabilities{
		Exec:        p.GetExec(),
		Terminal:    p.GetTerminal(),
		ResizePty:   p.GetResizePty(),
		CloseIO:     p.GetCloseIo(),
		Pause:       p.GetPause(),
		Stats:       p.GetStats(),
		Update:      p.GetUpdate(),
		Pids:        p.GetPids(),
		Events:      p.GetEvents(),
		Checkpoint:  p.GetCheckpoint(),
		StatsFields: stringsCopy(p.GetStatsFields()),

		NetworkNamespace: p.GetNetworkNamespace(),
		Sandboxes:        p.GetSandboxes(),
	}
}

func stdioToProto(s Stdio) *driverv1.Stdio {
	return &driverv1.Stdio{Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr, Terminal: s.Terminal}
}

func stdioFromProto(p *driverv1.Stdio) Stdio {
	return Stdio{Stdin: p.GetStdin(), Stdout: p.GetStdout(), Stderr: p.GetStderr(), Terminal: p.GetTerminal()}
}

func mountsToProto(ms []Mount) []*driverv1.Mount {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*driverv1.Mount, len(ms))
	for i, m := range ms {
		out[i] = &driverv1.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: stringsCopy(m.Options)}
	}
	return out
}

func mountsFromProto(ps []*driverv1.Mount) []Mount {
	if len(ps) == 0 {
		return nil
	}
	out := make([]Mount, len(ps))
	for i, p := range ps {
		out[i] = Mount{Type: p.GetType(), Source: p.GetSource(), Target: p.GetTarget(), Options: stringsCopy(p.GetOptions())}
	}
	return out
}

func createRequestToProto(r *CreateRequest) *driverv1.CreateRequest {
	if r == nil {
		return &driverv1.CreateRequest{}
	}
	return &driverv1.CreateRequest{
		Id:          r.ID,
		Bundle:      r.Bundle,
		Rootfs:      mountsToProto(r.Rootfs),
		Stdio:       stdioToProto(r.Stdio),
		Annotations: mapCopy(r.Annotations),
		SandboxId:   r.SandboxID,
	}
}

func createRequestFromProto(p *driverv1.CreateRequest) *CreateRequest {
	return &CreateRequest{
		ID:          p.GetId(),
		Bundle:      p.GetBundle(),
		Rootfs:      mountsFromProto(p.GetRootfs()),
		Stdio:       stdioFromProto(p.GetStdio()),
		Annotations: mapCopy(p.GetAnnotations()),
		SandboxID:   p.GetSandboxId(),
	}
}

func exitToProto(e *ExitStatus) *driverv1.ExitStatus {
	if e == nil {
		return nil
	}
	return &driverv1.ExitStatus{
		Code:      e.Code,
		Signal:    e.Signal,
		OomKilled: e.OOMKilled,
		ExitedAt:  timeToProto(e.ExitedAt),
		Reason:    e.Reason,
	}
}

func exitFromProto(p *driverv1.ExitStatus) *ExitStatus {
	if p == nil {
		return nil
	}
	return &ExitStatus{
		Code:      p.GetCode(),
		Signal:    p.GetSignal(),
		OOMKilled: p.GetOomKilled(),
		ExitedAt:  timeFromProto(p.GetExitedAt()),
		Reason:    p.GetReason(),
	}
}

func stateToProto(s *State) *driverv1.State {
	if s == nil {
		return nil
	}
	return &driverv1.State{
		Id:          s.ID,
		Bundle:      s.Bundle,
		Status:      string(s.Status),
		Pid:         s.Pid,
		Exit:        exitToProto(s.Exit),
		Annotations: mapCopy(s.Annotations),
		CreatedAt:   timeToProto(s.CreatedAt),
		SandboxId:   s.SandboxID,
	}
}

func stateFromProto(p *driverv1.State) *State {
	return &State{
		ID:          p.GetId(),
		Bundle:      p.GetBundle(),
		Status:      Status(p.GetStatus()),
		Pid:         p.GetPid(),
		Exit:        exitFromProto(p.GetExit()),
		Annotations: mapCopy(p.GetAnnotations()),
		CreatedAt:   timeFromProto(p.GetCreatedAt()),
		SandboxID:   p.GetSandboxId(),
	}
}

func statsToProto(s *Stats) *driverv1.Stats {
	if s == nil {
		return nil
	}
	return &driverv1.Stats{
		Fields:           stringsCopy(s.Fields),
		CpuUsageNanos:    s.CPUUsageNanos,
		MemoryUsageBytes: s.MemoryUsageBytes,
		MemoryLimitBytes: s.MemoryLimitBytes,
		PidsCurrent:      s.PidsCurrent,
		PidsLimit:        s.PidsLimit,
	}
}

func statsFromProto(p *driverv1.Stats) *Stats {
	return &Stats{
		Fields:           stringsCopy(p.GetFields()),
		CPUUsageNanos:    p.GetCpuUsageNanos(),
		MemoryUsageBytes: p.GetMemoryUsageBytes(),
		MemoryLimitBytes: p.GetMemoryLimitBytes(),
		PidsCurrent:      p.GetPidsCurrent(),
		PidsLimit:        p.GetPidsLimit(),
	}
}

func processesToProto(ps []ProcessInfo) []*driverv1.ProcessInfo {
	if len(ps) == 0 {
		return nil
	}
	out := make([]*driverv1.ProcessInfo, len(ps))
	for i, p := range ps {
		out[i] = &driverv1.ProcessInfo{Pid: p.Pid, ExecId: p.ExecID}
	}
	return out
}

func processesFromProto(ps []*driverv1.ProcessInfo) []ProcessInfo {
	if len(ps) == 0 {
		return nil
	}
	out := make([]ProcessInfo, len(ps))
	for i, p := range ps {
		out[i] = ProcessInfo{Pid: p.GetPid(), ExecID: p.GetExecId()}
	}
	return out
}

func eventToProto(e *Event) *driverv1.Event {
	if e == nil {
		return &driverv1.Event{}
	}
	return &driverv1.Event{
		Type:      string(e.Type),
		Id:        e.ID,
		ExecId:    e.ExecID,
		Pid:       e.Pid,
		Exit:      exitToProto(e.Exit),
		Timestamp: timeToProto(e.Timestamp),
		Seq:       e.Seq,
	}
}

func eventFromProto(p *driverv1.Event) *Event {
	return &Event{
		Type:      EventType(p.GetType()),
		ID:        p.GetId(),
		ExecID:    p.GetExecId(),
		Pid:       p.GetPid(),
		Exit:      exitFromProto(p.GetExit()),
		Timestamp: timeFromProto(p.GetTimestamp()),
		Seq:       p.GetSeq(),
	}
}

func eventsRequestToProto(r *EventsRequest) *driverv1.EventsRequest {
	if r == nil {
		return &driverv1.EventsRequest{}
	}
	return &driverv1.EventsRequest{After: r.After, Since: timeToProto(r.Since)}
}

func eventsRequestFromProto(p *driverv1.EventsRequest) *EventsRequest {
	return &EventsRequest{After: p.GetAfter(), Since: timeFromProto(p.GetSince())}
}

// encodeJSON encodes an optional OCI value; nil travels as empty bytes.
func encodeJSON[T any](what string, v *T) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, InvalidArgumentf("encode %s: %v", what, err)
	}
	return b, nil
}

// decodeJSON decodes an optional OCI value; empty bytes give nil.
func decodeJSON[T any](what string, b []byte) (*T, error) {
	if len(b) == 0 {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, InvalidArgumentf("decode %s: %v", what, err)
	}
	return v, nil
}

func execRequestToProto(r *ExecRequest) (*driverv1.ExecRequest, error) {
	if r == nil {
		return &driverv1.ExecRequest{}, nil
	}
	proc, err := encodeJSON("exec process", r.Process)
	if err != nil {
		return nil, err
	}
	return &driverv1.ExecRequest{Id: r.ID, ExecId: r.ExecID, ProcessJson: proc, Stdio: stdioToProto(r.Stdio)}, nil
}

func execRequestFromProto(p *driverv1.ExecRequest) (*ExecRequest, error) {
	proc, err := decodeJSON[specs.Process]("exec process", p.GetProcessJson())
	if err != nil {
		return nil, err
	}
	return &ExecRequest{ID: p.GetId(), ExecID: p.GetExecId(), Process: proc, Stdio: stdioFromProto(p.GetStdio())}, nil
}

func updateRequestToProto(r *UpdateRequest) (*driverv1.UpdateRequest, error) {
	if r == nil {
		return &driverv1.UpdateRequest{}, nil
	}
	res, err := encodeJSON("update resources", r.Resources)
	if err != nil {
		return nil, err
	}
	return &driverv1.UpdateRequest{Id: r.ID, ResourcesJson: res}, nil
}

func updateRequestFromProto(p *driverv1.UpdateRequest) (*UpdateRequest, error) {
	res, err := decodeJSON[specs.LinuxResources]("update resources", p.GetResourcesJson())
	if err != nil {
		return nil, err
	}
	return &UpdateRequest{ID: p.GetId(), Resources: res}, nil
}
