#!/usr/bin/env bash
# Installs the engines tests/runc drives rtd-runc with, from Debian, and does
# nothing when they are there (well under a second):
#
#   podman     podman 4.3 (with conmon), run by the tests with --root,
#              --runroot and --runtime of their own, no network
#   docker.io  dockerd 20.10 (drags in Debian's containerd 1.6 into /usr/bin;
#              the shim tests' containerd 2.2 stays in /var/cache/rtd)
#
# Nothing is started: the packages' init scripts are kept from starting
# dockerd (its default bridge and iptables rules would disturb other tests'
# networks) with a policy-rc.d for the time of the install. When
# hack/docker.sh exists (the docker comparison's own installer), docker.io is
# left to it.
#
#   hack/runc-engines.sh [podman] [docker]   (default: both)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "rtd runc-engines: $*" >&2; }

want=("$@")
[ "${#want[@]}" -gt 0 ] || want=(podman docker)

pkgs=()
for w in "${want[@]}"; do
	case "$w" in
	podman) command -v podman >/dev/null 2>&1 || pkgs+=(podman) ;;
	docker)
		if [ -x "$ROOT/hack/docker.sh" ]; then
			"$ROOT/hack/docker.sh" >&2
		elif ! command -v dockerd >/dev/null 2>&1; then
			pkgs+=(docker.io)
		fi
		;;
	*)
		say "unknown engine $w (podman, docker)"
		exit 2
		;;
	esac
done
[ "${#pkgs[@]}" -gt 0 ] || exit 0

[ "$(id -u)" -eq 0 ] || {
	say "installing ${pkgs[*]} needs root"
	exit 1
}
exec 9>/var/lib/apt/rtd-runc-engines.lock
flock 9
say "installing ${pkgs[*]} from Debian ..."
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# rtd: no service starts while hack/runc-engines.sh installs\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	created_policy=1
fi
trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
say "installed ${pkgs[*]}"
