#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# AMI build: record what the verification boot reads (blkhydrate record),
# so that instances made from the image read it first.
#
#   record-boot.sh arm [--device DEV] [--until UNIT]   before the reboot
#   record-boot.sh check [--device DEV]                after it
#
# arm installs blkhydrate-record.service (beside this script), writes its
# settings and enables it for the next boot only. check waits for the
# recording to end, then fails the build unless the volume's plan has a
# recorded class (blkhydrate plan), and disables the unit again.
#
# Exit status: 0 done; 1 bad usage or setup; 2 nothing was recorded.
set -euo pipefail

prog=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)
device=
until_unit=multi-user.target
unitdir=${BLKHYDRATE_UNIT_DIR:-/etc/systemd/system}
etc=${BLKHYDRATE_ETC:-/etc}
blkhydrate=${BLKHYDRATE:-blkhydrate}

die() {
	echo "$prog: $2" >&2
	exit "$1"
}

usage() {
	sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
}

[ $# -gt 0 ] || die 1 "no command given (arm or check)"
cmd=$1
shift
while [ $# -gt 0 ]; do
	case $1 in
	--device) device=${2:?}; shift 2 ;;
	--until) until_unit=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	*) die 1 "unknown option '$1'" ;;
	esac
done

# The root file system's whole disk, as verify-model-volume.sh finds it.
if [ -z "$device" ]; then
	src=$(findmnt -n -o SOURCE --target / | head -n 1 | sed 's/\[.*\]$//')
	parent=$(lsblk -n -d -o PKNAME "$src" 2>/dev/null | head -n 1)
	device=${parent:+/dev/$parent}
	device=${device:-$src}
fi
[ -b "$device" ] || die 1 "$device: not a block device: give --device"

case $cmd in
arm)
	install -m 0644 "$here/blkhydrate-record.service" "$unitdir/blkhydrate-record.service"
	mkdir -p "$etc/default" "$etc/blkhydrate"
	printf 'BLKHYDRATE_RECORD_DEVICE=%s\nBLKHYDRATE_RECORD_UNTIL=%s\n' "$device" "$until_unit" \
		>"$etc/default/blkhydrate-record"
	: >"$etc/blkhydrate/record-boot"
	systemctl daemon-reload
	systemctl enable blkhydrate-record.service
	echo "$prog: the next boot records what it reads on $device until $until_unit is active"
	;;
check)
	# The unit runs until the workload is up; wait for it (at most 15 minutes).
	for ((i = 0; i < 900; i++)); do
		state=$(systemctl show -P ActiveState blkhydrate-record.service)
		case $state in active | activating | deactivating) sleep 1 ;; *) break ;; esac
	done
	systemctl disable blkhydrate-record.service >/dev/null 2>&1 || true
	rm -f "$etc/blkhydrate/record-boot"
	# plan exits 2 where a configured priority path is on another disk
	# (said on stderr): what counts here is the recorded class it shows.
	plan=$("$blkhydrate" plan "$device") || true
	if ! grep -E '^ +[0-9]+\. recorded: [1-9]' <<<"$plan"; then
		journalctl -b -u blkhydrate-record.service --no-pager 2>/dev/null | tail -n 20 >&2 || true
		die 2 "$device: nothing was recorded this boot"
	fi
	;;
*) die 1 "unknown command '$cmd' (arm or check)" ;;
esac
