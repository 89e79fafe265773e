#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: READY=1 comes when the priority files are warm, not before and
# not at the end. A notify socket stamps each message with the time it was
# sent (SO_TIMESTAMPNS), the simulator logs the time each chunk turned warm
# (--fetch-log, both CLOCK_REALTIME), and filefrag, not blkhydrate's plan,
# names the model's chunks. With -p: every model chunk was warm before
# READY=1 and most of the rest still cold. Without priority paths: READY=1
# before the first chunk was fetched. Under --wait: no READY=1 while another
# run holds the disk, then as with -p. The image's bytes never change.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
. "$top_srcdir/tests/lib/chunks.sh"
why=$(simvol_need) || skip_all "$why"
need_tools mkfs.ext4 python3 filefrag:e2fsprogs flock:util-linux
grep -q '^#define HAVE_LIBSYSTEMD 1' "$top_builddir/config.h" ||
	skip_all "built without libsystemd: no sd_notify"

simvol_workdir
listener=
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null; simvol_workdir_cleanup' EXIT
export BLKHYDRATE_LOCK_DIR=$tmp/lock BLKHYDRATE_STATE_DIR=$tmp/state
CHUNK=524288

# Random bytes first, so that every chunk is data the snapshot holds; a
# model in pieces between other files.
img=$tmp/vol.img
head -c 128M /dev/urandom >"$img"
mkfs.ext4 -q -F -E nodiscard -b 4096 "$img"
rw=$(losetup -f --show "$img")
mount "$rw" "$mnt"
mkdir "$mnt/models" "$mnt/usr"
for piece in 1 2 3; do
	head -c 4M /dev/urandom >>"$mnt/models/m.safetensors"
	head -c 12M /dev/urandom >"$mnt/usr/lib-$piece"
	sync
done
umount "$mnt"
losetup -d "$rw"
rw=
sum_before=$(sha256sum <"$img")

# 4 chunks at a time, 50 ms each: the volume's 256 chunks take over 3 s, the
# model's two dozen a third of a second.
start_vol() {
	simvol_start "$img" --latency 50 --concurrency 4 --bandwidth 0 \
		--fetch-log "$tmp/fetch.log" || return 1
	[ "${1:-}" = nomount ] || mount -o ro,noload "$SIMVOL_DEV" "$mnt"
}
stop_vol() {
	mountpoint -q "$mnt" && umount "$mnt"
	simvol_stop
}

# A notify socket at $tmp/notify: "SENT_NS MESSAGE" lines in $tmp/notify.log,
# the time the kernel stamped at send, so a slow listener does not matter.
# The listener must not inherit the simulator's lock or the test's disk lock.
listen() {
	rm -f "$tmp/notify" "$tmp/notify.up"
	: >"$tmp/notify.log"
	(
	[ -n "$SIMVOL_LOCKFD" ] && exec {SIMVOL_LOCKFD}>&-
	exec python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_TIMESTAMPNS", 35), 1)
s.bind(sys.argv[1])
open(sys.argv[1] + ".up", "w").close()
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16))
        sent = [struct.unpack("qq", d[:16]) for l, t, d in anc if l == socket.SOL_SOCKET]
        sec, ns = sent[0] if sent else (0, 0)
        log.write("%d %s\n" % (sec * 10**9 + ns, msg.decode().replace("\n", " ")))
' "$tmp/notify" "$tmp/notify.log"
	) &
	listener=$!
	wait_for [ -e "$tmp/notify.up" ]
}
unlisten() {
	kill "$listener" 2>/dev/null
	wait "$listener" 2>/dev/null
	listener=
}
heard_ready() {
	grep -q '^[0-9]* READY=1' "$tmp/notify.log"
}

# verdict [MODEL_CHUNKS_FILE]: "READYS READY_NS MODEL MODEL_WARM_BEFORE REST
# REST_FETCHED_AFTER FIRST_FETCH_NS", the first READY=1 of $tmp/notify.log
# against each chunk's first warm time.
verdict() {
	python3 - "$tmp/notify.log" "$tmp/fetch.log" "${1:-$tmp/model-chunks}" <<'PY'
import sys
ready = [int(l.split()[0]) for l in open(sys.argv[1]) if l.split()[1:2] == ["READY=1"]]
warm = {}
for line in open(sys.argv[2]):
    ts, c = (int(x) for x in line.split())
    warm.setdefault(c, ts)
model = {int(x) for x in open(sys.argv[3])}
t = ready[0] if ready else 0
before = sum(1 for c in model if c in warm and warm[c] < t)
rest = [c for c in warm if c not in model]
after = sum(1 for c in rest if warm[c] > t)
print(len(ready), t, len(model), before, len(rest), after, min(warm.values(), default=0))
PY
}

# 1. With priority files.
start_vol || skip_all "cannot start the simulator"
file_chunks "$mnt/models/m.safetensors" >"$tmp/model-chunks"
nmodel=$(wc -l <"$tmp/model-chunks")
ok "the model spans a few dozen chunks ($nmodel, by filefrag)" [ "$nmodel" -ge 20 ]
listen
NOTIFY_SOCKET=$tmp/notify "$BLKHYDRATE" hydrate --progress=never -p "$mnt/models/*.safetensors" \
	"$SIMVOL_DEV" >/dev/null 2>"$tmp/err"
is "-p: hydrate exits 0" "$?" 0
wait_for heard_ready
sed 's/^/# /' "$tmp/notify.log"
read -r nready t_ready model warm_before rest rest_after first <<<"$(verdict)"
is "-p: one READY=1" "$nready" 1
is "-p: every model chunk (filefrag) was warm before READY=1" "$warm_before" "$model"
ok "-p: at READY=1 most of the rest was still cold ($rest_after of $rest fetched after it)" \
	test "$rest" -ge 100 -a $((rest_after * 2)) -ge "$rest"
is "-p: then the whole volume is warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
unlisten
stop_vol

# 2. No priority paths: nothing to wait for, READY=1 before the first read.
start_vol nomount || skip_all "cannot restart the simulator"
listen
NOTIFY_SOCKET=$tmp/notify "$BLKHYDRATE" hydrate --progress=never "$SIMVOL_DEV" >/dev/null 2>"$tmp/err"
is "no -p: hydrate exits 0" "$?" 0
wait_for heard_ready
sed 's/^/# /' "$tmp/notify.log"
read -r nready t_ready model warm_before rest rest_after first <<<"$(verdict /dev/null)"
is "no -p: one READY=1" "$nready" 1
ok "no -p: READY=1 was sent before the first chunk was fetched ($(((first - t_ready) / 1000000)) ms)" \
	test "$t_ready" -gt 0 -a "$first" -gt "$t_ready"
is "no -p: every chunk was fetched after READY=1" "$rest_after" "$(simvol_stat data_chunks)"
ok "no -p: its STATUS= does not say priority files were read" \
	grep -q '^[0-9]* READY=1 STATUS=no priority files, reading$' "$tmp/notify.log"
unlisten
stop_vol

# 3. --wait: the disk is held (its lock taken here), so no READY=1 until it
# is released and the model read.
start_vol || skip_all "cannot restart the simulator"
listen
mkdir -p "$BLKHYDRATE_LOCK_DIR"
# The lock of a whole disk is named after its device number.
exec {lk}>>"$BLKHYDRATE_LOCK_DIR/block-$(lsblk -dno MAJ:MIN "$SIMVOL_DEV" | tr -d ' ').lock"
flock -x "$lk"
: >"$tmp/err"	# not by the job's redirection, which may come after wait_for's first look
NOTIFY_SOCKET=$tmp/notify "$BLKHYDRATE" hydrate --wait --progress=never \
	-p "$mnt/models/*.safetensors" "$SIMVOL_DEV" >/dev/null 2>"$tmp/err" {lk}>&- &
waiter=$!
ok "--wait: it waits for the disk" wait_for grep -q "waiting for pid" "$tmp/err"
fetched_then=$(wc -l <"$tmp/fetch.log")
sleep 1
ok "--wait: no READY=1 while another holds the disk" eval '! heard_ready'
is "--wait: nothing fetched while it waits" "$(wc -l <"$tmp/fetch.log")" "$fetched_then"
t_release=$(date +%s%N)
exec {lk}>&-
wait "$waiter"
is "--wait: hydrate exits 0 once the disk is free" "$?" 0
wait_for heard_ready
sed 's/^/# /' "$tmp/notify.log"
read -r nready t_ready model warm_before rest rest_after first <<<"$(verdict)"
is "--wait: one READY=1" "$nready" 1
ok "--wait: READY=1 after the disk was released ($(((t_ready - t_release) / 1000000)) ms)" \
	[ "$t_ready" -gt "$t_release" ]
is "--wait: every model chunk (filefrag) was warm before READY=1" "$warm_before" "$model"
ok "--wait: at READY=1 most of the rest was still cold ($rest_after of $rest fetched after it)" \
	test "$rest" -ge 100 -a $((rest_after * 2)) -ge "$rest"
is "--wait: then the whole volume is warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
unlisten
stop_vol
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
