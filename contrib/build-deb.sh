#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the Debian package from a clean copy of the tree (the 'make dist'
# tarball, so nothing lands in the working tree), check it with lintian
# (errors fail), check its contents and run its maintainer scripts against a
# stand-in udevadm. With --install, also install it on this machine, check the
# installed files, and purge it again (CI does, on its throwaway machine).
#
# Usage: contrib/build-deb.sh [--install] [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  a configured build tree (default _build); OUT_DIR gets the
#              .deb, .changes and .buildinfo (default BUILD_DIR/deb).
# DEB_BUILD_OPTIONS is passed on; it defaults to nocheck, since the suite runs
# on its own (as root) before this.
set -euo pipefail

die() {
	echo "build-deb: $*" >&2
	exit 1
}

install=
if [ "${1:-}" = --install ]; then
	install=1
	shift
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build}" && pwd) || die "no build directory"
out=${2:-$build/deb}
[ -f "$build/Makefile" ] || die "$build is not a configured build tree"
for tool in dpkg-buildpackage dpkg-deb lintian; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install dpkg-dev debhelper lintian)"
done

work=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

name=$(sed -n 's/^PACKAGE_TARNAME = //p' "$build/Makefile")
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$build/Makefile")
make -s -C "$build" dist-gzip
tar -xzf "$build/$name-$version.tar.gz" -C "$work"
src=$work/$name-$version
[ -x "$src/debian/rules" ] || die "the tarball has no debian/ (EXTRA_DIST)"

echo "build-deb: dpkg-buildpackage in $src"
(cd "$src" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck} \
	dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	die "dpkg-buildpackage failed"
}
changes=$(ls "$work"/"${name}"_*.changes)
deb=$(ls "$work"/"${name}"_*.deb)

echo "build-deb: lintian $(basename "$changes")"
lintian --fail-on error --info "$changes" || die "lintian reports errors"

# What the package must hold: the program and its page, the udev rule and
# the unit.
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$work/contents"
want=(/usr/bin/blkhydrate /usr/share/man/man8/blkhydrate.8.gz
	/usr/share/doc/blkhydrate/examples/ami/verify-model-volume.sh
	/lib/udev/rules.d/61-blkhydrate.rules /lib/systemd/system/blkhydrate@.service)
for f in "${want[@]}"; do
	grep -qx -- "$f" "$work/contents" || die "$(basename "$deb") lacks $f"
done

# The maintainer scripts, with a udevadm (and a systemctl) that answer and
# record: udev rules reloaded after configure and after remove, not for other
# actions.
dpkg-deb -e "$deb" "$work/control"
mkdir "$work/bin"
for tool in udevadm systemctl; do
	printf '#!/bin/sh\necho "$*" >>"%s/calls.log"\n' "$work" >"$work/bin/$tool"
	chmod +x "$work/bin/$tool"
done
for step in "postinst configure" "postinst abort-upgrade" "postrm remove" "postrm upgrade"; do
	read -r script action <<<"$step"
	set -- "$script" "$action"
	: >"$work/calls.log"
	PATH=$work/bin:$PATH sh "$work/control/$1" "$2" || die "$1 $2 failed"
	case $step in
	"postinst configure" | "postrm remove")
		grep -qx 'control --reload' "$work/calls.log" ||
			die "$1 $2 does not reload udev rules"
		;;
	*)
		! grep -q 'control --reload' "$work/calls.log" || die "$1 $2 reloads udev rules"
		;;
	esac
done

# Minimal images tell dpkg to drop manual pages and documentation.
excluded() {
	local pat
	while read -r pat; do
		# shellcheck disable=SC2053 # a glob, on purpose
		[[ $1 == $pat ]] && return 0
	done < <(sed -n 's/^path-exclude=//p' /etc/dpkg/dpkg.cfg.d/* 2>/dev/null)
	return 1
}

if [ -n "$install" ]; then
	[ "$(id -u)" = 0 ] || die "--install needs root"
	! dpkg-query -W "$name" >/dev/null 2>&1 || die "$name is installed already: not touching it"
	echo "build-deb: installing $(basename "$deb")"
	apt-get install -y -q --no-install-recommends "$deb" >"$work/install.log" 2>&1 ||
		{ cat "$work/install.log" >&2; die "installing failed"; }
	rc=0
	for f in "${want[@]}"; do
		! excluded "$f" || continue
		[ -e "$f" ] || { echo "build-deb: installed package lacks $f" >&2; rc=1; }
	done
	/usr/bin/blkhydrate --version || rc=1
	apt-get purge -y -q "$name" >/dev/null 2>&1 || rc=1
	[ ! -e /usr/bin/blkhydrate ] || { echo "build-deb: purge left /usr/bin/blkhydrate" >&2; rc=1; }
	[ $rc -eq 0 ] || die "the installed package is not right"
fi

mkdir -p "$out"
cp "$work"/*.deb "$changes" "$work"/"${name}"_*.buildinfo "$out"/
echo "build-deb: $out/$(basename "$deb")"
