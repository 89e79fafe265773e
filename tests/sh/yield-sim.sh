#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: --yield on the lazy-volume simulator. Alone on the device,
# hydrate never yields. With a competing reader (dd on the same device for
# about two seconds), hydrate sees reads that are not its own in the device's
# sysfs statistics, drops to one read in flight while they go on, and resumes
# when they stop: it yielded, for less than the whole run, and still read
# everything.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
competitor=
trap '[ -n "$competitor" ] && kill "$competitor" 2>/dev/null; wait; simvol_stop; rm -rf "$tmp"' EXIT

# json_yield FILE KEY: KEY of the "yield" object.
json_yield() {
	grep -o '"yield":{[^}]*}' "$1" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2
}

img=$tmp/vol.img
head -c $((256 << 20)) /dev/zero | tr '\0' 'y' >"$img"

simvol_start "$img" --latency 20 --concurrency 16 --bandwidth 0 || skip_all "cannot start the simulator"
"$BLKHYDRATE" hydrate --yield --queue-depth 16 --json --progress=never "$SIMVOL_DEV" \
	>"$tmp/alone.json" 2>"$tmp/err"
is "alone: hydrate exits 0" "$?" 0
is "alone: one device watched" "$(json_yield "$tmp/alone.json" watched)" 1
is "alone: never yielded" "$(json_yield "$tmp/alone.json" events)" 0
simvol_stop

simvol_start "$img" --latency 20 --concurrency 16 --bandwidth 0 || skip_all "cannot start the simulator"
dev=$SIMVOL_DEV
# The application: reads the first 16 MiB over and over for two seconds.
timeout 2 bash -c "while :; do dd if=$dev of=/dev/null bs=1M count=16 iflag=direct status=none; done" &
competitor=$!
sleep 0.3
"$BLKHYDRATE" hydrate --yield --queue-depth 16 --json --progress=always "$dev" \
	>"$tmp/busy.json" 2>"$tmp/err"
is "busy: hydrate exits 0" "$?" 0
wait "$competitor"
competitor=
events=$(json_yield "$tmp/busy.json" events)
yielded=$(json_yield "$tmp/busy.json" seconds)
total=$(json_get "$tmp/busy.json" seconds)
others=$(json_yield "$tmp/busy.json" others_bytes)
diag "yielded $events times, $yielded s of $total s; others read $others bytes"
ok "busy: yielded at least once" [ "${events:-0}" -ge 1 ]
ok "busy: saw others' bytes (at least 1 MiB)" [ "${others:-0}" -ge 1048576 ]
ok "busy: yielded for some time" awk -v y="$yielded" 'BEGIN { exit !(y > 0) }'
ok "busy: and resumed before the end" awk -v y="$yielded" -v t="$total" 'BEGIN { exit !(y < t) }'
ok "busy: the progress line said so" grep -q 'yielding to other I/O' "$tmp/err"
is "busy: complete all the same" "$(json_get "$tmp/busy.json" complete)" true
is "busy: every chunk warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
simvol_stop

"$BLKHYDRATE" hydrate --yield --progress=never "$img" >/dev/null 2>"$tmp/err"
is "a file: hydrate exits 0" "$?" 0
ok "a file: says it cannot yield" grep -q -- '--yield: no target is a block device' "$tmp/err"
tap_done
