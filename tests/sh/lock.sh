#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: one hydration per disk. While a run hydrates a partitioned
# loop device, a second run on the same disk, whether through a partition, a
# symlink or another device node of it, says which pid holds it and exits
# with status 7 without reading; with --wait it waits and then runs, and
# SIGTERM ends the wait cleanly (exit 3). A different disk is not held up, a
# lock left by a killed run is free, and two partitions of one disk in one
# run share its lock. The image is unchanged.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/loop.sh"
need_root
command -v sfdisk >/dev/null 2>&1 || skip_all "no sfdisk"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
pids=()
cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT
export BLKHYDRATE_LOCK_DIR=$tmp/lock BLKHYDRATE_STATE_DIR=$tmp/state

img=$tmp/disk.img
head -c 67108864 /dev/urandom >"$img"
printf 'label: dos\n2048,40960\n,\n' | sfdisk -q "$img" >/dev/null 2>&1 || skip_all "sfdisk failed"
sum_before=$(sha256sum <"$img")
loop_attach -r -P "$img" || skip_all "no loop device"
loop=$dev
loop_wait_part "$loop" 2 || skip_all "the kernel made no partition devices for $loop"
other_img=$tmp/other.img
head -c 16777216 /dev/urandom >"$other_img"
loop_attach -r "$other_img" || skip_all "no second loop device"
loop2=$dev

# A slow run on the whole disk holds the lock: 64 s at 1 MiB/s, so it still
# runs when the last waiter starts, even under valgrind (at 4 MiB/s its 16 s
# ran out there before the checks of --wait); it is killed once they are done.
"$BLKHYDRATE" hydrate --progress=never -r 1M "$loop" 2>"$tmp/holder.err" &
holder=$!
pids+=("$holder")
# The holder writes its pid into the lock file once it has the lock.
wait_for eval 'grep -qsx "$holder" "$BLKHYDRATE_LOCK_DIR"/block-*.lock'

# busy NAME TARGET: refused with exit 7, one line naming the holder, nothing read.
busy() {
	"$BLKHYDRATE" hydrate --json --progress=never "$2" >"$tmp/busy.out" 2>"$tmp/busy.err"
	is "$1: exit status 7" "$?" 7
	ok "$1: says pid $holder holds it" \
		grep -q "^blkhydrate: $2: already being hydrated by pid $holder (lock .*); use --wait to wait$" \
		"$tmp/busy.err"
	is "$1: one line, nothing on stdout" \
		"$(wc -l <"$tmp/busy.err") $(wc -c <"$tmp/busy.out")" "1 0"
}

busy "the same device" "$loop"
busy "a partition of it" "${loop}p1"
busy "its other partition" "${loop}p2"
ln -s "$loop" "$tmp/link"
busy "a symlink to it" "$tmp/link"
mknod "$tmp/node" b "$((0x$(stat -c %t "$loop")))" "$((0x$(stat -c %T "$loop")))"
busy "another device node of it" "$tmp/node"

"$BLKHYDRATE" hydrate --progress=never "$loop2" 2>"$tmp/other.err"
is "another disk is not held up" "$?" 0

# SIGTERM while waiting for the lock: a clean stop, exit 3.
"$BLKHYDRATE" hydrate --progress=never --wait "${loop}p2" 2>"$tmp/term.err" &
termer=$!
pids+=("$termer")
wait_for grep -q "waiting for pid $holder" "$tmp/term.err"
kill -TERM "$termer"
wait "$termer"
is "SIGTERM while waiting: exit status 3" "$?" 3
ok "SIGTERM while waiting: says so" \
	grep -qx "blkhydrate: ${loop}p2: interrupted while waiting for the disk lock" "$tmp/term.err"

# --wait: blocks until the holder ends, then runs.
"$BLKHYDRATE" hydrate --json --progress=never --wait "${loop}p1" >"$tmp/wait.json" 2>"$tmp/wait.err" &
waiter=$!
pids+=("$waiter")
wait_for grep -q "waiting for pid $holder" "$tmp/wait.err"
ok "--wait: says whom it waits for" grep -q "^blkhydrate: ${loop}p1: waiting for pid $holder, which is hydrating the same disk$" "$tmp/wait.err"
sleep 0.5
ok "--wait: still waiting while the holder runs" eval 'kill -0 "$waiter" && kill -0 "$holder"'
ok "--wait: nothing printed on stdout yet" [ ! -s "$tmp/wait.json" ]
kill -KILL "$holder"
wait "$holder"
wait "$waiter"
is "--wait: runs once the holder is gone, exit 0" "$?" 0
is "--wait: it read the whole partition" "$(json_get "$tmp/wait.json" bytes)" $((40960 * 512))

"$BLKHYDRATE" hydrate --progress=never "${loop}p2" 2>"$tmp/after.err"
is "a lock left by a killed run does not hold anyone up" "$?" 0
"$BLKHYDRATE" hydrate --progress=never "${loop}p1" "${loop}p2" 2>"$tmp/both.err"
is "two partitions of one disk in one run share its lock" "$?" 0
loop_detach "$loop"
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
