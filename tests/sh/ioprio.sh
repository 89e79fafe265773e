#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: --ioprio reaches the block layer. With a private ftrace
# instance watching block_rq_issue on our own loop device, every read request
# of a hydration carries the asked class and level: idle, be:2, rt:1, and
# be:4 by default. Skips when tracefs or the event (with its ioprio field,
# Linux 6.9 and later) is missing.
. "$(dirname "$0")/../lib/tap.sh"
need_root
command -v losetup >/dev/null 2>&1 || skip_all "no losetup"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
dev= inst= mnt=
cleanup() {
	[ -n "$inst" ] && { echo 0 >"$inst/tracing_on"; rmdir "$inst"; } 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	[ -n "$dev" ] && losetup -d "$dev" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

tracefs=$(awk '$3 == "tracefs" { print $2; exit }' /proc/self/mounts)
if [ -z "$tracefs" ]; then
	grep -qw tracefs /proc/filesystems || skip_all "no tracefs in this kernel"
	mkdir "$tmp/tracefs"
	mount -t tracefs nodev "$tmp/tracefs" 2>/dev/null || skip_all "cannot mount tracefs"
	mnt=$tmp/tracefs
	tracefs=$mnt
fi
grep -q 'ioprio' "$tracefs/events/block/block_rq_issue/format" 2>/dev/null ||
	skip_all "block_rq_issue has no ioprio field (Linux 6.9 or later)"
inst=$tracefs/instances/blkhydrate-test.$$
mkdir "$inst" || { inst=; skip_all "cannot make an ftrace instance"; }

truncate -s 16M "$tmp/img"
dd if=/dev/urandom of="$tmp/img" bs=1M count=16 conv=notrunc status=none
dev=$(losetup -r --direct-io=on -f --show "$tmp/img") || skip_all "losetup failed"
read -r maj min < <(stat -L -c '%t %T' "$dev" | while read -r a b; do echo $((16#$a)) $((16#$b)); done)
echo "dev == $(((maj << 20) | min))" >"$inst/events/block/block_rq_issue/filter"

# classes OUTPUT...: the ioprio classes ("idle,0,0") of the traced read requests.
trace_classes() {
	echo 1 >"$inst/events/block/block_rq_issue/enable"
	echo >"$inst/trace"
	"$BLKHYDRATE" hydrate --progress=never -q "$@" "$dev"
	local rc=$?
	echo 0 >"$inst/events/block/block_rq_issue/enable"
	grep -o ' R [0-9]* () [0-9]* + [0-9]* [a-z]*,[0-9]*,[0-9]*' "$inst/trace" |
		awk '{ print $NF }' | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' '
	return $rc
}

for row in "idle:idle,0,0" "be:2:be,0,2" "rt:1:rt,0,1" ":be,0,4"; do
	prio=${row%:*}
	want=${row##*:}
	if [ -n "$prio" ]; then
		got=$(trace_classes --ioprio "$prio")
	else
		got=$(trace_classes)
		prio="the default"
	fi
	diag "--ioprio $prio: $got"
	ok "--ioprio $prio: every read request is $want" \
		bash -c "[[ '$got' =~ ^$want=[0-9]+\ \$ ]]"
done

"$BLKHYDRATE" hydrate --ioprio idle:3 "$dev" 2>"$tmp/err"
is "idle with a level is refused" "$?" 1
ok "with a reason" grep -q "invalid ioprio 'idle:3': the idle class has no levels" "$tmp/err"
tap_done
