package conformance

// wasmNotApplicable lists the cases whose clause is about the Linux process
// model, which a WebAssembly module does not have (WASI preview 1: no
// signals, processes, users, capabilities, namespaces, kernel or /proc),
// with why. Cases() adds the wasm class to their NotFor. Every other case,
// MUST ones included, applies to wasm drivers and runs with the probe built
// for wasip1.
var wasmNotApplicable = map[string]string{
	"SIGNAL-001": "WASI preview 1 has no signals: a module cannot catch SIGTERM (the runtime ends it as 143)",
	"SIGNAL-002": "WASI preview 1 has no signals: a module cannot ignore SIGTERM",
	"SIGNAL-003": "a module cannot start processes: there are no others to signal",
	"PROC-003":   "WASI has no users or groups: process.user has nothing to apply to",
	"PROC-004":   "WASI has no rlimits",
	"PROC-005":   "no_new_privs is a Linux process attribute a module can neither have nor inspect",
	"PROC-006":   "WASI has no Linux capabilities: a module reaches only what it was given (preopens, stdio)",
	"SEC-001":    "a module is not a Linux process: there is no pid namespace and no process list to see",
	"SEC-002":    "WASI has no Linux capabilities",
	"SEC-003":    "WASI has no mount or sethostname call",
	"SEC-004":    "a module makes no host syscalls: only WASI imports, so a seccomp profile has nothing to filter",
	"SEC-005":    "WASI has no namespaces: a module reaches the host only through its preopens and stdio",
	"FS-003":     "WASI has no hostname",
	"FS-004":     "WASI has no /proc: masked and read-only proc paths do not exist",
	"RES-001":    "a memory limit caps the module's linear memory: the allocation fails inside the module, there is no kernel OOM kill to report",
	"EXIT-007":   "a wasm container's command names a module the runtime reads, not a file the kernel executes: a directory is no module (NotFound, EXIT-003's class)",
	"EXIT-008":   "a module is read by the runtime, never executed by the kernel: it needs no execute bit",
	"ISO-001":    "WASI has no uname: a module sees no kernel to compare with the claim (ISO-002 checks what it can reach)",
}
