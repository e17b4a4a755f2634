#!/usr/bin/env bash
# Installs what building and testing rtd needs on Debian 12, and nothing when
# it is all there (then it takes well under a second). Run as root, or as a
# user once root has installed the packages; `make deps` runs it.
#
#   Debian packages: gcc libc6-dev pkg-config libseccomp-dev (the linux
#   driver: cgo, seccomp), protobuf-compiler and libprotobuf-dev (make proto;
#   the latter holds the well-known types such as timestamp.proto), busybox-static
#   and runc (tests and benchmarks), runsc (the gvisor driver),
#   qemu-system-x86, erofs-utils, lz4 (the vm driver),
#   containernetworking-plugins and iptables (rtd's networking: CNI's
#   bridge, host-local and portmap plugins, masquerading).
#   The vm driver's guest kernel: hack/vm-kernel.sh (Debian's
#   linux-image-cloud-amd64, extracted and cached in /var/cache/rtd/vm).
#   protoc plugins: pinned in the Makefile, installed into .cache/tools.
#   Go modules: go mod download.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(gcc libc6-dev pkg-config libseccomp-dev protobuf-compiler libprotobuf-dev busybox-static runc runsc qemu-system-x86 erofs-utils lz4 containernetworking-plugins iptables)

# missing_packages prints the packages of PACKAGES that are not installed.
missing_packages() {
	if command -v dpkg-query >/dev/null 2>&1; then
		local installed
		# dpkg-query fails when a package is unknown: that is an answer too.
		installed="$({ dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true; } |
			awk '$NF == "installed" { print $1 }')"
		local p
		for p in "${PACKAGES[@]}"; do
			grep -qx "$p" <<<"$installed" || echo "$p"
		done
		return
	fi
	# Not Debian: check what the packages provide.
	command -v gcc >/dev/null || echo gcc
	[ -e /usr/include/stdio.h ] || echo libc6-dev
	command -v pkg-config >/dev/null || echo pkg-config
	[ -e /usr/include/seccomp.h ] || echo libseccomp-dev
	command -v protoc >/dev/null || echo protobuf-compiler
	[ -e /usr/include/google/protobuf/timestamp.proto ] || echo libprotobuf-dev
	command -v busybox >/dev/null || echo busybox-static
	command -v runc >/dev/null || echo runc
	command -v runsc >/dev/null || echo runsc
	command -v qemu-system-x86_64 >/dev/null || echo qemu-system-x86
	command -v mkfs.erofs >/dev/null || echo erofs-utils
	command -v lz4 >/dev/null || echo lz4
	[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || echo containernetworking-plugins
	command -v iptables >/dev/null || echo iptables
}

if ! command -v go >/dev/null 2>&1; then
	want="$(sed -n 's/^go //p' "$ROOT/go.mod")"
	echo "rtd setup: go not found in PATH; install Go $want or newer from https://go.dev/dl/ (Debian's golang package is too old)" >&2
	exit 1
fi

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -gt 0 ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "rtd setup: missing ${missing[*]}, and this is not a Debian-like system (no apt-get): install the equivalents by hand" >&2
		exit 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "rtd setup: missing packages: ${missing[*]}" >&2
		echo "rtd setup: run as root: sudo $0   (or: sudo apt-get install -y --no-install-recommends ${missing[*]})" >&2
		exit 1
	fi
	echo "rtd setup: installing ${missing[*]} ..."
	echo "rtd setup: apt-get update ..."
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	echo "rtd setup: installed ${missing[*]}"
fi

install_protoc_plugins

if [ "$(id -u)" -eq 0 ]; then
	"$ROOT/hack/vm-kernel.sh"
elif ! ls /var/cache/rtd/vm/*/vmlinux >/dev/null 2>&1; then
	echo "rtd setup: no guest kernel for the vm driver: run as root: sudo $ROOT/hack/vm-kernel.sh" >&2
fi

# go mod download is cheap but not free; redo it only when go.sum changed.
stamp="$ROOT/.cache/go-mod-download.stamp"
if [ ! -e "$stamp" ] || [ "$ROOT/go.sum" -nt "$stamp" ] || [ "$ROOT/go.mod" -nt "$stamp" ]; then
	echo "rtd setup: downloading Go modules ..."
	(cd "$ROOT" && go mod download)
	mkdir -p "$ROOT/.cache"
	touch "$stamp"
fi
