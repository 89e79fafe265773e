#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: SIGINT (Ctrl-C) saves progress like SIGTERM. A run on a
# simulated lazy volume, started with SIGINT at its default disposition (as
# from a terminal, not ignored as a background job's is), is interrupted part
# way: exit status 3, and the state file written at exit holds exactly what
# was read (the simulator served exactly those bytes, and the JSON summary
# says so). `hydrate --resume` then reads exactly the rest: the simulator
# serves only that, fetches no chunk saved as read, every chunk ends warm,
# each fetched once, and the state file is gone. The image is unchanged.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
env --default-signal=INT true 2>/dev/null || skip_all "env has no --default-signal"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

SIZE=67108864
CHUNK=524288
img=$tmp/vol.img
head -c $SIZE /dev/urandom >"$img"
sum_before=$(sha256sum <"$img")

. "$top_srcdir/tests/lib/state.sh"

simvol_start "$img" --latency 2 --bandwidth 0 || skip_all "cannot start the simulator"
served0=$(simvol_stat bytes_read)
# 4 s for the whole volume at 16 MiB/s: the signal lands mid-way.
env --default-signal=INT "$BLKHYDRATE" hydrate --json --progress=never --read-mode full -r 16M "$SIMVOL_DEV" \
	>"$tmp/1.json" 2>"$tmp/1.err" &
pid=$!
wait_for has_state
sleep 0.5
kill -INT "$pid"
wait "$pid"
is "SIGINT: exit status 3" "$?" 3
is "SIGINT: JSON says interrupted" "$(json_get "$tmp/1.json" interrupted)" true
state=$(state_file)
ok "SIGINT: a state file was left" [ -n "$state" ]
cp "$state" "$tmp/int.state" 2>/dev/null
saved=$(state_bytes "$tmp/int.state")
ok "SIGINT: it records part of the volume ($saved bytes)" \
	[ "$saved" -gt 0 -a "$saved" -lt $SIZE ]
is "SIGINT: the state saved at exit is all that was read (JSON)" \
	"$saved" "$(json_get "$tmp/1.json" bytes)"
served1=$(simvol_stat bytes_read)
is "SIGINT: ... and all that the simulator served" $((served1 - served0)) "$saved"
recs1=$(wc -l <"$SIMVOL_MNT/chunks")

"$BLKHYDRATE" hydrate --resume --json --progress=never --read-mode full "$SIMVOL_DEV" \
	>"$tmp/2.json" 2>"$tmp/2.err"
is "resumed run exits 0" "$?" 0
ok "it says it resumes" grep -q "resuming: .* read before" "$tmp/2.err"
is "it reads exactly what is left" "$(json_get "$tmp/2.json" bytes)" $((SIZE - saved))
is "the simulator served only that" $(($(simvol_stat bytes_read) - served1)) $((SIZE - saved))
is "no chunk fetched in the second run was saved as read" \
	"$(refetched "$recs1" "$tmp/int.state")" 0
is "every chunk is warm" "$(simvol_stat warm)" $((SIZE / CHUNK))
is "each chunk was fetched once" "$(simvol_stat fetches)" $((SIZE / CHUNK))
ok "the state file is gone once all is read" [ -z "$(state_file)" ]
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
