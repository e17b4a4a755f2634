#!/usr/bin/env bash
# The full gate (make test, .ci/run): each step prints its name, and a
# failure says which step failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

GO="${GO:-go}"
MAKE="${MAKE:-make}"
TEST_TIMEOUT="${TEST_TIMEOUT:-30m}"
current=""

# rtd's guest kernel builds in the background (see below): its process
# group, and its log.
kernel_pgid=""
KERNEL_LOG="${KERNEL_LOG:-${TMPDIR:-/tmp}/rtd-test-guest-kernel.log}"

trap 'status=$?; if [ -n "$kernel_pgid" ]; then kill -- "-$kernel_pgid" 2>/dev/null || true; fi; if [ "$status" -ne 0 ] && [ -n "$current" ]; then echo "rtd test: FAILED at step: $current" >&2; fi' EXIT

step() {
	current="$1"
	shift
	if [ -n "$kernel_pgid" ]; then
		echo "    (guest kernel, in the background: $(tail -n 1 "$KERNEL_LOG" 2>/dev/null))"
	fi
	echo "==> rtd test: $current"
	"$@"
}

# wait_kernel waits for the background kernel build, showing its progress,
# and fails (with the log's tail) if the build did.
wait_kernel() {
	local shown=0 lines
	while kill -0 "$kernel_pgid" 2>/dev/null; do
		lines=$(wc -l <"$KERNEL_LOG")
		if [ "$lines" -gt "$shown" ]; then
			tail -n "+$((shown + 1))" "$KERNEL_LOG" | head -n "$((lines - shown))"
			shown=$lines
		fi
		sleep 2
	done
	tail -n "+$((shown + 1))" "$KERNEL_LOG"
	local pgid=$kernel_pgid
	kernel_pgid=""
	if ! wait "$pgid"; then
		echo "the guest kernel build failed (log: $KERNEL_LOG)" >&2
		return 1
	fi
}

gofmt_clean() {
	local files
	files="$(find . -name '*.go' ! -name '*.pb.go' ! -path './.cache/*' ! -path './bin/*' ! -path './.git/*' -print0 |
		xargs -0 gofmt -l)"
	if [ -n "$files" ]; then
		echo "gofmt would change these files (run gofmt -w):" >&2
		echo "$files" >&2
		return 1
	fi
}

cross() {
	local os="$1"
	GOOS="$os" CGO_ENABLED=0 "$GO" build ./...
	GOOS="$os" CGO_ENABLED=0 "$GO" vet ./...
}

# examples/outoftree is a module of its own (./... above does not reach
# it): a driver built outside rtd's module, run through conformance.Run.
outoftree() {
	(cd examples/outoftree && "$GO" vet ./... && "$GO" test -race -timeout "$TEST_TIMEOUT" ./...)
}

# rtd's guest kernel (hack/guest-kernel.sh), which the vm and unikernel
# drivers boot by default (Debian's cloud kernel is the fallback): a fresh
# machine compiles it (minutes of both cores; cached after, under
# /var/cache/rtd/guest-kernel), so it starts first and builds in the
# background, beside the steps that mostly wait on apt, downloads and the
# linker; the tests wait for it. Its packages are installed first, in the
# foreground, so that no two apt runs meet.
if [ "$(id -u)" -eq 0 ]; then
	step "rtd's guest kernel: source and tools (hack/guest-kernel.sh --deps)" hack/guest-kernel.sh --deps
	echo "==> rtd test: rtd's guest kernel builds in the background (log: $KERNEL_LOG)"
	# setsid: its own process group, ended with the gate if the gate fails.
	setsid hack/guest-kernel.sh >"$KERNEL_LOG" 2>&1 </dev/null &
	kernel_pgid=$!
fi
step "deps (hack/setup.sh)" hack/setup.sh
# tests/containerd runs it too; here its first build (minutes) is not
# counted in the tests' timeout.
if [ "$(id -u)" -eq 0 ]; then
	step "containerd 2.2 and crictl (hack/containerd.sh)" hack/containerd.sh
	step "docker.io for the side-by-side CLI test (hack/docker.sh)" hack/docker.sh
	# tests/runc: runtime-tools' validation suite (built once, minutes),
	# podman and docker.io from Debian.
	step "OCI runtime-tools (hack/runtime-tools.sh)" hack/runtime-tools.sh
	step "podman and docker (hack/runc-engines.sh)" hack/runc-engines.sh
fi
step "build" "$MAKE" --no-print-directory build
step "generated code up to date (hack/check-proto.sh)" hack/check-proto.sh
step "gofmt" gofmt_clean
step "go vet (linux, -tags seccomp)" "$GO" vet -tags seccomp ./...
step "cross-build and vet for windows" cross windows
step "cross-build and vet for freebsd" cross freebsd
# The tests boot the guest kernel the drivers prefer: wait until it is
# there (and keep its build from taking the tests' CPU).
if [ -n "$kernel_pgid" ]; then
	step "wait for rtd's guest kernel (hack/guest-kernel.sh, log: $KERNEL_LOG)" wait_kernel
fi
step "go test -race" "$GO" test -race -tags seccomp -timeout "$TEST_TIMEOUT" ./...
step "out-of-tree driver module (examples/outoftree, its own go.mod)" outoftree
current=""
echo "rtd test: all steps passed"
