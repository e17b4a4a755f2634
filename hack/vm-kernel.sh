#!/usr/bin/env bash
# Fetches the guest kernel of the vm driver and caches it: Debian's
# linux-image-cloud-amd64, downloaded with apt-get download, unpacked with
# dpkg-deb, vmlinuz turned into the uncompressed vmlinux that QEMU boots
# directly (PVH), plus the few modules the guest agent loads. Idempotent: a
# cached kernel is reused and the script then takes well under a second.
#
#   hack/vm-kernel.sh              cache into /var/cache/rtd/vm/<release>/ unless a
#                                  kernel is cached already
#   hack/vm-kernel.sh --refresh    fetch the kernel the metapackage points to now
#   RTD_VM_CACHE=DIR hack/vm-kernel.sh
#
# Result (what drivers/vm reads):
#   DIR/<release>/vmlinux          the kernel
#   DIR/<release>/modules/*.ko     the modules, flat
#   DIR/<release>/modules.order    load order (dependencies first)
#   DIR/<release>/release          `uname -r` of the guest
#   DIR/<release>/package          the Debian package and version
#   DIR/default -> <release>       what the driver uses unless RTD_VM_KERNEL_DIR says otherwise
set -euo pipefail

CACHE="${RTD_VM_CACHE:-/var/cache/rtd/vm}"
META=linux-image-cloud-amd64
# Modules the agent needs (their dependencies are added): the virtio-mmio
# transport, the serial port to the host, block devices, EROFS (rootfs
# images), overlayfs (a writable layer over them) and virtiofs (bind mounts
# and volumes shared live with the host, through virtiofsd), loop (the
# images of a pod's later containers, in its virtiofs share) and virtio_net
# (the container's network: a tap on the host, kit/nettap; failover and
# net_failover are its dependencies). The agent loads fuse, virtiofs and the
# network's modules only for a guest that needs them.
WANT=(virtio_ring virtio virtio_mmio virtio_console virtio_blk crc32c-intel libcrc32c erofs overlay fuse virtiofs loop virtio_net)

say() { echo "rtd vm-kernel: $*"; }
die() {
	echo "rtd vm-kernel: $*" >&2
	exit 1
}

need() {
	local cmd="$1" pkg="$2"
	command -v "$cmd" >/dev/null 2>&1 && return
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		die "$cmd not found: install $pkg (apt-get install $pkg)"
	fi
	say "installing $pkg (for $cmd) ..."
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
}

refresh=false
case "${1:-}" in
--refresh) refresh=true ;;
"") ;;
*) die "usage: $0 [--refresh]" ;;
esac

# A cached kernel whose module list differs from WANT (an older rtd) is
# fetched again.
if [ -e "$CACHE/default/.complete" ] && [ "$(cat "$CACHE/default/modules.want" 2>/dev/null)" != "${WANT[*]}" ]; then
	say "the cached kernel lacks modules rtd now needs: fetching it again"
	rm -f "$CACHE/default/.complete"
	refresh=true
fi

if ! $refresh && [ -e "$CACHE/default/.complete" ]; then
	say "kernel $(cat "$CACHE/default/release") is cached in $(readlink -f "$CACHE/default") (--refresh to look for a newer one)"
	exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: the guest kernel comes from Debian's $META (fetch it on a Debian host and set RTD_VM_KERNEL_DIR)"

# Which kernel package does the metapackage point to?
image_package() {
	apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg="$(image_package || true)"
if [ -z "$pkg" ]; then
	[ "$(id -u)" -eq 0 ] || die "apt does not know $META: run as root (it runs apt-get update), or run apt-get update first"
	say "apt-get update ..."
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	pkg="$(image_package || true)"
	[ -n "$pkg" ] || die "apt does not know $META (is this Debian with the main component?)"
fi
release="${pkg#linux-image-}"
dir="$CACHE/$release"

if [ -e "$dir/.complete" ]; then
	ln -sfn "$release" "$CACHE/default"
	say "kernel $release is cached in $dir"
	exit 0
fi

need lz4 lz4
need dpkg-deb dpkg

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/.work-XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "downloading $pkg ..."
(cd "$work" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb="$(ls "$work"/*.deb 2>/dev/null | head -n1)"
[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
version="$(dpkg-deb -f "$deb" Version)"

say "unpacking $(basename "$deb") ..."
dpkg-deb -x "$deb" "$work/x"
vmlinuz="$work/x/boot/vmlinuz-$release"
[ -f "$vmlinuz" ] || die "$vmlinuz missing from the package"

say "decompressing vmlinuz to vmlinux (LZ4) ..."
# The bzImage carries the kernel as an LZ4 frame (magic 02 21 4c 18, legacy
# format); everything after it decompresses to the ELF vmlinux.
offset="$(grep -obUaP '\x02\x21\x4c\x18' "$vmlinuz" | head -n1 | cut -d: -f1)"
[ -n "$offset" ] || die "no LZ4 frame in $vmlinuz (is the kernel not LZ4-compressed?)"
tail -c +"$((offset + 1))" "$vmlinuz" | lz4 -dc >"$work/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = "7f454c46" ] || die "decompressed kernel is not an ELF file"

say "collecting modules ..."
moddir="$work/x/lib/modules/$release"
mkdir -p "$work/out/modules"
declare -A done_mod=()
order=()
module_path() {
	local name="$1" alt
	alt="$(tr '_-' '-_' <<<"$name")"
	find "$moddir" \( -name "$name.ko" -o -name "$alt.ko" \) -print -quit
}
add_module() {
	local name="$1" path deps d
	[ -n "${done_mod[$name]:-}" ] && return
	done_mod[$name]=1
	path="$(module_path "$name")"
	[ -n "$path" ] || die "module $name not found in $pkg"
	deps="$(grep -a -o 'depends=[^[:cntrl:]]*' "$path" | head -n1 | cut -d= -f2)"
	for d in ${deps//,/ }; do
		add_module "$d"
	done
	cp "$path" "$work/out/modules/"
	order+=("$(basename "$path")")
}
for m in "${WANT[@]}"; do
	add_module "$m"
done
printf '%s\n' "${order[@]}" >"$work/out/modules.order"
mv "$work/vmlinux" "$work/out/vmlinux"
echo "$release" >"$work/out/release"
echo "$pkg $version" >"$work/out/package"
echo "${WANT[*]}" >"$work/out/modules.want"
touch "$work/out/.complete"

rm -rf "$dir"
mv "$work/out" "$dir"
ln -sfn "$release" "$CACHE/default"
say "kernel $release ($version): $(du -sh "$dir/vmlinux" | cut -f1) vmlinux, ${#order[@]} modules, cached in $dir"
