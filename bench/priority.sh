# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# priority.sh - model files first. One ext4 volume, the model written last
# so that it lies late on the disk, part of the file system free (holding
# old data, so that the snapshot has it). A plain reader (cat of each model
# file) started with fio's whole-device command, then with blkhydrate
# --priority; the reader alone; blkhydrate whole and --used. Each run on a
# fresh simulated volume, primed and mounted read-only like the cold runs.
# Where the model lies comes from filefrag (FIEMAP through e2fsprogs), the
# used share from dumpe2fs: never from blkhydrate's own plan.

prio_img='' prio_t0='' prio_models=() model_chunks=0

prio_mount() {
	mount -o ro,noload "$SIMVOL_DEV" "$prio_mnt" || return 1
	# The simulator's clock when the run starts: fetch times are relative to it.
	prio_t0=$(stat_val "$SIMVOL_MNT/stats" elapsed_us)
}

prio_unmount() {
	umount "$prio_mnt"
	sim_end "$1"
}

# prio_extent_chunks CHUNK FILE...: the chunks holding the files' data, from
# filefrag -e in 4 KiB units (unwritten extents read as zeros: no fetch).
prio_extent_chunks() {
	local chunk=$1

	shift
	filefrag -e -b4096 "$@" | awk -v cs="$chunk" '
		/^ *[0-9]+: / && $0 !~ /unwritten/ {
			gsub(/\.\./, " "); gsub(/:/, " ")
			off = $4 * 4096; len = $6 * 4096
			for (c = int(off / cs); c <= int((off + len - 1) / cs); c++) seen[c] = 1
		}
		END { for (c in seen) print c }' | sort -n
}

# prio_build: the image, the model's chunks and the used share. The model is
# PRIO_NAMES (default weights-1 weights-2), each NAME.safetensors, written
# in that order, BENCH_PRIO_MODEL split evenly between them.
prio_build() {
	local dev avail model_mib sys_mib i m chunk bsize count free
	local -a names

	prio_img=$work/prio.img
	prio_mnt=$work/prio.mnt
	mkdir -p "$prio_mnt"
	make_image "$prio_img" "$BENCH_PRIO_SIZE" full	# free space holds old data
	mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0 "$prio_img" || die "mkfs.ext4 failed"
	loop_attach "$prio_img" || die "losetup failed"
	mount "$dev" "$prio_mnt" || die "cannot mount the priority volume"
	mkdir -p "$prio_mnt/usr" "$prio_mnt/opt/models"
	avail=$(df -B1M --output=avail "$prio_mnt" | tail -n 1)
	model_mib=$(($(numfmt --from=iec "$BENCH_PRIO_MODEL") / MiB))
	sys_mib=$((avail * (100 - BENCH_PRIO_FREE) / 100 - model_mib))
	[ "$sys_mib" -gt 0 ] || die "BENCH_PRIO_MODEL leaves no room for system files"
	for ((i = 0; i * 64 < sys_mib; i++)); do
		cp "$random_src" "$prio_mnt/usr/system-$i.bin" || die "cannot write system files"
	done
	sync
	read -r -a names <<<"${PRIO_NAMES:-weights-1 weights-2}"
	prio_models=()
	for m in "${names[@]}"; do
		dd if=/dev/urandom of="$prio_mnt/opt/models/$m.safetensors" bs=1M \
		   count=$((model_mib / ${#names[@]})) status=none || die "cannot write the model"
		prio_models+=("$prio_mnt/opt/models/$m.safetensors")
	done
	sync
	chunk=$(numfmt --from=iec "$BENCH_CHUNK_SIZE")
	prio_extent_chunks "$chunk" "$prio_mnt"/opt/models/*.safetensors >"$work/prio.model-chunks" ||
		die "filefrag failed"
	umount "$prio_mnt"
	loop_detach "$dev"
	model_chunks=$(wc -l <"$work/prio.model-chunks")
	[ "$model_chunks" -gt 0 ] || die "filefrag found no extents of the model"
	prio_dev_bytes=$(stat -c %s "$prio_img")
	read -r bsize count free < <(dumpe2fs -h "$prio_img" 2>/dev/null | awk -F': *' '
		/^Block size/ { s = $2 } /^Block count/ { c = $2 } /^Free blocks/ { f = $2 }
		END { print s, c, f }')
	used_bytes=$(((count - free) * bsize))
	prio_chunk=$chunk
}

# prio_model_warm OUTBASE WHAT: seconds from the run's start until every
# model chunk was warm; a model chunk the run never fetched is a failure
# (the reader reads all of the model: the oracle would be wrong).
prio_model_warm() {
	local missing

	read -r p_warm missing < <(chunks_warm "$work/prio.model-chunks" "$1.chunks" "$prio_t0")
	[ "$missing" = 0 ] || fail "$2: $missing of $model_chunks model chunks (filefrag) never fetched"
}

# prio_run NAME HYDRATOR...: the hydrator and the reader started together;
# @DEV@ in the hydrator's arguments stands for the fresh simulated device.
# Sets p_reader, p_warm, p_hwall, p_allwarm and p_cpu (the hydrator's).
prio_run() {
	local name=$1 base=$work/prio.$1 a
	local -a cmd=()

	shift
	p_reader=- p_warm=- p_hwall=- p_allwarm=- p_cpu=-
	sim_fresh "prio $name" "$prio_img" "${sim_opts[@]}" || return 1
	prio_mount || { fail "prio $name: cannot mount"; simvol_stop; return 1; }
	for a; do cmd+=("${a//@DEV@/$SIMVOL_DEV}"); done
	[ $# = 0 ] || timed_bg "$base.h" "${cmd[@]}"
	# shellcheck disable=SC2016 # the reader's own script
	timed "$base.r" sh -c 'for f; do cat "$f" >/dev/null || exit 1; done' reader "${prio_models[@]}"
	p_reader=$r_wall
	[ "$r_rc" = 0 ] || fail "prio $name: the reader failed: $(tail -n 2 "$base.r.err" | tr '\n' ' ')"
	p_hwall=-
	if [ $# -gt 0 ]; then
		timed_wait "$base.h"
		[ "$r_rc" = 0 ] || fail "prio $name: $1 exited with status $r_rc"
		# shellcheck disable=SC2034 # p_cpu: read by reader-grid.sh
		p_hwall=$r_wall p_cpu=$r_cpu
	fi
	# A caller's look at the volume after the run, still mounted (prio_after NAME).
	[ -z "${prio_after:-}" ] || "$prio_after" "$name" || fail "prio $name: $prio_after failed"
	prio_unmount "$base"
	prio_model_warm "$base" "prio $name"
	p_allwarm=$(warm_of "$base.stats")
}

# prio_whole NAME OPTS...: blkhydrate alone, no reader.
prio_whole() {
	local base=$work/prio.$1

	p_hwall=-
	sim_fresh "prio $1" "$prio_img" "${sim_opts[@]}" || return 1
	prio_mount || { fail "prio $1: cannot mount"; simvol_stop; return 1; }
	timed "$base" "$BLKHYDRATE" hydrate --json --progress=never "${@:2}" "$SIMVOL_DEV"
	[ "$r_rc" = 0 ] || fail "prio $1: exit status $r_rc"
	prio_unmount "$base"
	p_hwall=$r_wall
}

# prio_line LABEL READER_S MODEL_WARM_S HYDRATOR_S CHUNKS_WARM ("-": none)
prio_line() {
	local label=$1 v
	local -a f=()

	shift
	for v in "$1" "$2" "$3"; do
		[ "$v" = - ] && f+=(-) || f+=("$(printf '%.2f' "$v")")
	done
	printf '    %-38s %9s %12s %11s %12s\n' "$label" "${f[@]}" "$4"
}

section_priority() {
	local pattern first lim_bw lim_pool model_limit bw pri_s bh_used
	local r_alone w_alone r_fio w_fio h_fio a_fio r_bh w_bh h_bh a_bh h_whole h_used

	section_begin "Model first: a $BENCH_PRIO_SIZE ext4 volume, a $BENCH_PRIO_MODEL model written last, $BENCH_PRIO_FREE% free"
	prio_build
	pattern="$prio_mnt/opt/models/*.safetensors"
	first=$(head -n 1 "$work/prio.model-chunks")
	bw=$(numfmt --from=iec "$BENCH_BANDWIDTH")
	read -r lim_bw lim_pool < <(awk -v n="$model_chunks" -v cs="$prio_chunk" -v bw="$bw" \
		-v c="$BENCH_CONCURRENCY" -v l="$BENCH_LATENCY" 'BEGIN {
		printf "%.3f %.3f\n", (bw > 0 ? n * cs / bw : 0), int((n + c - 1) / c) * l / 1000 }')
	model_limit=$(awk -v a="$lim_bw" -v b="$lim_pool" 'BEGIN { print (a > b ? a : b) }')
	awk -v n="$model_chunks" -v f="$first" -v c="$prio_chunk" -v d="$prio_dev_bytes" \
	    -v u="$used_bytes" -v a="$lim_bw" -v p="$lim_pool" 'BEGIN {
		printf "Model (filefrag -e): %d chunks of %d KiB, the first at %.0f%% of the device\n",
		       n, c / 1024, 100 * f * c / d
		printf "Used space (dumpe2fs): %.2f GiB of %.2f GiB (%.0f%%)\n", u / 2^30, d / 2^30, 100 * u / d
		printf "Simulator limit for the model: max(%d x %d KiB / bandwidth = %.2f s, fetch pool %.2f s)\n",
		       n, c / 1024, a, p }'
	echo

	prio_run alone
	r_alone=$p_reader w_alone=$p_warm
	prio_run fio fio --name=read_test --filename=@DEV@ --rw=read --bs=1M \
		--ioengine=libaio --iodepth=32 --direct=1 --readonly --output-format=json
	r_fio=$p_reader w_fio=$p_warm h_fio=$p_hwall a_fio=$p_allwarm
	prio_run blkhydrate "$BLKHYDRATE" hydrate --json --progress=never -p "$pattern" @DEV@
	r_bh=$p_reader w_bh=$p_warm h_bh=$p_hwall a_bh=$p_allwarm
	pri_s=$(json_val "$work/prio.blkhydrate.h.out" priority_seconds)
	[ "$(json_val "$work/prio.blkhydrate.h.out" complete)" = true ] ||
		fail "prio blkhydrate: not complete"
	[ ! -f "$work/prio.blkhydrate.stats" ] ||
		sim_check_whole "prio blkhydrate" "$work/prio.blkhydrate.stats"
	[ ! -f "$work/prio.fio.stats" ] || sim_check_whole "prio fio" "$work/prio.fio.stats"
	prio_whole whole && sim_check_whole "prio whole" "$work/prio.whole.stats"
	h_whole=$p_hwall
	prio_whole used --used
	h_used=$p_hwall
	[ "$(json_val "$work/prio.used.out" mode)" = used ] || fail "prio --used: not in used mode"
	bh_used=$(json_val "$work/prio.used.out" bytes)

	printf '    %-38s %9s %12s %11s %12s\n' run "reader s" "model warm s" "hydrator s" "chunks warm"
	prio_line "reader alone (cat of each model file)" "$r_alone" "$w_alone" - -
	prio_line "reader + AWS fio whole-device command" "$r_fio" "$w_fio" "$h_fio" "$a_fio"
	prio_line "reader + blkhydrate -p MODEL" "$r_bh" "$w_bh" "$h_bh" "$a_bh"
	prio_line "blkhydrate whole device (no reader)" - - "$h_whole" "$(warm_of "$work/prio.whole.stats")"
	prio_line "blkhydrate --used (no reader)" - - "$h_used" "$(warm_of "$work/prio.used.stats")"
	echo "(model warm: from the run's start until the last model chunk, as filefrag"
	echo " places them, was fetched; times by the bench's clock)"
	echo
	case "$r_alone $r_fio $r_bh $w_bh $h_bh $h_fio $h_whole $h_used" in
	*-*) echo "(no ratios: a run failed)"; rm -f "$prio_img"; section_end priority; return ;;
	esac
	awk -v l="$model_limit" -v w="$w_bh" -v r="$r_bh" -v ra="$r_alone" -v rf="$r_fio" \
	    -v p="${pri_s:-0}" -v hb="$h_bh" -v hf="$h_fio" -v hw="$h_whole" -v hu="$h_used" \
	    -v u="$used_bytes" -v bu="${bh_used:-0}" -v d="$prio_dev_bytes" 'BEGIN {
		printf "Simulator limit for the model bytes:         %.2f s\n", l
		printf "blkhydrate: every model chunk warm after      %.2f s = %.2fx the limit (target <= 1.10x; priority_seconds %.2f)\n", w, w / l, p
		printf "reader beside blkhydrate finished after       %.2f s = %.2fx the limit (target <= 1.25x)\n", r, r / l
		printf "reader beside fio finished after              %.2f s = %.2fx the limit\n", rf, rf / l
		printf "reader alone finished after                   %.2f s = %.2fx the limit\n", ra, ra / l
		printf "whole volume: blkhydrate %.2f s vs fio %.2f s = %.2fx (target <= 1.00x)\n", hb, hf, hb / hf
		printf "--used: %.2f s vs whole %.2f s = %.2f; used share %.2f (dumpe2fs), --used read %.2f GiB of %.2f GiB used\n",
		       hu, hw, hu / hw, u / d, bu / 2^30, u / 2^30 }'
	rm -f "$prio_img"
	section_end priority
}
