#!/usr/bin/env bash
# Installs what tests/containerd and the bench's shim step need, privately,
# and nothing when it is all there (then it takes well under a second):
#
#   containerd, ctr, containerd-shim-runc-v2  built from the Go module proxy at
#                                             CONTAINERD_VERSION into
#                                             /var/cache/rtd/containerd-<ver>/bin
#   crictl                                    sigs.k8s.io/cri-tools at
#                                             CRICTL_VERSION, same directory
#   CNI plugins (bridge, host-local,          Debian's containernetworking-plugins
#   loopback, portmap)                        (/usr/lib/cni)
#
# Never into /usr/bin: Debian's docker.io puts containerd 1.6 there. Building
# containerd takes a few minutes on 2 cores the first time.
#
#   hack/containerd.sh            install if missing, print the bin directory last
#   RTD_CONTAINERD_CACHE=DIR      another cache root (default /var/cache/rtd)
set -euo pipefail

CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.2.9}"
CRICTL_VERSION="${CRICTL_VERSION:-v1.37.0}"
CACHE="${RTD_CONTAINERD_CACHE:-/var/cache/rtd}"
BIN="$CACHE/containerd-${CONTAINERD_VERSION#v}/bin"

say() { echo "rtd containerd: $*" >&2; }
die() {
	say "$*"
	exit 1
}

command -v go >/dev/null 2>&1 || die "go not found in PATH"

mkdir -p "$BIN"
# One installer at a time (tests of several packages may call this at once).
exec 9>"$BIN/.lock"
flock 9

have_version() { # have_version FILE VERSION
	[ -x "$1" ] && go version -m "$1" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]].*[[:space:]]$2[[:space:]]"
}

missing=()
for c in containerd ctr containerd-shim-runc-v2; do
	have_version "$BIN/$c" "$CONTAINERD_VERSION" || missing+=("$c")
done
if [ "${#missing[@]}" -gt 0 ]; then
	pkgs=()
	for c in "${missing[@]}"; do pkgs+=("github.com/containerd/containerd/v2/cmd/$c@$CONTAINERD_VERSION"); done
	say "building ${missing[*]} $CONTAINERD_VERSION from the Go module proxy into $BIN (a few minutes) ..."
	start=$(date +%s)
	# Each separately: go install with several packages@version needs them
	# in one module, which they are, but a failure then names the one.
	for p in "${pkgs[@]}"; do
		say "  go install $p"
		GOBIN="$BIN" GOFLAGS=-mod=mod go install "$p"
	done
	say "built in $(($(date +%s) - start)) s"
fi

if ! have_version "$BIN/crictl" "$CRICTL_VERSION"; then
	say "building crictl $CRICTL_VERSION into $BIN ..."
	GOBIN="$BIN" go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
fi

cni_missing=false
for p in bridge host-local loopback portmap; do
	[ -x "/usr/lib/cni/$p" ] || cni_missing=true
done
if $cni_missing; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		die "CNI plugins missing in /usr/lib/cni: install containernetworking-plugins as root"
	fi
	say "installing containernetworking-plugins (apt-get) ..."
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containernetworking-plugins >/dev/null
fi

echo "$BIN"
