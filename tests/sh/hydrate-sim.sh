#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: hydrating a simulated lazy volume (lazysim under a read-only
# direct-I/O loop device). Before, no data chunk is warm; after one pass every
# chunk is warm, each data chunk was fetched exactly once, the holes were
# never fetched, and the image's bytes are unchanged.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT

# 96 MiB: data at the start, in the middle and at the end, holes between.
img=$tmp/vol.img
truncate -s 96M "$img"
dd if=/dev/urandom of="$img" bs=1M count=20 conv=notrunc status=none
dd if=/dev/urandom of="$img" bs=1M count=7 seek=50 conv=notrunc status=none
dd if=/dev/urandom of="$img" bs=64K count=3 seek=1530 conv=notrunc status=none
sum_before=$(sha256sum <"$img")

simvol_start "$img" --latency 5 --concurrency 16 --bandwidth 512M || skip_all "cannot start the simulator"
chunks=$(simvol_stat chunks)
data=$(simvol_stat data_chunks)
is "the simulator sees 192 chunks" "$chunks" 192
is "55 of them hold data" "$data" 55
is "cold: no data chunk warm" "$(simvol_stat warm_data)" 0

"$BLKHYDRATE" hydrate --json --progress=never "$SIMVOL_DEV" >"$tmp/out.json" 2>"$tmp/err"
is "hydrate exits 0" "$?" 0
is "JSON: every byte of the device read" "$(json_get "$tmp/out.json" bytes)" $((96 * 1048576))
is "JSON: complete" "$(json_get "$tmp/out.json" complete)" true
is "every chunk warm" "$(simvol_stat warm)" "$chunks"
is "every data chunk fetched" "$(simvol_stat warm_data)" "$data"
is "each data chunk fetched once" "$(simvol_stat fetches)" "$data"
ok "reads overlapped: peak fetches in flight $(simvol_stat max_inflight) >= 4" \
	[ "$(simvol_stat max_inflight)" -ge 4 ]
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
