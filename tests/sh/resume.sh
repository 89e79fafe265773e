#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: progress survives SIGTERM and SIGKILL. A run on a simulated
# lazy volume is stopped part way; `hydrate --resume` then reads exactly what
# the state file says is left: the simulator served only those bytes, every
# chunk it fetched in the second run lies outside what was saved as read, and
# afterwards every chunk is warm and the state file is gone. A corrupt state
# file and one written for another volume (other size, other identity) are
# ignored with a warning and everything is read. The image is unchanged.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

SIZE=67108864
CHUNK=524288
img=$tmp/vol.img
head -c $SIZE /dev/urandom >"$img"
sum_before=$(sha256sum <"$img")

. "$top_srcdir/tests/lib/state.sh"

for sig in TERM KILL; do
	rm -rf "$BLKHYDRATE_STATE_DIR"
	if ! simvol_start "$img" --latency 2 --bandwidth 0; then
		tap_result 1 "SIG$sig: the simulator starts"
		continue
	fi
	"$BLKHYDRATE" hydrate --json --progress=never --read-mode full -r 16M "$SIMVOL_DEV" \
		>"$tmp/$sig-1.json" 2>"$tmp/$sig-1.err" &
	pid=$!
	# SIGKILL leaves only the periodic checkpoint: wait for one to be written.
	wait_for has_state
	sleep 0.5
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	if [ $sig = TERM ]; then
		is "SIGTERM: exit status 3" "$rc" 3
	else
		is "SIGKILL: killed" "$rc" 137
	fi
	state=$(state_file)
	ok "SIG$sig: a state file was left" [ -n "$state" ]
	cp "$state" "$tmp/$sig.state" 2>/dev/null
	saved=$(state_bytes "$tmp/$sig.state")
	ok "SIG$sig: it records part of the volume ($saved bytes)" \
		test "${saved:-0}" -gt 0 -a "${saved:-0}" -lt $SIZE
	if [ $sig = TERM ]; then
		is "SIGTERM: the state saved at exit is all that was read" \
			"$saved" "$(json_get "$tmp/$sig-1.json" bytes)"
	fi
	# Reads the killed process left in flight may still land: wait for quiet.
	served1=-1
	for ((i = 0; i < 50; i++)); do
		now=$(simvol_stat bytes_read)
		[ "$now" = "$served1" ] && break
		served1=$now
		sleep 0.2
	done
	recs1=$(wc -l <"$SIMVOL_MNT/chunks")

	"$BLKHYDRATE" hydrate --resume --json --progress=never --read-mode full "$SIMVOL_DEV" \
		>"$tmp/$sig-2.json" 2>"$tmp/$sig-2.err"
	is "SIG$sig: the resumed run exits 0" "$?" 0
	ok "SIG$sig: it says it resumes" grep -q "resuming: .* read before" "$tmp/$sig-2.err"
	is "SIG$sig: it reads exactly what is left" \
		"$(json_get "$tmp/$sig-2.json" bytes)" $((SIZE - saved))
	is "SIG$sig: the simulator served only that" \
		$(($(simvol_stat bytes_read) - served1)) $((SIZE - saved))
	is "SIG$sig: no chunk fetched in the second run was saved as read" \
		"$(refetched "$recs1" "$tmp/$sig.state")" 0
	is "SIG$sig: every chunk is warm" "$(simvol_stat warm)" $((SIZE / CHUNK))
	is "SIG$sig: each chunk was fetched once" "$(simvol_stat fetches)" $((SIZE / CHUNK))
	ok "SIG$sig: the state file is gone once all is read" [ -z "$(state_file)" ]
	simvol_stop
	is "SIG$sig: the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
done

# --- state files that must not be trusted (on a file target) ------------------
# stopped_run FILE: a slow run on FILE stopped by SIGTERM once it saved its state.
stopped_run() {
	local pid

	rm -rf "$BLKHYDRATE_STATE_DIR"
	"$BLKHYDRATE" hydrate --progress=never -r 2M "$1" 2>/dev/null &
	pid=$!
	wait_for has_state
	kill -TERM "$pid"
	wait "$pid"
}

file=$tmp/file.img
head -c 16777216 /dev/urandom >"$file"
stopped_run "$file"
good=$(state_file)
cp "$good" "$tmp/good.state"

# untrusted NAME CONTENT_FILE: --resume with that state file reads everything, warning once.
untrusted() {
	mkdir -p "$BLKHYDRATE_STATE_DIR/progress"
	cp "$2" "$good"
	"$BLKHYDRATE" hydrate --resume --json --progress=never "$file" \
		>"$tmp/$1.json" 2>"$tmp/$1.err"
	is "$1: exit status 0" "$?" 0
	is "$1: everything is read" "$(json_get "$tmp/$1.json" bytes)" \
		"$(stat -c %s "$file")"
	ok "$1: one warning names the file and the reason" \
		grep -qx "blkhydrate: $file: warning: ignoring $good: $3; reading everything" "$tmp/$1.err"
}

awk '$1 == "read" && !d { $3 += 4096; d = 1 } 1' "$tmp/good.state" >"$tmp/bad.state"
ok "the changed state file differs in one range" \
	[ "$(diff "$tmp/good.state" "$tmp/bad.state" | grep -c '^>')" = 1 ]
untrusted "corrupt (a changed range)" "$tmp/bad.state" \
	"corrupt (not a complete blkhydrate state file)"
head -c 60 "$tmp/good.state" >"$tmp/short.state"
untrusted "corrupt (truncated)" "$tmp/short.state" \
	"corrupt (not a complete blkhydrate state file)"
printf 'garbage\n' >"$tmp/junk.state"
untrusted "corrupt (not a state file)" "$tmp/junk.state" \
	"corrupt (not a complete blkhydrate state file)"

# The same identity, another size: the image grew since.
cp "$tmp/good.state" "$good"
truncate -s 32M "$file"
untrusted "another size" "$tmp/good.state" \
	"written for another volume (identity or size differ)"
truncate -s 16M "$file"

# A state file written for another file, under this file's name.
other=$tmp/other.img
head -c 16777216 /dev/urandom >"$other"
stopped_run "$other"
mv "$(state_file)" "$tmp/other.state"
untrusted "another identity" "$tmp/other.state" \
	"written for another volume (identity or size differ)"
tap_done
