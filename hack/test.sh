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

trap 'status=$?; if [ "$status" -ne 0 ] && [ -n "$current" ]; then echo "rtd test: FAILED at step: $current" >&2; fi' EXIT

step() {
	current="$1"
	shift
	echo "==> rtd test: $current"
	"$@"
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
	# rtd's own guest kernel (hack/guest-kernel.sh: ~10 min of both cores
	# on a fresh machine, cached after) is opt-in: built here only when the
	# run asks the drivers to boot it (RTD_GUEST_KERNEL=built); otherwise
	# they boot Debian's cloud kernel (docs/drivers/vm.md says why).
	if [ "${RTD_GUEST_KERNEL:-}" = built ]; then
		step "rtd's guest kernel (hack/guest-kernel.sh, RTD_GUEST_KERNEL=built)" hack/guest-kernel.sh
	fi
fi
step "build" "$MAKE" --no-print-directory build
step "generated code up to date (hack/check-proto.sh)" hack/check-proto.sh
step "gofmt" gofmt_clean
step "go vet (linux, -tags seccomp)" "$GO" vet -tags seccomp ./...
step "cross-build and vet for windows" cross windows
step "cross-build and vet for freebsd" cross freebsd
step "go test -race" "$GO" test -race -tags seccomp -timeout "$TEST_TIMEOUT" ./...
step "out-of-tree driver module (examples/outoftree, its own go.mod)" outoftree
current=""
echo "rtd test: all steps passed"
