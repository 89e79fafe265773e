#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# AMI build verification: run on the build instance, after the model is in
# place and before the image is taken. Writes the blkhydrate configuration
# listing the model paths (keeping the file's other settings), checks with
# 'blkhydrate plan' that every path names files mapped to extents of the
# volume the image will carry, and only then puts the configuration in place;
# with a blkhydrate whose plan has --save, it then saves the plan. A path
# that is missing, or whose files cannot be mapped (on another volume, say),
# fails the build. Installs nothing unless told to (--install).
#
# Exit status: 0 verified; 1 bad usage or setup; 2 a model path is missing
# or unmapped; 3 blkhydrate plan failed for another reason.
set -euo pipefail

prog=$(basename "$0")
config=/etc/blkhydrate.conf
device=
install=
mode=
blkhydrate=

usage() {
	cat <<EOF
Usage:
 $prog [options] <model-path>...

Write the blkhydrate configuration listing the model paths (files,
directories or globs) as priority paths, and fail unless 'blkhydrate plan'
maps every one of them onto the volume.

Options:
 -d, --device <dev>        the volume the image carries (default: the disk
                           holding the first model path)
 -c, --config <file>       the configuration to write (default $config)
 -m, --mode <mode>         what to read after the models: whole or used
 -i, --install <deb>       install this blkhydrate package first
 -b, --blkhydrate <prog>   the blkhydrate to run (default: blkhydrate on PATH)

 -h, --help                display this help
EOF
	exit 0
}

die() {
	echo "$prog: $2" >&2
	exit "$1"
}

usage_error() {
	printf '%s: %s\nTry '\''%s --help'\''.\n' "$prog" "$1" "$prog" >&2
	exit 1
}

opts=$(getopt -n "$prog" -o d:c:m:i:b:h \
	-l device:,config:,mode:,install:,blkhydrate:,help -- "$@") ||
	usage_error "bad usage"
eval set -- "$opts"
while :; do
	case $1 in
	-d | --device) device=$2; shift 2 ;;
	-c | --config) config=$2; shift 2 ;;
	-m | --mode) mode=$2; shift 2 ;;
	-i | --install) install=$2; shift 2 ;;
	-b | --blkhydrate) blkhydrate=$2; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	esac
done
[ $# -gt 0 ] || usage_error "no model path given"
case $mode in
"" | whole | used) ;;
*) usage_error "invalid mode '$mode': not one of whole, used" ;;
esac
for p in "$@"; do
	case $p in
	/*) ;;
	*) usage_error "$p: not an absolute path (the configuration is read at boot)" ;;
	esac
	case $p in
	*$'\n'* | *'#'*) usage_error "$p: a newline or '#' cannot be written to the configuration" ;;
	esac
done

if [ -n "$install" ]; then
	[ -f "$install" ] || die 1 "$install: no such package file"
	echo "$prog: installing $install"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"$(realpath "$install")" >/dev/null || die 1 "$install: apt-get install failed"
fi
if [ -z "$blkhydrate" ]; then
	blkhydrate=$(command -v blkhydrate) || die 1 "blkhydrate not found (use --install or --blkhydrate)"
fi
[ -x "$blkhydrate" ] || die 1 "$blkhydrate: not an executable"

# The disk under the first path: its mount's source, less any btrfs
# subvolume suffix, then the whole disk when that is a partition.
if [ -z "$device" ]; then
	first=$1
	while [ ! -e "$first" ] && [ "$first" != / ]; do
		first=$(dirname "$first")
	done
	src=$(findmnt -n -o SOURCE --target "$first" | head -n 1 | sed 's/\[.*\]$//')
	[ -b "$src" ] || die 1 "$1: on $src, not a block device: give --device"
	parent=$(lsblk -n -d -o PKNAME "$src" 2>/dev/null | head -n 1)
	device=${parent:+/dev/$parent}
	device=${device:-$src}
fi
[ -b "$device" ] || die 1 "$device: not a block device"

dir=$(dirname "$config")
[ -d "$dir" ] || die 1 "$dir: no such directory"
new=$(mktemp "$dir/.blkhydrate.conf.XXXXXX") || die 1 "$dir: cannot write there"
trap 'rm -f "$new"' EXIT
{
	# Settings of an existing configuration stay, but for those we write.
	if [ -f "$config" ]; then
		grep -v -E '^[[:space:]]*(priority|mode)[[:space:]]*=' "$config" |
			grep -v '^# Model paths written by ' || true
		[ -n "$mode" ] || grep -E '^[[:space:]]*mode[[:space:]]*=' "$config" || true
	fi
	echo "# Model paths written by $prog: read first when the volume is hydrated."
	[ -z "$mode" ] || echo "mode = $mode"
	for p in "$@"; do
		echo "priority = $p"
	done
} >"$new"
# blkhydrate run as root reads only a file root owns and no one else may change.
chmod 0644 "$new"

echo "$prog: $blkhydrate plan --config $config $device"
rc=0
"$blkhydrate" plan --config "$new" "$device" || rc=$?
case $rc in
0) ;;
6) die 2 "a model path is missing or cannot be mapped to $device: not writing $config" ;;
*) die 3 "blkhydrate plan failed (status $rc): not writing $config" ;;
esac
mv -f "$new" "$config"
trap - EXIT
# A saved plan is made from the configuration in its final place.
if "$blkhydrate" plan --help 2>/dev/null | grep -q -- --save; then
	echo "$prog: $blkhydrate plan --save --config $config $device"
	"$blkhydrate" plan --save --config "$config" "$device" >/dev/null ||
		die 3 "blkhydrate plan --save failed (status $?)"
fi
echo "$prog: verified: every model path maps onto $device; wrote $config"
