#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: touch mode on simulated lazy volumes with a gp3-like guest cap
# (125 MiB/s, 3000 IOPS), checked by the simulator's own accounting. With
# whole-block fetches, auto probes "whole" and touches: every data chunk ends
# warm, each fetched once, while the guest read a small share of the volume,
# the JSON's guest_bytes is what the simulator served, and its own (anonymous) peak memory stays
# under 16 MiB. With partial fetches, auto probes "partial" and reads in full;
# forced touch mode is caught by its samples, switches to full reads, says
# so, and still leaves every chunk warm. A plain image (not lazy) reads in
# full as before. --resume after SIGTERM in touch mode reads exactly what is
# left, --rate caps the hydrated bytes, a failed touch is touched again (forty
# chunks failing twice: nothing read in full, memory still small) and, when
# it keeps failing, read in full and split (only the bad chunk is given up), and on ext4 the model's
# chunks are fetched first and --used fetches no free chunk. First, the
# simulator's guest caps, I/O units and partial fetches themselves. The
# images never change.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
need_tools mkfs.ext4 python3 filefrag:e2fsprogs

simvol_workdir
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock
. "$top_srcdir/tests/lib/state.sh"
. "$top_srcdir/tests/lib/chunks.sh"
. "$top_srcdir/tests/lib/mem.sh"

SIZE=$((96 << 20))
CHUNK=524288
img=$tmp/vol.img
head -c $SIZE /dev/urandom >"$img"
sum_before=$(sha256sum <"$img")
# A cold fetch costs 20 ms: far above a warm read even on a loaded machine.
GP3=(--latency 20 --concurrency 64 --bandwidth 2000M --guest-bandwidth 125M --guest-iops 3000)

# run NAME FETCH HYDRATE-OPTIONS...: a fresh volume (with the lazysim options
# in sim_extra), one hydrate; $rc, NAME.json, NAME.err, NAME.rss
sim_extra=()
run() {
	local name=$1 fetch=$2

	shift 2
	simvol_start "$img" "${GP3[@]}" --fetch "$fetch" "${sim_extra[@]}" || return 1
	mem_run "$tmp/$name.mem" "$BLKHYDRATE" hydrate --json --progress=never "$@" "$SIMVOL_DEV" \
		>"$tmp/$name.json" 2>"$tmp/$name.err"
	rc=$?
}

# mem_ok NAME WHAT: blkhydrate's own memory (anonymous: buffers, heap, stack)
# at its peak stays under 16 MiB; touch buffers are a logical block a slot.
mem_ok() {
	local anon file pin hwm

	read -r anon file pin hwm <"$tmp/$1.mem"
	diag "$2: peak anonymous $anon KiB (pinned for the ring $pin KiB), files mapped $file KiB, whole process $hwm KiB"
	[ "$anon" -lt 16384 ] && [ "$hwm" -lt 16384 ] || diag "$2: at the peak: $(mem_top "$tmp/$1.mem"); $(grep -o \
		'"\(errors\|retries\|queue_depth_max\|touched\|depth_changes\)":[0-9]*' "$tmp/$1.json" | tr '\n' ' ')"
	ok "$2: peak memory of its own $anon KiB < 16 MiB" [ "$anon" -lt 16384 ]
}

# target_get FILE KEY: KEY of the first target (after "targets").
target_get() {
	sed 's/.*"targets":\[//' "$1" | grep -o "\"$2\":\\(\"[^\"]*\"\\|[^,}]*\\)" | head -n 1 |
		sed 's/^[^:]*://' | tr -d '"'
}

all_warm() {
	is "$1: every data chunk is warm" "$(simvol_stat warm_data)" "$(simvol_stat data_chunks)"
}

# 0. The simulator's guest side: what the guest reads is capped and counted.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
simvol_start "$img" --latency 0 --bandwidth 0 --guest-bandwidth 32M --io-unit 256K ||
	skip_all "cannot start the simulator"
t0=$(now_ms)
dd if="$SIMVOL_DEV" of=/dev/null bs=1M count=16 iflag=direct status=none
t1=$(now_ms)
ok "guest bandwidth 32M: 16 MiB took $((t1 - t0)) ms >= 450" [ $((t1 - t0)) -ge 450 ]
ios=$(simvol_stat guest_ios)
ok "guest I/Os: at least one per 256 KiB, a few more where the kernel split reads ($ios)" \
	[ "$ios" -ge 64 -a "$ios" -le 128 ]
is "guest bytes counted" "$(simvol_stat bytes_read)" $((16 << 20))
simvol_stop
simvol_start "$img" --latency 0 --bandwidth 0 --guest-iops 100
t0=$(now_ms)
dd if="$SIMVOL_DEV" of=/dev/null bs=4K count=30 iflag=direct status=none
t1=$(now_ms)
ok "guest IOPS 100: 30 reads took $((t1 - t0)) ms >= 270" [ $((t1 - t0)) -ge 270 ]
simvol_stop
simvol_start "$img" --latency 0 --bandwidth 0 --fetch partial
dd if="$SIMVOL_DEV" of=/dev/null bs=4K count=1 iflag=direct status=none
is "partial fetch: a 4K read fetches 4K" "$(simvol_stat fetched_bytes)" 4096
is "partial fetch: its chunk stays cold" "$(simvol_stat warm_data)" 0
dd if="$SIMVOL_DEV" of=/dev/null bs=512K count=1 iflag=direct status=none
is "partial fetch: the rest of the chunk makes it warm" "$(simvol_stat warm_data)" 1
is "partial fetch: the chunk's bytes fetched once" "$(simvol_stat fetched_bytes)" $CHUNK
simvol_stop

# 1. Whole-block fetches: auto touches.
run whole-auto whole || skip_all "cannot start the simulator"
is "whole, auto: exit 0" "$rc" 0
diag "$(grep 'snapshot blocks of' "$tmp/whole-auto.err")"
is "whole, auto: the probe says whole" "$(target_get "$tmp/whole-auto.json" granularity)" whole
is "whole, auto: it touched" "$(target_get "$tmp/whole-auto.json" read_mode)" touch
is "whole, auto: every byte hydrated" "$(json_get "$tmp/whole-auto.json" bytes)" $SIZE
is "whole, auto: complete" "$(json_get "$tmp/whole-auto.json" complete)" true
is "whole, auto: a touch per snapshot block" "$(json_get "$tmp/whole-auto.json" touched)" \
	$((SIZE / CHUNK))
all_warm "whole, auto"
is "whole, auto: each data chunk fetched once" "$(simvol_stat fetches)" "$(simvol_stat data_chunks)"
guest=$(json_get "$tmp/whole-auto.json" guest_bytes)
is "whole, auto: JSON guest_bytes is what the simulator served" "$guest" "$(simvol_stat bytes_read)"
ok "whole, auto: the guest read under 1/32 of the volume ($guest bytes)" \
	[ "${guest:-$SIZE}" -lt $((SIZE / 32)) ]
is "whole, auto: no switch" "$(json_get "$tmp/whole-auto.json" touch_switched)" false
ok "whole, auto: its samples were warm" \
	[ "$(target_get "$tmp/whole-auto.json" touch_samples)" -ge 1 -a \
	  "$(target_get "$tmp/whole-auto.json" touch_cold_samples)" = 0 ]
ok "whole, auto: stderr says it touches" grep -q "fetched whole .*touching each block" \
	"$tmp/whole-auto.err"
mem_ok whole-auto "whole, auto"
simvol_stop

# 2. Partial fetches: auto reads in full.
run partial-auto partial
is "partial, auto: exit 0" "$rc" 0
is "partial, auto: the probe says partial" "$(target_get "$tmp/partial-auto.json" granularity)" \
	partial
is "partial, auto: full reads" "$(target_get "$tmp/partial-auto.json" read_mode)" full
is "partial, auto: nothing touched" "$(json_get "$tmp/partial-auto.json" touched)" 0
is "partial, auto: complete" "$(json_get "$tmp/partial-auto.json" complete)" true
all_warm "partial, auto"
simvol_stop

# 3. Partial fetches, touch forced: the samples catch it.
run partial-touch partial --read-mode touch
is "partial, touch: exit 0" "$rc" 0
is "partial, touch: switched to full reads" "$(json_get "$tmp/partial-touch.json" touch_switched)" \
	true
ok "partial, touch: stderr says so" grep -q "samples inside touched blocks were cold.*switched to full reads" \
	"$tmp/partial-touch.err"
ok "partial, touch: it had touched some blocks first" \
	[ "$(json_get "$tmp/partial-touch.json" touched)" -gt 0 ]
is "partial, touch: every byte hydrated" "$(json_get "$tmp/partial-touch.json" bytes)" $SIZE
is "partial, touch: complete" "$(json_get "$tmp/partial-touch.json" complete)" true
all_warm "partial, touch"
guest=$(json_get "$tmp/partial-touch.json" guest_bytes)
ok "partial, touch: the guest read the whole volume ($guest bytes)" [ "$guest" -ge $SIZE ]
simvol_stop

# 4. Not a lazy volume: nothing changes. Written out first: an O_DIRECT read
# of a range still under writeback waits on it, as a read of a cold block
# waits on a fetch.
cp "$img" "$tmp/plain.img"
sync "$tmp/plain.img"
"$BLKHYDRATE" hydrate --json --progress=never "$tmp/plain.img" >"$tmp/plain.json" 2>"$tmp/plain.err"
is "plain image, auto: exit 0" "$?" 0
is "plain image, auto: the probe is unsure" "$(target_get "$tmp/plain.json" granularity)" unsure
is "plain image, auto: full reads" "$(target_get "$tmp/plain.json" read_mode)" full
is "plain image, auto: every byte read" "$(json_get "$tmp/plain.json" bytes)" $SIZE
rm -f "$tmp/plain.img"

# 5. --resume and --rate in touch mode.
simvol_start "$img" "${GP3[@]}"
"$BLKHYDRATE" hydrate --json --progress=never --read-mode touch -r 24M "$SIMVOL_DEV" \
	>"$tmp/r1.json" 2>"$tmp/r1.err" &
pid=$!
wait_for has_state
sleep 1
kill -TERM "$pid"
wait "$pid"
is "touch, SIGTERM: exit 3" "$?" 3
saved=$(state_bytes "$(state_file)")
ok "touch, SIGTERM: the state file holds part of the volume ($saved bytes)" \
	test "${saved:-0}" -gt 0 -a "${saved:-0}" -lt $SIZE
is "touch, SIGTERM: the state is what it hydrated" "$saved" "$(json_get "$tmp/r1.json" bytes)"
mibs=$(json_get "$tmp/r1.json" throughput_mib_s)
ok "touch, --rate 24M: hydrated at $mibs MiB/s, within the cap" \
	awk -v r="$mibs" 'BEGIN { exit !(r > 0 && r <= 24 * 1.1) }'
diag "first run: $(target_get "$tmp/r1.json" touch_samples) samples, $(target_get "$tmp/r1.json" touch_cold_samples) cold"
is "touch, SIGTERM: it was still touching" "$(json_get "$tmp/r1.json" touch_switched)" false
recs=$(wc -l <"$SIMVOL_MNT/chunks")
cp "$(state_file)" "$tmp/r.state"
"$BLKHYDRATE" hydrate --json --progress=never --read-mode touch --resume "$SIMVOL_DEV" \
	>"$tmp/r2.json" 2>"$tmp/r2.err"
is "touch, --resume: exit 0" "$?" 0
is "touch, --resume: it hydrates exactly what is left" "$(json_get "$tmp/r2.json" bytes)" \
	$((SIZE - saved))
is "touch, --resume: no chunk saved as read was fetched again" "$(refetched "$recs" "$tmp/r.state")" 0
all_warm "touch, --resume"
is "touch, --resume: each data chunk fetched once" "$(simvol_stat fetches)" \
	"$(simvol_stat data_chunks)"
ok "touch, --resume: the state file is gone" [ -z "$(state_file)" ]
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"

# 6. Read errors in touch mode: a failed touch is read again in full.
sim_extra=(--eio 5 --eio-count 2)
run eio-once whole --read-mode touch
is "touch, a chunk failing twice: exit 0" "$rc" 0
is "touch, a chunk failing twice: complete" "$(json_get "$tmp/eio-once.json" complete)" true
all_warm "touch, a chunk failing twice"
simvol_stop
# Forty chunks failing twice (a busy backend): touched again, not read in full.
sim_extra=(--eio "$(seq -s, 3 2 81)" --eio-count 2)
run eio-many whole --read-mode touch
is "touch, forty chunks failing twice: exit 0" "$rc" 0
is "touch, forty chunks failing twice: retried each twice" \
	"$(target_get "$tmp/eio-many.json" retries)" 80
all_warm "touch, forty chunks failing twice"
guest=$(json_get "$tmp/eio-many.json" guest_bytes)
ok "touch, forty chunks failing twice: touched again, not read in full ($guest bytes)" \
	[ "${guest:-$SIZE}" -lt $((SIZE / 32)) ]
mem_ok eio-many "touch, forty chunks failing twice"
simvol_stop
sim_extra=(--eio 9)
run eio whole --read-mode touch
is "touch, a chunk that always fails: exit 2" "$rc" 2
is "touch, a chunk that always fails: exactly that chunk is given up" \
	"$(grep -o '"bad_ranges":\[[^]]*\]' "$tmp/eio.json")" \
	"\"bad_ranges\":[{\"offset\":$((9 * CHUNK)),\"length\":$CHUNK,\"errno\":5,\"error\":\"Input/output error\"}]"
is "touch, a chunk that always fails: the rest hydrated" "$(json_get "$tmp/eio.json" bytes)" \
	$((SIZE - CHUNK))
simvol_stop
sim_extra=()

# 7. ext4: priority files first, --used, in touch mode.
simvol_ext4_random 128M || bail "cannot make the ext4 volume"
fs=$img
mkdir "$mnt/models"
for i in 1 2 3; do head -c 16M /dev/urandom >"$mnt/sys-$i"; done
head -c 12M /dev/urandom >"$mnt/models/m.safetensors"
rm "$mnt/sys-2"	# free space that still holds old data
umount "$mnt"
losetup -d "$rw"
rw=
fs_before=$(sha256sum <"$fs")
simvol_start "$fs" "${GP3[@]}"
mount -o ro,noload "$SIMVOL_DEV" "$mnt"
file_chunks "$mnt/models/m.safetensors" >"$tmp/model-chunks"
data_chunks "$fs" >"$tmp/data-chunks"
"$BLKHYDRATE" plan --json --used -p "$mnt/models" "$SIMVOL_DEV" >"$tmp/plan.json"
before=$(wc -l <"$SIMVOL_MNT/chunks")
"$BLKHYDRATE" hydrate --json --progress=never --used -p "$mnt/models" "$SIMVOL_DEV" \
	>"$tmp/fs.json" 2>"$tmp/fs.err"
is "ext4, --used -p, auto: exit 0" "$?" 0
is "ext4: it touched" "$(target_get "$tmp/fs.json" read_mode)" touch
is "ext4: complete" "$(json_get "$tmp/fs.json" complete)" true
python3 - "$tmp/plan.json" "$SIMVOL_MNT/chunks" "$tmp/model-chunks" "$CHUNK" "$before" \
	"$tmp/data-chunks" <<'PY' >"$tmp/fs-verdict"
import json, sys
plan = json.load(open(sys.argv[1]))["targets"][0]
chunk = int(sys.argv[4])
data = {int(x) for x in open(sys.argv[6])}
planned = set()
for ph in plan["phases"]:
    for off, ln in ph["ranges"]:
        planned.update(range(off // chunk, (off + ln - 1) // chunk + 1))
log = [int(l.split()[1]) for l in open(sys.argv[2])]
# mount read some chunks before hydrate ran: warm, they were not fetched again.
order = log[int(sys.argv[5]):]
model = {int(x) for x in open(sys.argv[3])}
last_model = max(i for i, c in enumerate(order) if c in model)
first_other = min([i for i, c in enumerate(order) if c not in model] or [len(order)])
print(plan["bytes"], len(set(order) - planned), len((planned & data) - set(log)),
      "ok" if last_model < first_other else "mixed")
PY
read -r plan_bytes outside missed order <"$tmp/fs-verdict"
is "ext4: it hydrated what the plan says" "$(json_get "$tmp/fs.json" bytes)" "$plan_bytes"
ok "ext4: --used left out some space ($plan_bytes of $((128 << 20)))" \
	[ "$plan_bytes" -lt $((128 << 20)) ]
is "ext4: no chunk outside the plan was fetched (free space, probe included)" "$outside" 0
is "ext4: every chunk of the plan was fetched" "$missed" 0
is "ext4: every model chunk was fetched before any other" "$order" ok
ok "ext4: it says the priority files were read" grep -q "priority files read" "$tmp/fs.err"
umount "$mnt"
simvol_stop
is "the file system image is unchanged" "$(sha256sum <"$fs")" "$fs_before"
tap_done
