#!/usr/bin/env bash
# Installs Debian's docker.io (20.10) for the tests that compare rtd with
# docker side by side (tests/e2e TestDockerCompat), and nothing when it is
# there. Idempotent; run as root. hack/test.sh calls it; make demo does not.
#
#   hack/docker.sh              install docker.io if missing
#   hack/docker.sh image OUT    write a docker-save archive of a busybox
#                               image (rtd-busybox:test) built from
#                               Debian's busybox-static, no network: what
#                               `docker load -i OUT` takes
set -euo pipefail
. "$(dirname "$0")/lib.sh"

install_docker() {
	if dpkg-query -W -f='${Status}\n' docker.io 2>/dev/null | grep -q 'install ok installed'; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "rtd docker: docker.io is not installed; run hack/docker.sh as root" >&2
		exit 1
	fi
	echo "rtd docker: installing docker.io ..."
	# No daemon is started: the tests run their own dockerd (own data root
	# and socket). A policy-rc.d keeps the package's init script from
	# starting one (its docker0 bridge and iptables rules would disturb
	# other tests' networks).
	local created_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# rtd: no service starts while hack/docker.sh installs\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created_policy=1
	fi
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io busybox-static >/dev/null
	[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d
}

# build_image OUT: a docker-save archive (manifest.json, the config, one
# layer) of a root filesystem holding busybox and its applet links.
build_image() {
	local out="$1" work rootfs layerdir diffid cfg cfgsum
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' RETURN
	rootfs="$work/rootfs"
	mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
	cp "$(command -v busybox)" "$rootfs/bin/busybox"
	local applet
	for applet in $(busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
	printf 'root:x:0:\n' >"$rootfs/etc/group"
	chmod 1777 "$rootfs/tmp"
	mkdir -p "$work/img"
	layerdir="$work/img/layer"
	mkdir -p "$layerdir"
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$layerdir/layer.tar" .
	diffid="$(sha256sum "$layerdir/layer.tar" | cut -d' ' -f1)"
	cfg="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diffid\"]}}"
	cfgsum="$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)"
	printf '%s' "$cfg" >"$work/img/$cfgsum.json"
	printf '[{"Config":"%s.json","RepoTags":["rtd-busybox:test"],"Layers":["layer/layer.tar"]}]' "$cfgsum" >"$work/img/manifest.json"
	tar -C "$work/img" -cf "$out" manifest.json "$cfgsum.json" layer
}

case "${1:-install}" in
install) install_docker ;;
image)
	[ $# -eq 2 ] || { echo "usage: hack/docker.sh image OUT.tar" >&2; exit 2; }
	build_image "$2"
	;;
*)
	echo "usage: hack/docker.sh [install | image OUT.tar]" >&2
	exit 2
	;;
esac
