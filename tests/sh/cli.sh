#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the command line, util-linux style: --help prints usage on
# stdout and exits 0, --version names the version, and every bad invocation
# prints one error line plus "Try ... --help." on stderr and exits 1.
. "$(dirname "$0")/../lib/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {
	"$BLKHYDRATE" "$@" >"$tmp/out" 2>"$tmp/err"
	echo $?
}

is "--help exits 0" "$(run --help)" 0
ok "--help prints usage on stdout" grep -q '^Usage:' "$tmp/out"
ok "--help lists the hydrate command" grep -q '^ hydrate' "$tmp/out"
is "-h is --help" "$(run -h)" 0
is "--version exits 0" "$(run --version)" 0
ok "--version names the version" grep -Eq '^blkhydrate [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"
is "-V is --version" "$(run -V)" 0

for cmd in hydrate plan; do
	is "$cmd --help exits 0" "$(run $cmd --help)" 0
	ok "$cmd --help prints its usage" grep -q "^ blkhydrate $cmd" "$tmp/out"
	is "$cmd --help writes nothing on stderr" "$(wc -c <"$tmp/err")" 0
	is "$cmd with an unknown option exits 1" "$(run $cmd --no-such-option x)" 1
	is "$cmd: one error line and a hint" "$(cat "$tmp/err")" \
		"blkhydrate: unrecognized option '--no-such-option'
Try 'blkhydrate $cmd --help'."
	is "$cmd: option missing its argument exits 1" "$(run $cmd x -d)" 1
	ok "$cmd: says which option lacks its argument" grep -q "option '-d' requires an argument" "$tmp/err"
	is "$cmd without a target exits 1" "$(run $cmd)" 1
	ok "$cmd without a target says so" grep -q 'no target given' "$tmp/err"
done

is "probe --help exits 0" "$(run probe --help)" 0
ok "probe --help prints its usage" grep -q "^ blkhydrate probe" "$tmp/out"
is "probe with an unknown option exits 1" "$(run probe --no-such-option x)" 1
is "probe: one error line and a hint" "$(cat "$tmp/err")" \
	"blkhydrate: unrecognized option '--no-such-option'
Try 'blkhydrate probe --help'."
is "probe: option missing its argument exits 1" "$(run probe x -n)" 1
ok "probe: says which option lacks its argument" grep -q "option '-n' requires an argument" "$tmp/err"
is "probe without a target exits 1" "$(run probe)" 1
is "hydrate: a bad --ioprio exits 1" "$(run hydrate --ioprio low x)" 1
ok "hydrate: says why" grep -q "invalid ioprio 'low': not one of idle, be\[:level\], rt\[:level\]" "$tmp/err"
is "hydrate: a bad --queue-depth exits 1" "$(run hydrate -d automatic x)" 1
ok "hydrate: says why" grep -q "invalid queue depth 'automatic': not a whole number" "$tmp/err"

is "no command exits 1" "$(run)" 1
ok "no command says so" grep -q 'no command given' "$tmp/err"
is "unknown command exits 1" "$(run frobnicate)" 1
is "unknown command: one line and a hint" "$(cat "$tmp/err")" \
	"blkhydrate: unknown command 'frobnicate'
Try 'blkhydrate --help'."
is "unknown global option exits 1" "$(run --frob)" 1
is "nothing on stdout for bad usage" "$(wc -c <"$tmp/out")" 0
tap_done
