#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the fuzz harnesses (tests/fuzz/) replayed over their seed
# corpora without libFuzzer, so that every build, the sanitizer pass and
# valgrind check them. `make fuzz` runs the real fuzzers (clang) for a while.
. "$(dirname "$0")/../lib/tap.sh"

for h in config size state; do
	corpus=$top_srcdir/tests/fuzz/corpus-$h
	n=$(find "$corpus" -type f | wc -l)
	out=$(find "$corpus" -type f -print0 | sort -z |
		xargs -0 ${REPLAY_WRAPPER:-} "$top_builddir/tests/fuzz/replay-$h" 2>&1)
	rc=$?
	is "$h: all $n seeds replay cleanly" "$rc $(grep -c '^ok' <<<"$out")" "0 $n"
	[ $rc = 0 ] || diag "$out"
done
tap_done
