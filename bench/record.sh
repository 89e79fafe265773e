#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# record.sh - a recorded start replayed. One ext4 volume holding a few
# hundred small "system" files scattered over the disk among bulk files, and
# a model written last. A simulated boot reads the small files, then the
# model (cat of each, in order). First the boot runs on a cold volume while
# "blkhydrate record --save" watches; then, each on a fresh volume, the same
# boot started together with: blkhydrate hydrate (it finds the recording by
# the file system's UUID and reads it first), blkhydrate without the
# recording (--recorded off), AWS's fio and dd whole-device commands (device
# order). Which chunks the boot needs comes from filefrag of the files it
# reads, not from the recording; the simulator's limit for those chunks is
# the bar: the replayed start must have them all warm within 1.10x of it,
# and the boot must finish at least 3x sooner than beside a whole-volume
# read in device order.
#
# Run as a section of bench.sh (bench/bench.sh --only record), or alone:
# bench/record.sh [BUILD_DIR] does just that.
#
# Knobs: BENCH_REC_SIZE=2G (volume), BENCH_REC_FILES=300 (small files,
# 16 to 128 KiB each), BENCH_REC_MODEL=256M (two files); the simulator's
# knobs are bench.sh's.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	exec "$(dirname "$0")/bench.sh" --only record "$@"
fi

rec_img='' rec_mnt='' rec_files=() rec_t0='' rec_chunks=0

rec_mount() {
	mount -o ro,noload "$SIMVOL_DEV" "$rec_mnt" || return 1
	rec_t0=$(stat_val "$SIMVOL_MNT/stats" elapsed_us)
}

# rec_build: the image, the list of files the boot reads, their chunks.
rec_build() {
	local dev i j n size model_mib chunk

	rec_img=$work/rec.img
	rec_mnt=$work/rec.mnt
	prio_mnt=$rec_mnt	# bench_cleanup unmounts it
	mkdir -p "$rec_mnt"
	make_image "$rec_img" "$BENCH_REC_SIZE" full
	mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0 "$rec_img" || die "mkfs.ext4 failed"
	loop_attach "$rec_img" || die "losetup failed"
	mount "$dev" "$rec_mnt" || die "cannot mount the record volume"
	mkdir -p "$rec_mnt/usr/lib" "$rec_mnt/opt/models"
	# Bulk files with the small ones between them, so that the boot's files
	# lie all over the disk, as a system's do after its packages were installed.
	n=$BENCH_REC_FILES
	size=$(($(df -B1M --output=avail "$rec_mnt" | tail -n 1) * 60 / 100))
	for ((i = 0; i < n; i++)); do
		if [ $((i % (n / 16 + 1))) = 0 ]; then
			j=$((i / (n / 16 + 1)))
			dd if="$random_src" of="$rec_mnt/usr/bulk-$j.bin" bs=1M count=$((size / 17)) \
			   status=none || die "cannot write bulk files"
			sync
		fi
		head -c $(((16 + (i * 37) % 112) * 1024)) /dev/urandom >"$rec_mnt/usr/lib/sys-$i.so" ||
			die "cannot write system files"
		rec_files+=("$rec_mnt/usr/lib/sys-$i.so")
	done
	sync
	model_mib=$(($(numfmt --from=iec "$BENCH_REC_MODEL") / MiB))
	for i in 1 2; do
		dd if=/dev/urandom of="$rec_mnt/opt/models/weights-$i.safetensors" bs=1M \
		   count=$((model_mib / 2)) status=none || die "cannot write the model"
		rec_files+=("$rec_mnt/opt/models/weights-$i.safetensors")
	done
	sync
	chunk=$(numfmt --from=iec "$BENCH_CHUNK_SIZE")
	prio_extent_chunks "$chunk" "${rec_files[@]}" >"$work/rec.boot-chunks" || die "filefrag failed"
	umount "$rec_mnt"
	loop_detach "$dev"
	rec_chunks=$(wc -l <"$work/rec.boot-chunks")
	[ "$rec_chunks" -gt 0 ] || die "filefrag found no extents of the boot's files"
	rec_chunk=$chunk
}

# rec_boot_warm OUTBASE WHAT: seconds from the run's start until every chunk
# of the boot's files was warm (rec_warm), and how many the run fetched.
rec_boot_warm() {
	local missing

	read -r rec_warm missing < <(chunks_warm "$work/rec.boot-chunks" "$1.chunks" "$rec_t0")
	[ "$missing" = 0 ] || fail "$2: $missing of $rec_chunks boot chunks (filefrag) never fetched"
}

# rec_run NAME HYDRATOR...: the boot and the hydrator started together on a
# fresh volume (@DEV@: its device); no hydrator: the boot alone, recorded.
rec_run() {
	local name=$1 base=$work/rec.$1 a
	local -a cmd=()

	shift
	rec_boot=- rec_warm=- rec_hwall=- rec_allwarm=-
	sim_fresh "record $name" "$rec_img" "${sim_opts[@]}" || return 1
	rec_mount || { fail "record $name: cannot mount"; simvol_stop; return 1; }
	for a; do cmd+=("${a//@DEV@/$SIMVOL_DEV}"); done
	if [ $# = 0 ]; then
		"$BLKHYDRATE" record --save "$SIMVOL_DEV" >"$base.rec.out" 2>"$base.rec.err" &
		a=$!
		for ((i = 0; i < 200; i++)); do
			grep -qs "recording opens" "$base.rec.err" && break
			sleep 0.05
		done
	else
		timed_bg "$base.h" "${cmd[@]}"
	fi
	# shellcheck disable=SC2016 # the boot's own script
	timed "$base.r" sh -c 'for f; do cat "$f" >/dev/null || exit 1; done' boot "${rec_files[@]}"
	rec_boot=$r_wall
	[ "$r_rc" = 0 ] || fail "record $name: the boot failed: $(tail -n 2 "$base.r.err" | tr '\n' ' ')"
	if [ $# = 0 ]; then
		kill -INT "$a"
		wait "$a" || fail "record $name: record exited with status $?: $(tail -n 2 "$base.rec.err")"
	else
		timed_wait "$base.h"
		[ "$r_rc" = 0 ] || fail "record $name: $1 exited with status $r_rc"
		rec_hwall=$r_wall
	fi
	umount "$rec_mnt"
	sim_end "$base"
	rec_boot_warm "$base" "record $name"
	rec_allwarm=$(warm_of "$base.stats")
}

section_record() {
	local bw lim_bw lim_pool limit saved b_alone w_alone b_rep w_rep h_rep a_rep
	local b_off w_off h_off a_off b_fio w_fio h_fio a_fio b_dd w_dd h_dd a_dd pri_s

	BENCH_REC_SIZE=${BENCH_REC_SIZE:-2G}
	BENCH_REC_FILES=${BENCH_REC_FILES:-300}
	BENCH_REC_MODEL=${BENCH_REC_MODEL:-256M}
	section_begin "Recorded start: a $BENCH_REC_SIZE ext4 volume, a boot reading $BENCH_REC_FILES small files, then a $BENCH_REC_MODEL model"
	export BLKHYDRATE_STATE_DIR=$work/rec.state BLKHYDRATE_LOCK_DIR=$work/rec.lock
	export BLKHYDRATE_RUN_DIR=$work/rec.run BLKHYDRATE_CONFIG=$work/rec.conf
	: >"$BLKHYDRATE_CONFIG"
	rec_build
	bw=$(numfmt --from=iec "$BENCH_BANDWIDTH")
	read -r lim_bw lim_pool < <(awk -v n="$rec_chunks" -v cs="$rec_chunk" -v bw="$bw" \
		-v c="$BENCH_CONCURRENCY" -v l="$BENCH_LATENCY" 'BEGIN {
		printf "%.3f %.3f\n", (bw > 0 ? n * cs / bw : 0), int((n + c - 1) / c) * l / 1000 }')
	limit=$(awk -v a="$lim_bw" -v b="$lim_pool" 'BEGIN { print (a > b ? a : b) }')
	echo "The boot's files (filefrag -e): $rec_chunks chunks of $((rec_chunk / 1024)) KiB"
	echo "Simulator limit for them: max($rec_chunks x $((rec_chunk / 1024)) KiB / bandwidth = $lim_bw s, fetch pool $lim_pool s)"
	echo

	rec_run alone
	b_alone=$rec_boot w_alone=$rec_warm
	saved=$(grep -o 'saved the plan for UUID [^ ]* ([0-9]* files)' "$work/rec.alone.rec.err")
	[ -n "$saved" ] || fail "record: nothing saved: $(tail -n 3 "$work/rec.alone.rec.err" | tr '\n' ' ')"
	echo "record --save: ${saved:-nothing saved}; $(grep -o 'recorded: .*opened' "$work/rec.alone.rec.out")"
	# What the recording holds of the boot's chunks (filefrag): pages the
	# machine evicted before record saw them are missing, and read late.
	awk -v cs="$rec_chunk" 'FNR == NR { want[$1] = 1; n++; next }
		/^(class|recorded)=/ { rec = /^recorded=/ } rec && /^extent=/ {
			split(substr($0, 8), e, "+")
			for (c = int(e[1] / cs); c <= int((e[1] + e[2] - 1) / cs); c++) if (c in want) got[c] = 1 }
		END { k = 0; for (c in got) k++; printf "the recording covers %d of the boot'"'"'s %d chunks\n", k, n }' \
		"$work/rec.boot-chunks" "$BLKHYDRATE_STATE_DIR"/plans/*.plan
	rec_run replay "$BLKHYDRATE" hydrate --json --progress=never @DEV@
	b_rep=$rec_boot w_rep=$rec_warm h_rep=$rec_hwall a_rep=$rec_allwarm
	pri_s=$(json_val "$work/rec.replay.h.out" priority_seconds)
	rec_run off "$BLKHYDRATE" hydrate --json --progress=never --recorded off @DEV@
	b_off=$rec_boot w_off=$rec_warm h_off=$rec_hwall a_off=$rec_allwarm
	rec_run fio fio --name=read_test --filename=@DEV@ --rw=read --bs=1M \
		--ioengine=libaio --iodepth=32 --direct=1 --readonly --output-format=json
	b_fio=$rec_boot w_fio=$rec_warm h_fio=$rec_hwall a_fio=$rec_allwarm
	rec_run dd dd if=@DEV@ of=/dev/null bs=1M
	b_dd=$rec_boot w_dd=$rec_warm h_dd=$rec_hwall a_dd=$rec_allwarm
	for s in replay off fio dd; do
		[ ! -f "$work/rec.$s.stats" ] || sim_check_whole "record $s" "$work/rec.$s.stats"
	done

	printf '    %-38s %9s %12s %11s %12s\n' run "boot s" "boot warm s" "hydrator s" "chunks warm"
	prio_line "boot alone, recorded (cold volume)" "$b_alone" "$w_alone" - -
	prio_line "boot + blkhydrate, the recording first" "$b_rep" "$w_rep" "$h_rep" "$a_rep"
	prio_line "boot + blkhydrate --recorded off" "$b_off" "$w_off" "$h_off" "$a_off"
	prio_line "boot + AWS fio (device order)" "$b_fio" "$w_fio" "$h_fio" "$a_fio"
	prio_line "boot + AWS dd bs=1M (device order)" "$b_dd" "$w_dd" "$h_dd" "$a_dd"
	echo "(boot warm: from the run's start until the last chunk of the boot's files, as"
	echo " filefrag places them, was fetched; times by the bench's clock)"
	echo
	case "$b_alone $b_rep $w_rep $b_fio $b_dd" in
	*-*) echo "(no ratios: a run failed)"; rm -f "$rec_img"; section_end record; return ;;
	esac
	awk -v l="$limit" -v w="$w_rep" -v b="$b_rep" -v p="${pri_s:-0}" -v bf="$b_fio" -v bd="$b_dd" \
	    -v wf="$w_fio" -v wd="$w_dd" -v ba="$b_alone" -v bo="$b_off" 'BEGIN {
		dev = bf < bd ? bf : bd
		printf "Simulator limit for the boot'"'"'s bytes:               %.2f s\n", l
		printf "replayed: every boot chunk warm after           %.2f s = %.2fx the limit (target <= 1.10x; priority_seconds %.2f) %s\n", w, w / l, p, (w / l <= 1.10 ? "ok" : "MISSED")
		printf "replayed: boot finished after                   %.2f s = %.2fx the limit\n", b, b / l
		printf "device order: boot finished after               fio %.2f s, dd %.2f s (boot warm %.2f s, %.2f s)\n", bf, bd, wf, wd
		printf "replayed boot vs the faster device-order boot:  %.2fx sooner (target >= 3x) %s\n", dev / b, (dev / b >= 3 ? "ok" : "MISSED")
		printf "without the recording (--recorded off): boot %.2f s; boot alone %.2f s\n", bo, ba }'
	awk -v l="$limit" -v w="$w_rep" 'BEGIN { exit !(w / l <= 1.10) }' ||
		fail "record: the replayed start took more than 1.10x the limit"
	awk -v b="$b_rep" -v f="$b_fio" -v d="$b_dd" 'BEGIN { exit !((f < d ? f : d) / b >= 3) }' ||
		fail "record: the replayed boot was not 3x sooner than in device order"
	rm -f "$rec_img"
	section_end record
}
