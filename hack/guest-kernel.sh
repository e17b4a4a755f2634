#!/usr/bin/env bash
# Builds rtd's guest kernel for the vm and unikernel drivers: Linux from
# Debian's linux-source-6.1, configured by `make tinyconfig` plus the
# microVM fragment hack/guest-kernel/microvm.config, everything built in (no
# modules), and caches the uncompressed vmlinux QEMU boots directly (PVH).
# Rebuilt only when the fragment, the source package's version or this
# script's recipe changes; otherwise it takes well under a second.
#
#   hack/guest-kernel.sh               build unless cached
#   hack/guest-kernel.sh --print-dir   print the cache directory of the current
#                                      config and source (no build; empty if
#                                      linux-source-6.1 is not installed)
#   hack/guest-kernel.sh --deps        only install the source and the build
#                                      tools (apt; hack/test.sh runs it before
#                                      it starts the build in the background,
#                                      so that no apt runs beside its steps')
#   RTD_GUEST_KERNEL_CACHE=DIR         cache root (default /var/cache/rtd/guest-kernel)
#   RTD_GUEST_KERNEL_JOBS=N            make -jN (default: the number of CPUs)
#
# Result (the layout drivers/vm and drivers/unikernel read, as hack/vm-kernel.sh's):
#   DIR/<hash>/vmlinux          the kernel (ELF, PVH entry)
#   DIR/<hash>/release          `uname -r` of the guest (6.1.x-rtd)
#   DIR/<hash>/modules.order    empty: nothing to load
#   DIR/<hash>/config           the kernel's full .config
#   DIR/<hash>/package          the source package and version, and the fragment's hash
#   DIR/default -> <hash>       what the drivers prefer to the Debian cloud kernel
#   DIR/build/                  the object tree (kept: a changed fragment rebuilds
#                               only what changed)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
FRAGMENT="$HERE/guest-kernel/microvm.config"
CACHE="${RTD_GUEST_KERNEL_CACHE:-/var/cache/rtd/guest-kernel}"
JOBS="${RTD_GUEST_KERNEL_JOBS:-$(nproc)}"
SRCPKG=linux-source-6.1
# RECIPE changes when the way the kernel is built changes (not the fragment):
# it is part of the cache key.
RECIPE=3
# Build tools: the compiler, make, and what kconfig and the build scripts use.
TOOLS=(gcc make flex bison bc libelf-dev libssl-dev xz-utils)

say() { echo "rtd guest-kernel: $*"; }
die() {
	echo "rtd guest-kernel: $*" >&2
	exit 1
}

source_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$SRCPKG" 2>/dev/null | awk '$3 == "installed" { print $4 }'
}

# key hashes what the kernel is made of: the fragment, the source version
# and the recipe.
key() {
	{
		echo "recipe $RECIPE"
		echo "$SRCPKG $1"
		cat "$FRAGMENT"
	} | sha256sum | cut -c1-16
}

print_dir=false
deps_only=false
case "${1:-}" in
--print-dir) print_dir=true ;;
--deps) deps_only=true ;;
"") ;;
*) die "usage: $0 [--print-dir|--deps]" ;;
esac

[ -f "$FRAGMENT" ] || die "$FRAGMENT missing"
command -v dpkg-query >/dev/null 2>&1 || die "not a Debian system: the guest kernel is built from Debian's $SRCPKG (use hack/vm-kernel.sh's kernel, or set RTD_VM_KERNEL_DIR)"

if $print_dir; then
	v="$(source_version)"
	[ -n "$v" ] && echo "$CACHE/$(key "$v")"
	exit 0
fi

# Cached already? (Without the source installed the version is unknown: the
# default link is trusted then, as long as its fragment hash matches.)
version="$(source_version)"
if [ -n "$version" ] && ! $deps_only; then
	dir="$CACHE/$(key "$version")"
	if [ -e "$dir/.complete" ]; then
		ln -sfn "$(basename "$dir")" "$CACHE/default"
		say "kernel $(cat "$dir/release") is cached in $dir ($(du -h "$dir/vmlinux" | cut -f1) vmlinux)"
		exit 0
	fi
fi

# Install the source and the build tools.
missing=()
for p in "$SRCPKG" "${TOOLS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root (sudo $0) or apt-get install them"
	if ! apt-cache show "$SRCPKG" >/dev/null 2>&1; then
		say "apt-get update ..."
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
	fi
	say "installing ${missing[*]} ..."
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	version="$(source_version)"
	[ -n "$version" ] || die "$SRCPKG did not install"
fi
if $deps_only; then
	say "$SRCPKG $version and the build tools are installed"
	exit 0
fi
command -v "${GO:-go}" >/dev/null 2>&1 || die "${GO:-go} not found: the cached vmlinux is packed by hack/guest-kernel/elfpack (install Go, or set GO)"
dir="$CACHE/$(key "$version")"
if [ -e "$dir/.complete" ]; then
	ln -sfn "$(basename "$dir")" "$CACHE/default"
	say "kernel $(cat "$dir/release") is cached in $dir"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time; a second caller waits and then finds it cached
if [ -e "$dir/.complete" ]; then
	ln -sfn "$(basename "$dir")" "$CACHE/default"
	say "kernel $(cat "$dir/release") is cached in $dir (built by another run)"
	exit 0
fi

start=$(date +%s)
# The source tree: unpacked once per source version.
src="$CACHE/src/$SRCPKG-$version"
if [ ! -e "$src/.complete" ]; then
	tarball="$(ls /usr/src/$SRCPKG.tar.xz 2>/dev/null || true)"
	[ -n "$tarball" ] || die "/usr/src/$SRCPKG.tar.xz missing (reinstall $SRCPKG)"
	say "unpacking $tarball ..."
	rm -rf "$CACHE/src"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.complete"
	mv "$src.tmp" "$src"
fi

build="$CACHE/build"
if [ "$(cat "$build/.source" 2>/dev/null)" != "$version" ]; then
	rm -rf "$build"
fi
mkdir -p "$build"
echo "$version" >"$build/.source"

say "configuring: tinyconfig + $(basename "$FRAGMENT") ..."
mk() { make -C "$src" O="$build" ARCH=x86_64 "$@"; }
mk -s tinyconfig >/dev/null
# merge_config.sh -m merges the fragment into .config without running
# kconfig; olddefconfig then resolves dependencies (it drops what cannot be
# set: the test of the built config catches that).
(cd "$build" && "$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$FRAGMENT" >/dev/null)
mk -s olddefconfig >/dev/null

# Every option of the fragment must have survived olddefconfig.
bad=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$build/.config" || bad+=("$line")
		;;
	"# CONFIG_"*" is not set")
		opt="${line#\# }"
		opt="${opt%% *}"
		! grep -q "^$opt=" "$build/.config" || bad+=("$line")
		;;
	esac
done <"$FRAGMENT"
[ "${#bad[@]}" -eq 0 ] || die "kconfig dropped options of the fragment (a missing dependency?): ${bad[*]}"

say "building vmlinux with make -j$JOBS (log: $build/build.log) ..."
mk -j"$JOBS" vmlinux >"$build/build.log" 2>&1 </dev/null &
pid=$!
# Progress while make runs: how many files it has compiled so far.
while kill -0 "$pid" 2>/dev/null; do
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	say "  ... $(grep -c '^  CC' "$build/build.log" 2>/dev/null || true) files compiled, $(($(date +%s) - start)) s"
done
if ! wait "$pid"; then
	tail -n 30 "$build/build.log" >&2
	die "the kernel build failed (log: $build/build.log)"
fi

release="$(mk -s kernelrelease)"
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
# Only what the guest's memory gets: no symbol table (1.7 MB; strip keeps
# the notes), and none of the ~7 MB of padding between the 2 MB-aligned
# sections (elfpack). QEMU loads the PT_LOAD segments and reads the PVH
# entry from the PT_NOTE.
strip --strip-all -o "$build/vmlinux.stripped" "$build/vmlinux"
(cd "$HERE/.." && "${GO:-go}" run ./hack/guest-kernel/elfpack "$build/vmlinux.stripped" "$dir.tmp/vmlinux") ||
	die "elfpack failed"
readelf -n "$dir.tmp/vmlinux" | grep -q 'Xen' || die "the packed vmlinux lost its PVH note"
cp "$build/.config" "$dir.tmp/config"
echo "$release" >"$dir.tmp/release"
: >"$dir.tmp/modules.order"
echo "$SRCPKG $version fragment $(sha256sum "$FRAGMENT" | cut -c1-16) recipe $RECIPE" >"$dir.tmp/package"
touch "$dir.tmp/.complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
ln -sfn "$(basename "$dir")" "$CACHE/default"
say "kernel $release built in $(($(date +%s) - start)) s: $(du -h "$dir/vmlinux" | cut -f1) vmlinux, cached in $dir"
