#!/bin/bash
# Description: hydrating disk images (regular files). Every byte is read
# once whatever the size, queue depth, block size and stride count, the
# JSON summary says so, the image is unchanged, a file system that refuses
# O_DIRECT falls back to buffered reads and says so, and --rate holds the
# pace down.
. "$(dirname "$0")/../lib/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# hydrate_ok DESC FILE ARGS...: exit 0, bytes == size, complete, file unchanged.
hydrate_ok() {
	local desc=$1 file=$2
	shift 2
	local before after size rc
	before=$(sha256sum <"$file")
	size=$(stat -c %s "$file")
	"$BLKHYDRATE" hydrate --json --progress=never "$@" "$file" >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	after=$(sha256sum <"$file")
	if [ $rc -eq 0 ] && [ "$(json_get "$tmp/out.json" bytes)" = "$size" ] &&
		[ "$(json_get "$tmp/out.json" complete)" = true ] &&
		[ "$(json_get "$tmp/out.json" errors)" = 0 ] && [ "$before" = "$after" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
		diag "exit $rc, size $size, json: $(cat "$tmp/out.json"), stderr: $(cat "$tmp/err")"
	fi
}

head -c 33554432 /dev/urandom >"$tmp/32m.img"
head -c 1 /dev/urandom >"$tmp/1b.img"
head -c 4097 /dev/urandom >"$tmp/4097.img"
head -c 1000001 /dev/urandom >"$tmp/odd.img"
truncate -s 64M "$tmp/sparse.img"
dd if=/dev/urandom of="$tmp/sparse.img" bs=64K count=3 seek=500 conv=notrunc status=none

hydrate_ok "32 MiB image with the defaults" "$tmp/32m.img"
hydrate_ok "one-byte image" "$tmp/1b.img"
hydrate_ok "4097-byte image, 4K blocks" "$tmp/4097.img" -b 4K
hydrate_ok "odd-sized image, depth 3, 8K blocks, 5 strides" "$tmp/odd.img" -d 3 -b 8K -s 5
hydrate_ok "depth 1, one stride" "$tmp/32m.img" -d 1 -s 1
hydrate_ok "more strides than blocks" "$tmp/4097.img" -s 64
hydrate_ok "64M blocks on a 32 MiB image" "$tmp/32m.img" -d 2 -b 64M
hydrate_ok "sparse image" "$tmp/sparse.img" -d 16 -b 1M -s 3

is "direct I/O on this file system" "$(json_get "$tmp/out.json" registered_buffers)" true
ok "JSON names the target" grep -q "\"target\":\"$tmp/sparse.img\"" "$tmp/out.json"

# Two targets in one run share the queue and are both read whole.
"$BLKHYDRATE" hydrate --json --progress=never "$tmp/32m.img" "$tmp/odd.img" >"$tmp/two.json" 2>"$tmp/err"
is "two targets: exit 0" "$?" 0
is "two targets: bytes is the sum" "$(json_get "$tmp/two.json" bytes)" $((33554432 + 1000001))
is "two targets: one summary line each" "$(grep -c ', complete$' "$tmp/err")" 2

# ramfs has no direct I/O: read through the page cache, and say so.
if [ "$(id -u)" = 0 ] && mkdir "$tmp/ram" && mount -t ramfs ramfs "$tmp/ram" 2>/dev/null; then
	trap 'umount "$tmp/ram"; rm -rf "$tmp"' EXIT
	head -c 2097152 /dev/urandom >"$tmp/ram/x.img"
	"$BLKHYDRATE" hydrate --json --progress=never "$tmp/ram/x.img" >"$tmp/ram.json" 2>"$tmp/err"
	rc=$?
	is "ramfs file: exit 0" "$rc" 0
	ok "ramfs file: says O_DIRECT was refused" grep -q "$tmp/ram/x.img: O_DIRECT refused, reading through the page cache" "$tmp/err"
	is "ramfs file: JSON says not direct" "$(grep -o '"direct":[a-z]*' "$tmp/ram.json")" '"direct":false'
	is "ramfs file: all bytes" "$(json_get "$tmp/ram.json" bytes)" 2097152
else
	for d in "exit 0" "says O_DIRECT was refused" "JSON says not direct" "all bytes"; do
		skip "ramfs file: $d" "needs root to mount ramfs"
	done
fi

# The rate cap: 6 MiB at 2 MiB/s, with a burst of one 1 MiB block, cannot
# finish in under 2.5 s (a lower bound only: a slow machine never fails it),
# by the wall clock: its own could be as wrong as its pacing.
head -c 6291456 /dev/urandom >"$tmp/6m.img"
t0=$EPOCHREALTIME
"$BLKHYDRATE" hydrate --json --progress=never -r 2M -b 1M "$tmp/6m.img" >"$tmp/rate.json" 2>"$tmp/err"
wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }')
ok "--rate 2M: 6 MiB takes at least 2.5 s by the wall clock (took $wall s)" \
	awk -v s="$wall" 'BEGIN { exit !(s >= 2.5) }'
is "--rate 2M: still reads it all" "$(json_get "$tmp/rate.json" bytes)" 6291456
tap_done
