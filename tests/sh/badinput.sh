#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: every bad target or option value gets one clear line naming
# the thing and the reason, exit status 1, nothing on stdout (not even with
# --json), and no read of any other target. The unreadable-file and
# same-device-by-two-names rows need root (to drop to nobody, and for a loop
# device); they are skipped with a reason otherwise.
. "$(dirname "$0")/../lib/tap.sh"

tmp=$(mktemp -d)
loop=
good=
cleanup() {
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	[ -n "$good" ] && losetup -d "$good" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

head -c 1048576 /dev/urandom >"$tmp/good.img"
: >"$tmp/empty.img"
mkdir "$tmp/dir"

# bad DESC WANT_MESSAGE ARGS...: exit 1, exactly the message on one line (or
# that line plus a usage hint), stdout empty.
bad() {
	local desc=$1 want=$2
	shift 2
	"$BLKHYDRATE" hydrate --json --progress=never "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	local first
	first=$(head -n 1 "$tmp/err")
	if [ $rc -eq 1 ] && [ "$first" = "$want" ] && [ ! -s "$tmp/out" ] &&
		[ "$(grep -vc "^Try 'blkhydrate hydrate --help'.$" "$tmp/err")" = 1 ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
		diag "exit $rc; stderr: $(cat "$tmp/err"); stdout bytes: $(wc -c <"$tmp/out")"
		diag "wanted: $want"
	fi
}

bad "missing path" "blkhydrate: $tmp/nope: No such file or directory" "$tmp/nope"
bad "directory" "blkhydrate: $tmp/dir: is a directory, not a block device or disk image" "$tmp/dir"
bad "character device" "blkhydrate: /dev/null: is a character device, not a block device or disk image" /dev/null
bad "empty file" "blkhydrate: $tmp/empty.img: is empty: nothing to read" "$tmp/empty.img"
mkfifo "$tmp/fifo"
bad "fifo" "blkhydrate: $tmp/fifo: is not a block device or disk image" "$tmp/fifo"
bad "same file twice" "blkhydrate: $tmp/good.img: the same file as $tmp/good.img" "$tmp/good.img" "$tmp/good.img"
ln -s good.img "$tmp/link.img"
bad "same file through a symlink" "blkhydrate: $tmp/link.img: the same file as $tmp/good.img" "$tmp/good.img" "$tmp/link.img"
bad "a bad target after a good one: refused" "blkhydrate: $tmp/nope: No such file or directory" "$tmp/good.img" "$tmp/nope"
# ... and nothing of the good one is read: count its sectors read as a device.
if [ "$(id -u)" = 0 ] && good=$(losetup -r -f --show --direct-io=on "$tmp/good.img" 2>/dev/null); then
	udevadm settle -t 10 2>/dev/null
	sectors() { awk '{ print $3 }' "/sys/block/${good#/dev/}/stat"; }
	before=$(sectors)
	bad "a bad target after a good device: refused" "blkhydrate: $tmp/nope: No such file or directory" "$good" "$tmp/nope"
	is "a bad target after a good one: no sector of the good one is read" "$(($(sectors) - before))" 0
	before=$(sectors)
	"$BLKHYDRATE" hydrate --progress=never --read-mode full "$good" 2>/dev/null
	is "(the same count sees a run that reads it: $(($(sectors) - before)) sectors)" "$(($(sectors) - before))" 2048
	losetup -d "$good" && good=
else
	skip "a bad target after a good one: no sector of the good one is read" "needs root for a loop device"
	skip "(the same count sees a run that reads it)" "needs root for a loop device"
fi
bad "queue depth zero" "blkhydrate: invalid queue depth '0': out of range (1 to 1024)" -d 0 "$tmp/good.img"
bad "queue depth absurd" "blkhydrate: invalid queue depth '100000': out of range (1 to 1024)" -d 100000 "$tmp/good.img"
bad "queue depth not a number" "blkhydrate: invalid queue depth 'deep': not a whole number" --queue-depth=deep "$tmp/good.img"
bad "block size zero" "blkhydrate: invalid block size '0': out of range (4K to 64M)" -b 0 "$tmp/good.img"
bad "block size absurd" "blkhydrate: invalid block size '1T': out of range (4K to 64M)" -b 1T "$tmp/good.img"
bad "block size not 4K-aligned" "blkhydrate: invalid block size '6K': not a multiple of 4K" -b 6K "$tmp/good.img"
bad "bad size suffix" "blkhydrate: invalid block size '1Q': unknown suffix (use K, M, G or T)" -b 1Q "$tmp/good.img"
bad "bad rate suffix" "blkhydrate: invalid rate '10X': unknown suffix (use K, M, G or T)" -r 10X "$tmp/good.img"
bad "strides zero" "blkhydrate: invalid strides '0': out of range (1 to 1024)" -s 0 "$tmp/good.img"
bad "too much buffer memory" "blkhydrate: invalid queue depth 1024 with block size 67108864: queue depth times block size exceeds 1 GiB of buffers" -d 1024 -b 64M "$tmp/good.img"
bad "empty state directory" "blkhydrate: option '--state-dir' needs a directory" --state-dir= "$tmp/good.img"
bad "empty lock directory" "blkhydrate: option '--lock-dir' needs a directory" --lock-dir "" "$tmp/good.img"
bad "bad progress mode" "blkhydrate: invalid progress 'loud': not one of auto, always, never" --progress=loud "$tmp/good.img"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	cp "$tmp/good.img" "$tmp/secret.img"
	chmod 600 "$tmp/secret.img"
	chmod 755 "$tmp"
	# The build tree and the default configuration file may lie under a
	# directory that user cannot enter: give it its own copies.
	cp "$BLKHYDRATE" "$tmp/blkhydrate"
	: >"$tmp/empty.conf"
	chmod 644 "$tmp/empty.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$tmp/blkhydrate" hydrate --config "$tmp/empty.conf" "$tmp/secret.img" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	is "unreadable file exits 1" "$rc" 1
	is "unreadable file: one line" "$(cat "$tmp/err")" "blkhydrate: $tmp/secret.img: Permission denied"

	loop=$(losetup -f --show -r "$tmp/good.img")
	# A second device node for the same device, as /dev/disk/by-id links give.
	mknod "$tmp/alias" b "$((0x$(stat -c %t "$loop")))" "$((0x$(stat -c %T "$loop")))"
	bad "same device by two names" "blkhydrate: $tmp/alias: the same device as $loop" "$loop" "$tmp/alias"
else
	skip "unreadable file" "needs root to run as another user"
	skip "unreadable file: one line" "needs root"
	skip "same device by two names" "needs root for a loop device"
fi
tap_done
