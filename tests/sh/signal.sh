#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: SIGTERM and SIGINT stop a run cleanly: in-flight reads are
# drained, the summary is printed (JSON says interrupted, not complete), and
# the exit status is 3. The run is slowed with --rate so that the signal
# lands mid-way on any machine.
. "$(dirname "$0")/../lib/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
head -c 67108864 /dev/urandom >"$tmp/disk.img"

for sig in TERM INT; do
	"$BLKHYDRATE" hydrate --json --progress=never -r 8M -b 1M "$tmp/disk.img" \
		>"$tmp/$sig.json" 2>"$tmp/$sig.err" &
	pid=$!
	# Wait until it is reading (the log is quiet, so poll the process's I/O).
	for i in $(seq 50); do
		[ "$(awk '/^rchar/ { print $2 }' /proc/$pid/io 2>/dev/null || echo 0)" -gt 0 ] && break
		sleep 0.1
	done
	sleep 0.5
	start=$(date +%s%N)
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	took=$((($(date +%s%N) - start) / 1000000))
	is "SIG$sig: exit status 3" "$rc" 3
	ok "SIG$sig: stopped within 2 s (${took} ms)" [ "$took" -lt 2000 ]
	is "SIG$sig: JSON says interrupted" "$(json_get "$tmp/$sig.json" interrupted)" true
	is "SIG$sig: JSON says not complete" "$(json_get "$tmp/$sig.json" complete)" false
	bytes=$(json_get "$tmp/$sig.json" bytes)
	ok "SIG$sig: some but not all bytes read ($bytes)" test "${bytes:-0}" -gt 0 -a "${bytes:-0}" -lt 67108864
	ok "SIG$sig: says it was interrupted" grep -q 'interrupted: in-flight reads drained' "$tmp/$sig.err"
	ok "SIG$sig: summary line printed" grep -q "$tmp/disk.img: read .*, not complete" "$tmp/$sig.err"
done
tap_done
