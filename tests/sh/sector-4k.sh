#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a 4Kn device (logical blocks of 4096 bytes: a loop device with
# --sector-size 4096 over the simulator's file). One bad 4 KiB chunk inside a
# 512 KiB read: the failed read is retried, then split in halves down to
# 4096 bytes and no further (a smaller read cannot even be issued there), so
# the bad range is exactly that chunk with errno 5, everything else is read,
# the simulator saw exactly the halving chain fail (1 + FAULT_RETRIES tries
# of the whole read, then one failed half per level from 256 KiB to 4 KiB),
# and the state file keeps the 4 KiB bad range. The image is unchanged.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
losetup --help 2>&1 | grep -q -- --sector-size || skip_all "losetup has no --sector-size"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

SIZE=16777216
BLOCK=524288
BAD=100			# the bad 4 KiB chunk
img=$tmp/vol.img
head -c $SIZE /dev/urandom >"$img"
sum_before=$(sha256sum <"$img")

# The simulated volume again, on a loop device with 4096-byte sectors.
simvol_start "$img" --latency 0 --chunk-size 4K --eio $BAD || skip_all "cannot start the simulator"
losetup -d "$SIMVOL_DEV"
SIMVOL_DEV=$(losetup -r --direct-io=on --sector-size 4096 -f --show "$SIMVOL_MNT/disk.img") ||
	skip_all "losetup --sector-size 4096 over the simulator failed"
[ "$(losetup -n -O LOG-SEC "$SIMVOL_DEV" | tr -d ' ')" = 4096 ] ||
	skip_all "the loop device did not take 4096-byte sectors"
[ "$(losetup -n -O DIO "$SIMVOL_DEV" | tr -d ' ')" = 1 ] ||
	skip_all "no direct I/O on a 4096-byte-sector loop device over FUSE"
is "the device has 4096-byte logical blocks" "$(blockdev --getss "$SIMVOL_DEV")" 4096
udevadm settle -t 10 2>/dev/null
blockdev --flushbufs "$SIMVOL_DEV"
errs0=$(simvol_stat errors_injected)

# Full reads: the test is of their halving; with no latency the granularity
# probe of --read-mode auto cannot tell cold from warm, and a busy machine
# can make it guess.
"$BLKHYDRATE" hydrate --json --progress=never --read-mode full -b 512K "$SIMVOL_DEV" >"$tmp/run.json" 2>"$tmp/run.err"
is "exit status 2 (a bad range)" "$?" 2
is "JSON: the bad range is the 4 KiB chunk, errno 5" \
	"$(grep -o '"bad_ranges":\[[^]]*\]' "$tmp/run.json")" \
	"\"bad_ranges\":[{\"offset\":$((BAD * 4096)),\"length\":4096,\"errno\":5,\"error\":\"Input/output error\"}]"
is "JSON: everything else was read" "$(json_get "$tmp/run.json" bytes)" $((SIZE - 4096))
ok "log: the bad range, 4096 bytes" \
	grep -qx "blkhydrate: $SIMVOL_DEV: unreadable: offset $((BAD * 4096)), 4096 bytes: Input/output error" "$tmp/run.err"
ok "log: no read was refused as invalid (none smaller than a sector)" \
	bash -c '! grep -q "Invalid argument" "$1"' _ "$tmp/run.err"
# The halving chain: 512K tried 1 + FAULT_RETRIES times, then 256K, ..., 4K
# fail once each (the good halves are read); nothing below 4 KiB is tried.
retries=$(sed -n 's/^#define FAULT_RETRIES \([0-9]*\).*/\1/p' "$top_srcdir/src/lib/io/fault.h")
levels=0
for ((l = BLOCK / 2; l >= 4096; l /= 2)); do levels=$((levels + 1)); done
is "the simulator failed exactly the halving chain down to 4 KiB (1 + $retries tries, $levels halves)" \
	$(($(simvol_stat errors_injected) - errs0)) $((1 + retries + levels))
is "the state file keeps the 4 KiB bad range" \
	"$(grep '^bad ' "$BLKHYDRATE_STATE_DIR"/progress/*.state)" "bad $((BAD * 4096)) 4096 5"
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
