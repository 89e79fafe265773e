#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: priority first, proven by the simulator's record of the order
# in which chunks were fetched. On a lazy volume holding ext4 with model files
# written late and in pieces, every chunk holding model bytes is fetched
# before any other chunk; then the whole volume is warm. With --used, no chunk
# that the file system calls free (by dumpe2fs, not by our own GETFSMAP) is
# fetched, while every chunk holding used blocks is. The image's bytes never
# change.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
need_tools mkfs.ext4 python3 filefrag:e2fsprogs

simvol_workdir
CHUNK=524288
. "$top_srcdir/tests/lib/chunks.sh"

simvol_ext4_random 384M || skip_all "cannot make an ext4 image on a loop device"
mkdir -p "$mnt/usr" "$mnt/models/sub"
for i in 1 2 3 4 5 6; do head -c 30M /dev/urandom >"$mnt/usr/sys-$i"; done
# Models in pieces, interleaved, so their extents are fragmented.
for piece in 1 2 3 4; do
	for m in a b sub/c; do
		head -c 6M /dev/urandom >>"$mnt/models/$m.safetensors"
		head -c 1M /dev/urandom >>"$mnt/usr/interleave"
		sync
	done
done
rm "$mnt/usr/sys-2" "$mnt/usr/sys-4"	# free space that still holds old data
umount "$mnt"
losetup -d "$rw"
rw=
sum_before=$(sha256sum <"$img")

# Chunks entirely free per dumpe2fs (4K blocks, 128 to a chunk).
dumpe2fs "$img" 2>/dev/null | python3 -c '
import sys, re
free = set()
for line in sys.stdin:
    m = re.match(r"\s+Free blocks: (.*)", line)
    if not m or not m.group(1).strip():
        continue
    for part in m.group(1).split(","):
        a, _, b = part.strip().partition("-")
        for blk in range(int(a), int(b or a) + 1):
            free.add(blk)
chunks = {}
for blk in free:
    chunks.setdefault(blk // 128, 0)
    chunks[blk // 128] += 1
print("\n".join(str(c) for c, n in sorted(chunks.items()) if n == 128))
' >"$tmp/free-chunks"
nfree=$(wc -l <"$tmp/free-chunks")
ok "the file system has fully free chunks holding data ($nfree)" [ "$nfree" -ge 50 ]

start_vol() {
	simvol_start "$img" --latency 2 --concurrency 16 --bandwidth 0 || return 1
	mount -o ro,noload "$SIMVOL_DEV" "$mnt"
}
stop_vol() {
	umount "$mnt"
	simvol_stop
}

# Chunks a plan's phases cover: "KIND CHUNK" lines.
plan_chunks() {
	python3 -c '
import json, sys
plan = json.load(open(sys.argv[1]))
for ph in plan["targets"][0]["phases"]:
    for off, ln in ph["ranges"]:
        for c in range(off // int(sys.argv[2]), (off + ln - 1) // int(sys.argv[2]) + 1):
            print(ph["kind"], c)
' "$1" "$CHUNK"
}

# 1. Priority first.
start_vol || skip_all "cannot start the simulator"
"$BLKHYDRATE" plan --json -p "$mnt/models/**/*.safetensors" "$SIMVOL_DEV" >"$tmp/plan.json"
is "plan exits 0" "$?" 0
# The model's chunks from filefrag, not from our own plan: the oracle must not
# share blkhydrate's mistakes.
file_chunks "$mnt"/models/*.safetensors "$mnt"/models/sub/*.safetensors >"$tmp/model-chunks"
plan_chunks "$tmp/plan.json" | awk '$1 == "priority" { print $2 }' | sort -un >"$tmp/plan-chunks"
ok "the plan's priority chunks are the model's (by filefrag)" cmp -s "$tmp/plan-chunks" "$tmp/model-chunks"
nmodel=$(wc -l <"$tmp/model-chunks")
ok "the model spans many chunks ($nmodel)" [ "$nmodel" -ge 140 ]
before=$(simvol_chunks | wc -l)
"$BLKHYDRATE" hydrate --json --progress=never -p "$mnt/models/**/*.safetensors" "$SIMVOL_DEV" \
	>"$tmp/hydrate.json" 2>"$tmp/err"
is "hydrate exits 0" "$?" 0
simvol_chunks | tail -n +$((before + 1)) | awk '{ print $2 }' >"$tmp/order"
python3 - "$tmp/order" "$tmp/model-chunks" <<'PY' >"$tmp/verdict"
import sys
order = [int(x) for x in open(sys.argv[1])]
model = {int(x) for x in open(sys.argv[2])}
fetched_model = [i for i, c in enumerate(order) if c in model]
others = [i for i, c in enumerate(order) if c not in model]
last_model = max(fetched_model) if fetched_model else -1
first_other = min(others) if others else len(order)
print(len(fetched_model), len(others), "ok" if last_model < first_other else "mixed")
PY
read -r got_model got_other verdict <"$tmp/verdict"
ok "chunks fetched by hydrate: $got_model model, then $got_other others" test "$got_model" -gt 0 -a "$got_other" -gt 0
is "every model chunk was fetched before any other chunk" "$verdict" ok
is "JSON: priority_bytes as planned" "$(json_get "$tmp/hydrate.json" priority_bytes)" \
	"$(python3 -c 'import json,sys; print(sum(p["bytes"] for p in json.load(open(sys.argv[1]))["targets"][0]["phases"] if p["kind"] == "priority"))' "$tmp/plan.json")"
ok "JSON: priority_seconds is a time" grep -q '"priority_seconds":[0-9]' "$tmp/hydrate.json"
is "then the whole volume is warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
ok "stderr says when the priority files were read" grep -q 'priority files read: ' "$tmp/err"
stop_vol

# 2. --used: no free chunk fetched, every used chunk fetched.
start_vol
before=$(simvol_chunks | wc -l)
"$BLKHYDRATE" hydrate --json --progress=never --used "$SIMVOL_DEV" >"$tmp/used.json" 2>"$tmp/err"
is "--used: exit 0" "$?" 0
is "--used: JSON mode" "$(grep -o '"mode":"[a-z]*"' "$tmp/used.json")" '"mode":"used"'
used_bytes=$(json_get "$tmp/used.json" bytes)
ok "--used: read less than the device ($used_bytes of $((384 << 20)))" [ "$used_bytes" -lt $((384 << 20)) ]
# Chunks that are holes in the image (mke2fs punches the inode tables and the
# journal) start warm in the simulator: nothing to fetch there.
# Free chunks fetched while hydrate ran; used chunks never fetched at all.
data_chunks "$img" >"$tmp/data-chunks"
python3 - "$tmp/free-chunks" "$SIMVOL_MNT/chunks" "$tmp/data-chunks" "$CHUNK" "$before" "$img" \
	<<'PY' >"$tmp/used-verdict"
import os, sys
free = {int(x) for x in open(sys.argv[1])}
log = [int(l.split()[1]) for l in open(sys.argv[2])]
fetched, during = set(log), set(log[int(sys.argv[5]):])
chunk = int(sys.argv[4])
data = {int(x) for x in open(sys.argv[3])}
size = os.stat(sys.argv[6]).st_size
used = (set(range(size // chunk)) - free) & data
print(len(free & during), len(used - fetched))
PY
read -r free_fetched used_missed <"$tmp/used-verdict"
is "--used: no chunk of free space was fetched" "$free_fetched" 0
is "--used: every chunk holding used blocks was fetched" "$used_missed" 0
stop_vol
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
