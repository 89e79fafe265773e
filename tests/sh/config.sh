#!/bin/bash
# Description: the configuration file as the command line meets it. Its
# settings fill what the command line leaves unset; its priority paths keep
# their order and are replaced as a whole by --priority; a bad value or an
# unknown key is reported as FILE:LINE with the reason and exit status 1
# before anything is read; a missing --config file is an error; as root, a
# file that others can write is refused.
# SPDX-License-Identifier: GPL-2.0-or-later
. "$(dirname "$0")/../lib/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
img=$tmp/disk.img
head -c 4M /dev/urandom >"$img"
conf=$tmp/blkhydrate.conf
cat >"$conf" <<CONF
# models first, in this order
priority = $tmp/first/*.bin
priority = $tmp/second.bin
queue-depth = 8   # a shallow queue
block-size = 128K
mode = used
CONF
chmod 644 "$conf"
mkdir "$tmp/first"
head -c 64K /dev/urandom >"$tmp/first/a.bin"
head -c 64K /dev/urandom >"$tmp/second.bin"

"$BLKHYDRATE" plan --json --config "$conf" "$img" >"$tmp/plan.json" 2>"$tmp/err"
# The files are on the file system holding $tmp, not on the image: refused.
is "plan with the file: priority files on another device make exit 6" "$?" 6
is "queue depth from the file" "$(json_get "$tmp/plan.json" queue_depth)" 8
is "block size from the file" "$(json_get "$tmp/plan.json" block_size)" 131072
classes() {
	python3 -c 'import json, sys; print(" ".join(c["pattern"] for c in json.load(open(sys.argv[1]))["classes"]))' "$1"
}
is "classes in the file's order" "$(classes "$tmp/plan.json")" "$tmp/first/*.bin $tmp/second.bin"
ok "the used mode from the file falls back on an image, and says so" \
	grep -q -- '--used: .*not a block device' "$tmp/err"

"$BLKHYDRATE" plan --json --config "$conf" -d 16 -p "$tmp/second.bin" "$img" >"$tmp/plan.json" 2>/dev/null
is "the command line's queue depth wins" "$(json_get "$tmp/plan.json" queue_depth)" 16
is "the command line's --priority replaces the file's list" "$(classes "$tmp/plan.json")" "$tmp/second.bin"

bad() {
	printf '%s\n' "$@" >"$tmp/bad.conf"
	chmod 644 "$tmp/bad.conf"
	# --json: a run that read anything would print its summary.
	"$BLKHYDRATE" hydrate --json --progress=never --config "$tmp/bad.conf" "$img" >"$tmp/out" 2>"$tmp/err"
	echo $?
}
is "a bad value exits 1" "$(bad '# ok' 'strides = 2' 'queue-depth = deep')" 1
is "a bad value: FILE:LINE and the reason" "$(cat "$tmp/err")" \
	"blkhydrate: $tmp/bad.conf:3: invalid queue depth 'deep': not a whole number"
is "a bad value: nothing read" "$(wc -c <"$tmp/out")" 0
is "an unknown key exits 1" "$(bad 'speed = fast')" 1
is "an unknown key: FILE:LINE and the reason" "$(cat "$tmp/err")" \
	"blkhydrate: $tmp/bad.conf:1: unknown key 'speed'"
is "a line that is not key = value exits 1" "$(bad 'priority /opt/models')" 1
ok "... and says so" grep -q "bad.conf:1: 'priority /opt/models' is not 'key = value'" "$tmp/err"
is "a bad mode exits 1" "$(bad 'mode = some')" 1
ok "... and names the choices" grep -q "bad.conf:1: invalid mode 'some': not one of whole, used" "$tmp/err"

"$BLKHYDRATE" hydrate --config "$tmp/missing.conf" "$img" >/dev/null 2>"$tmp/err"
is "a missing --config file exits 1" "$?" 1
ok "... and says so" grep -q "missing.conf: No such file or directory" "$tmp/err"

if [ "$(id -u)" = 0 ]; then
	chmod 666 "$conf"
	"$BLKHYDRATE" plan --config "$conf" "$img" >/dev/null 2>"$tmp/err"
	is "as root, a file others can write exits 1" "$?" 1
	ok "... and says why" grep -q "refused: not owned by root, or writable by group or others" "$tmp/err"
else
	skip "as root, a file others can write is refused" "needs root"
	skip "... and says why" "needs root"
fi
tap_done
