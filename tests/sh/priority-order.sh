#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: priority files are read in the order a loader reads them,
# proven by the simulator's record of the order in which chunks were
# fetched, against where filefrag (not our plan) places each file's bytes.
# Three model files, written last file first, so that device order is the
# reverse of loader order: every chunk of
# model-00001 is asked for before any of model-00002, and so on; each file's
# first chunk before the rest of it; the first reads go out as auto depth's
# first wave (4 without the probe: not the largest depth, which floods a
# narrow volume). A file a reader has pulled into the page cache is not read again
# (the simulator's bytes read say so). --preload leaves the files in the
# page cache (fincore from util-linux says so), and a --preload-margin above
# what is available preloads nothing. The image's bytes never change.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
need_tools mkfs.ext4 python3 filefrag:e2fsprogs fincore:util-linux

simvol_workdir
CHUNK=524288
MODEL_MIB=8

simvol_ext4_random 192M || skip_all "cannot make an ext4 image on a loop device"
mkdir -p "$mnt/usr" "$mnt/models"
for i in 1 2 3; do head -c 20M /dev/urandom >"$mnt/usr/sys-$i"; done
# The last file first, all from one process (ext4 picks a new file's place
# by the writer's pid), so that on the device the files lie in the reverse
# of the order a loader reads them.
python3 - "$mnt/models" $MODEL_MIB <<'PY'
import os, sys
for n in (3, 2, 1):
    with open("%s/model-0000%d-of-00003.safetensors" % (sys.argv[1], n), "wb") as f:
        for _ in range(int(sys.argv[2])):
            f.write(os.urandom(1 << 20))
        f.flush()
        os.fsync(f.fileno())
PY
# Oracle: chunk -> "FILE_NUMBER FILE_OFFSET" from filefrag, 4 KiB units.
for n in 1 2 3; do
	filefrag -e -b4096 "$mnt/models/model-0000$n-of-00003.safetensors" |
		awk -v n=$n -v cs=$CHUNK -F: '$1 ~ /^ *[0-9]+$/ {
			split($2, l, /\.\./); split($3, p, /\.\./)
			for (b = 0; b <= p[2] - p[1]; b++) {
				c = int((p[1] + b) * 4096 / cs)
				if (!(c in seen)) { seen[c] = 1; print c, n, (l[1] + b) * 4096 }
			}
		}'
done >"$tmp/oracle"
# Each chunk's owner: a chunk two files share is the earlier file's (a loader needs it then).
sort -k1,1n -k2,2n -k3,3n "$tmp/oracle" | awk '!seen[$1]++' >"$tmp/owner"
umount "$mnt"
losetup -d "$rw"
rw=
sum_before=$(sha256sum <"$img")
ok "the model spans chunks ($(wc -l <"$tmp/oracle"))" [ "$(wc -l <"$tmp/oracle")" -ge 40 ]
# Device order must not be loader order, or reading in device order would pass.
devorder=$(sort -n "$tmp/oracle" | awk '{ printf "%s", $2 }')
ok "on the device the files are not in loader order ($devorder)" \
	python3 -c 'import sys; s = sys.argv[1]; sys.exit(list(s) == sorted(s))' "$devorder"

pattern="$mnt/models/model-*.safetensors"
start_vol() {
	simvol_start "$img" "$@" || return 1
	mount -o ro,noload "$SIMVOL_DEV" "$mnt"
}
stop_vol() {
	umount "$mnt"
	simvol_stop
}

# 1. The plan shows the order.
start_vol --latency 20 --concurrency 16 --bandwidth 0 || skip_all "cannot start the simulator"
"$BLKHYDRATE" plan --json -p "$pattern" "$SIMVOL_DEV" >"$tmp/plan.json"
is "plan exits 0" "$?" 0
python3 - "$tmp/plan.json" <<'PY' >"$tmp/plan-order"
import json, sys
ph = json.load(open(sys.argv[1]))["targets"][0]["phases"][0]
names = [o["path"].rsplit("/", 1)[1] for o in ph["order"]]
starts = [o["ranges"][0][2] for o in ph["order"]]
mono = all(all(a[2] <= b[2] for a, b in zip(o["ranges"], o["ranges"][1:])) for o in ph["order"])
print(" ".join(names), starts == [0, 0, 0] and mono)
PY
is "plan --json: the files in name order, each from offset 0, ascending" "$(cat "$tmp/plan-order")" \
	"model-00001-of-00003.safetensors model-00002-of-00003.safetensors model-00003-of-00003.safetensors True"
"$BLKHYDRATE" plan -p "$pattern" "$SIMVOL_DEV" >"$tmp/plan.txt"
ok "plan: the files numbered in the order read" \
	grep -Eq '^ +1\. .*model-00001-of-00003\.safetensors: ' "$tmp/plan.txt"
ok "plan: ... model-00003 third" grep -Eq '^ +3\. .*model-00003-of-00003\.safetensors: ' "$tmp/plan.txt"

# 2. Fetch order: by file, each file from its start, auto depth's first wave
# at once (4 without the probe's latency; the old full depth flooded a
# narrow volume).
# In full reads: --read-mode auto would first probe snapshot blocks of the
# model, one at a time and in no loader order (issue 14's probe).
before=$(simvol_chunks | wc -l)
"$BLKHYDRATE" hydrate --json --progress=never --read-mode full -p "$pattern" "$SIMVOL_DEV" \
	>"$tmp/h.json" 2>"$tmp/err"
is "hydrate exits 0" "$?" 0
simvol_chunks >"$tmp/all"
tail -n +$((before + 1)) "$tmp/all" >"$tmp/log"
python3 - "$tmp/log" "$tmp/owner" 20000 "$tmp/all" <<'PY' >"$tmp/verdict"
import sys
log = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
oracle = {c: (n, off) for c, n, off in (map(int, l.split()) for l in open(sys.argv[2]))}
lat = int(sys.argv[3])
# Asked-for order: the simulator starts fetches in the order they are asked (FIFO).
model = sorted((start, oracle[c]) for _, c, start, _ in log if c in oracle)
files = [m[1][0] for m in model]
# The simulator's threads take requests a little out of order on a busy
# machine: count the pairs fetched in the wrong file order, of all pairs of
# chunks of different files (device order or strides: a third or more).
bad = sum(1 for i in range(len(files)) for j in range(i + 1, len(files)) if files[i] > files[j])
pairs = sum(1 for i in range(len(files)) for j in range(i + 1, len(files)) if files[i] != files[j])
ordered = pairs and bad * 100 <= pairs * 8
# Fetches that start together race in the simulator's threads: model-00001's
# start among the first 8 model chunks to go.
first = next((i for i, m in enumerate(model) if m[1] == (1, 0)), None)
# Planning reads metadata first, one fetch at a time: the engine starts at
# the first model chunk. Fetches started before that one ended (its end, not
# start + latency: a busy machine delays both alike).
first_fetch = min(((s, e) for _, c, s, e in log if c in oracle), default=(0, 0))
t0, t1 = first_fetch
early = sum(1 for _, _, s, _ in log if t0 <= s < t1)
warm = {c for _, c, _, _ in (tuple(map(int, l.split())) for l in open(sys.argv[4]))}
print(len(oracle.keys() & warm), len(oracle),
      "ordered" if ordered else "mixed(%d/%d):" % (bad, pairs) + "".join(map(str, files)),
      first if first is not None else 99, early)
PY
read -r nfetched nmodel order first early <"$tmp/verdict"
is "every model chunk is warm" "$nfetched" "$nmodel"
is "model-00001's chunks, then model-00002's, then model-00003's (at most 8% of pairs swapped)" \
	"$order" ordered
ok "model-00001's first chunk is among the first 8 model chunks fetched (number $first)" \
	[ "$first" -lt 8 ]
ok "auto depth's first wave: $early fetches started before the first could end (4: no flood; full depth: 112)" \
	test "$early" -ge 4 -a "$early" -le 8
is "then the whole volume is warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
stop_vol

# 2b. Touching (issue 14), the window's order still holds: each window
# block (2 MiB: four snapshot blocks) is touched once per snapshot block, in
# loader order. The probe goes first (its first reads at once): the
# engine's fetches are those after the probe's, at most one a place probed
# (probe_places; a place found warm fetched nothing).
start_vol --latency 20 --concurrency 16 --bandwidth 0
before=$(simvol_chunks | wc -l)
"$BLKHYDRATE" hydrate --json --progress=never --read-mode touch --block-size 2M -p "$pattern" \
	"$SIMVOL_DEV" >"$tmp/t.json" 2>"$tmp/err"
is "touch: hydrate exits 0" "$?" 0
simvol_chunks | tail -n +$((before + 1)) >"$tmp/tlog"
python3 - "$tmp/tlog" "$tmp/owner" "$tmp/t.json" <<'PY' >"$tmp/tverdict"
import json, sys
log = sorted((tuple(map(int, l.split())) for l in open(sys.argv[1])), key=lambda x: x[2])
oracle = {c: (n, off) for c, n, off in (map(int, l.split()) for l in open(sys.argv[2]))}
t = json.load(open(sys.argv[3]))["targets"][0]
probed = t["probe_places"]
# The probe's places lie in the model: skip its first model fetches (the
# file system's metadata, read while planning, may come before them).
files = [oracle[c][0] for _, c, _, _ in log if c in oracle][probed:]
bad = sum(1 for i in range(len(files)) for j in range(i + 1, len(files)) if files[i] > files[j])
pairs = sum(1 for i in range(len(files)) for j in range(i + 1, len(files)) if files[i] != files[j])
warm = {c for _, c, _, _ in log}
print(t["read_mode"], t["touched"] > 0 and t["complete"], len(files), len(oracle.keys() - warm),
      "ordered" if pairs and bad * 100 <= pairs * 8 else
      "mixed(%d/%d):" % (bad, pairs) + "".join(map(str, files)))
PY
read -r tmode tdone tn tcold torder <"$tmp/tverdict"
is "touch: it touched, and completed" "$tmode $tdone" "touch True"
is "touch: every model chunk was fetched (cold ones left)" "$tcold" 0
ok "touch: the engine fetched model chunks ($tn)" [ "$tn" -ge 20 ]
is "touch: model-00001's chunks, then model-00002's, then model-00003's (after the probe)" \
	"$torder" ordered
stop_vol

# 3. A reader had model-00002 in the page cache: it is not read again.
start_vol --latency 2 --concurrency 16 --bandwidth 0
cat "$mnt/models/model-00002-of-00003.safetensors" >/dev/null
size2=$(stat -c %s "$mnt/models/model-00002-of-00003.safetensors")
read0=$(simvol_stat bytes_read)
"$BLKHYDRATE" hydrate --json --progress=never --only-priority -p "$pattern" "$SIMVOL_DEV" \
	>"$tmp/r.json" 2>"$tmp/err"
is "reader: hydrate exits 0" "$?" 0
read1=$(simvol_stat bytes_read)
planned=$(json_get "$tmp/r.json" priority_bytes)
cached=$(json_get "$tmp/r.json" reader_cached_bytes)
ok "reader: the device was asked for at most the plan less model-00002 ($((read1 - read0)) of $planned)" \
	[ $((read1 - read0)) -le $((planned - size2 + CHUNK)) ]
ok "reader: JSON counts model-00002 as found in the page cache ($cached)" \
	[ "$cached" -ge $((size2 - CHUNK)) ]
is "reader: complete" "$(json_get "$tmp/r.json" complete)" true
stop_vol

# 4. --preload: the files end in the page cache; a margin above what is available holds it.
resident() {
	fincore -b -n -o RES "$mnt"/models/model-*.safetensors | awk '{ s += $1 } END { print s + 0 }'
}
total=$((3 * MODEL_MIB << 20))
start_vol --latency 2 --concurrency 16 --bandwidth 0
is "preload: nothing of the model is cached before" "$(resident)" 0
"$BLKHYDRATE" hydrate --json --progress=never --only-priority --preload --preload-margin 64M \
	-p "$pattern" "$SIMVOL_DEV" >"$tmp/p.json" 2>"$tmp/err"
is "preload: exit 0" "$?" 0
# readahead only starts the reads: give them a moment to land.
for i in $(seq 50); do
	got=$(resident)
	[ "$got" -ge "$total" ] && break
	sleep 0.2
done
ok "preload: fincore finds the model in the page cache ($got of $total)" [ "$got" -ge $((total * 95 / 100)) ]
ok "preload: JSON says what was preloaded" grep -q "\"preload\":{\"margin\":$((64 << 20)),\"bytes\":$total," "$tmp/p.json"
ok "preload: stderr says so" grep -q 'preloaded 24.0 MiB of 24.0 MiB' "$tmp/err"
stop_vol
start_vol --latency 2 --concurrency 16 --bandwidth 0
avail=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024))
"$BLKHYDRATE" hydrate --json --progress=never --only-priority --preload \
	--preload-margin $((avail + (1 << 30))) -p "$pattern" "$SIMVOL_DEV" >"$tmp/m.json" 2>"$tmp/err"
is "margin: exit 0" "$?" 0
sleep 1
is "margin: above MemAvailable, nothing is preloaded (fincore)" "$(resident)" 0
ok "margin: JSON says the margin held it" grep -q '"bytes":0,"resident_bytes":0,"held_by_margin":true' "$tmp/m.json"
stop_vol
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
