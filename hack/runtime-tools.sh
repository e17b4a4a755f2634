#!/usr/bin/env bash
# Builds the OCI runtime-tools validation suite (its validation/*/*.t
# executables and runtimetest) from the Go module proxy at a pinned
# pseudo-version into /var/cache/rtd/runtime-tools-<version>, and does
# nothing when it is there (well under a second). tests/runc runs the suite
# from that directory (the executables find runtimetest and the rootfs
# tarball in their working directory) against rtd-runc and Debian's runc.
#
#   hack/runtime-tools.sh          install if missing, print the directory last
#   RTD_RUNTIME_TOOLS_CACHE=DIR    another cache root (default /var/cache/rtd)
set -euo pipefail

RUNTIME_TOOLS_VERSION="${RUNTIME_TOOLS_VERSION:-v0.9.1-0.20251114084447-edf4cb3d2116}"
CACHE="${RTD_RUNTIME_TOOLS_CACHE:-/var/cache/rtd}"
DIR="$CACHE/runtime-tools-${RUNTIME_TOOLS_VERSION#v}"

say() { echo "rtd runtime-tools: $*" >&2; }
die() {
	say "$*"
	exit 1
}

command -v go >/dev/null 2>&1 || die "go not found in PATH"
command -v make >/dev/null 2>&1 || die "make not found in PATH"
mkdir -p "$CACHE"
exec 9>"$CACHE/.runtime-tools.lock"
flock 9

if [ ! -f "$DIR/.built" ]; then
	say "building runtime-tools $RUNTIME_TOOLS_VERSION validation executables into $DIR (a few minutes) ..."
	start=$(date +%s)
	src=$(cd / && GOFLAGS=-mod=mod go mod download -json "github.com/opencontainers/runtime-tools@$RUNTIME_TOOLS_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || die "go mod download gave no source directory for runtime-tools@$RUNTIME_TOOLS_VERSION"
	rm -rf "$DIR.tmp"
	cp -r "$src" "$DIR.tmp"
	chmod -R u+w "$DIR.tmp"
	(cd "$DIR.tmp" && make -s EXTRA_FLAGS=-mod=mod COMMIT="$RUNTIME_TOOLS_VERSION" runtimetest validation-executables >&2)
	touch "$DIR.tmp/.built"
	rm -rf "$DIR"
	mv "$DIR.tmp" "$DIR"
	say "built in $(($(date +%s) - start)) s"
fi
echo "$DIR"
