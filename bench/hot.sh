# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# hot.sh - the engine's ceiling: a loop device over a file in page cache (an
# ext4 file or one in /dev/shm), blkhydrate against fio's io_uring engine at
# its best setting of a small grid. Every tool gets the same backing, the
# same untimed warm-up run before each setting, and the same clock: bytes
# over the wall time of the process, median of BENCH_REPEAT runs.

hot_dev='' hot_back='' hot_bytes=''

hot_attach() {
	local dev

	loop_attach -r --direct-io=off "$1" || die "losetup over $1 failed"
	hot_dev=$dev hot_back=$1
}

hot_detach() {
	[ -z "$hot_dev" ] || loop_detach "$hot_dev"
	hot_dev=''
}

# hot_cmd KIND ARGS...: the command of one hot run, in hot_cmd_out.
hot_cmd() {
	local kind=$1

	shift
	case $kind in
	fio) hot_cmd_out=(fio --name=hot --filename="$hot_dev" --rw=read --ioengine=io_uring
			  --direct=1 --readonly --output-format=json "$@") ;;
	blkhydrate) hot_cmd_out=("$BLKHYDRATE" hydrate --json --progress=never "$@" "$hot_dev") ;;
	esac
}

# hot_runs KIND ARGS...: one warm-up run, then BENCH_REPEAT timed runs on
# $hot_dev; sets h_med (median MiB/s by the wall clock), h_own (median of
# the tool's own MiB/s) and h_all (every wall-clock value). 1 on failure.
h_med='' h_own='' h_all=''
hot_runs() {
	local kind=$1 base=$work/hot i why
	local -a vals=() own=()

	shift
	hot_cmd "$kind" "$@"
	timed "$base" "${hot_cmd_out[@]}"	# warm-up, the same for every tool
	check_run "hot $kind $* (warm-up)" "$kind" "$base" "$hot_bytes" || return 1
	if ! why=$(resident "$hot_back"); then
		fail "hot $kind $*: backing not in memory after the warm-up: $why"
		return 1
	fi
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		timed "$base" "${hot_cmd_out[@]}"
		check_run "hot $kind $*" "$kind" "$base" "$hot_bytes" || return 1
		vals+=("$(awk -v b="$hot_bytes" -v s="$r_wall" 'BEGIN { printf "%.0f", b / 1048576 / s }')")
		case $kind in
		fio) own+=("$(awk -v b="$(json_val "$base.out" bw_bytes)" 'BEGIN { printf "%.0f", b / 1048576 }')") ;;
		blkhydrate) own+=("$(awk -v b="$(json_val "$base.out" throughput_mib_s)" 'BEGIN { printf "%.0f", b }')") ;;
		esac
	done
	h_med=$(median "${vals[@]}")
	h_own=$(median "${own[@]}")
	h_all="${vals[*]}"
}

# hot_probe FILE: fio (bs=1M iodepth=32) and blkhydrate's defaults over
# FILE; sets probe_f and probe_b, MiB/s (0 for a failed run).
probe_f='' probe_b=''
hot_probe() {
	probe_f=0 probe_b=0
	hot_attach "$1"
	hot_runs fio --bs=1M --iodepth=32 && probe_f=$h_med
	hot_runs blkhydrate && probe_b=$h_med
	hot_detach
}

hot_row() {
	printf '%-46s| %8s | %8s | %s\n' "$@"
}

section_hot() {
	local hot_file=$work/hot.img backing=$BENCH_HOT_BACKING why reg bs qd label s
	local pf_f pf_b ps_f ps_b best_fio=0 best_fio_label='' best_fio_bs='' best_fio_qd=''
	local bh_def=0 bh_def_own=0 bh_best=0 bh_best_own=0 bh_best_label='' best_fio_own=0
	local -a extra bh_settings
	local -A seen=()

	section_begin "Hot runs: the engine's ceiling on a $BENCH_HOT_SIZE loop device over a file in page cache"
	make_image "$hot_file" "$BENCH_HOT_SIZE" full
	hot_bytes=$(stat -c %s "$hot_file")
	prime "$hot_file"
	why=$(resident "$hot_file") || die "hot: $why"
	if [ "$backing" != file ]; then
		shm_file=$(mktemp /dev/shm/blkhydrate-bench.XXXXXX) || die "mktemp in /dev/shm failed"
		cp "$hot_file" "$shm_file" || die "cannot copy to $shm_file"
	fi
	if [ "$backing" = auto ]; then
		# Both tools on each candidate; the backing with the larger sum wins.
		hot_probe "$hot_file"
		pf_f=$probe_f pf_b=$probe_b
		hot_probe "$shm_file"
		ps_f=$probe_f ps_b=$probe_b
		backing='file'
		[ $((ps_f + ps_b)) -le $((pf_f + pf_b)) ] || backing=shm
		echo "Backing probe (median MiB/s, fio bs=1M iodepth=32 / blkhydrate defaults):" \
		     "ext4 file in page cache $pf_f / $pf_b, /dev/shm $ps_f / $ps_b -> $backing"
	fi
	if [ "$backing" = shm ]; then
		rm -f "$hot_file"
		hot_attach "$shm_file"
	else
		[ -z "$shm_file" ] || { rm -f "$shm_file"; shm_file=; }
		hot_attach "$hot_file"
	fi
	echo "Device: $hot_dev, losetup -r --direct-io=off over $hot_back"
	echo "fio:        fio --name=hot --filename=\$DEV --rw=read --ioengine=io_uring --direct=1 --readonly --bs=BS --iodepth=QD [--fixedbufs --registerfiles]"
	echo "blkhydrate: blkhydrate hydrate --json --progress=never [OPTIONS] \$DEV"
	echo "MiB/s: bytes / wall time of the process (start-up included, the same clock for"
	echo "every tool), median of $BENCH_REPEAT runs after one untimed warm-up run of the same"
	echo "command; own: the tool's own figure (setup excluded), median."
	echo
	hot_row setting "MiB/s" "own" "runs"
	printf '%s\n' "----------------------------------------------+----------+----------+------------------"
	for reg in 0 1; do
		for bs in 128K 512K 1M; do
			for qd in 8 32 64; do
				extra=()
				label="fio bs=$bs iodepth=$qd"
				if [ "$reg" = 1 ]; then
					extra=(--fixedbufs --registerfiles)
					label="$label fixedbufs+registerfiles"
				fi
				hot_runs fio --bs="$bs" --iodepth="$qd" "${extra[@]}" || continue
				hot_row "$label" "$h_med" "$h_own" "$h_all"
				if [ "$h_med" -gt "$best_fio" ]; then
					best_fio=$h_med best_fio_own=$h_own best_fio_label=$label
					best_fio_bs=$bs best_fio_qd=$qd
				fi
			done
		done
	done
	printf '%s\n' "----------------------------------------------+----------+----------+------------------"
	bh_settings=("" "-s 1" "-d 32 -b 1M -s 1")
	[ -z "$best_fio_bs" ] || bh_settings+=("-d $best_fio_qd -b $best_fio_bs -s 1")
	for s in "${bh_settings[@]}"; do
		[ -z "${seen["x$s"]:-}" ] || continue
		seen["x$s"]=1
		label="blkhydrate ${s:-(defaults: -d auto -b 512K -s 4)}"
		# shellcheck disable=SC2086 # word splitting of the options is wanted
		hot_runs blkhydrate $s || continue
		hot_row "$label" "$h_med" "$h_own" "$h_all"
		[ -n "$s" ] || bh_def=$h_med bh_def_own=$h_own
		if [ "$h_med" -gt "$bh_best" ]; then
			bh_best=$h_med bh_best_own=$h_own bh_best_label=$label
		fi
	done
	echo
	if [ "$best_fio" -gt 0 ]; then
		printf '    %-56s %7s %6s %7s\n' "hot device ($backing backing)" "MiB/s" "of fio" "own"
		printf '    %-56s %7s %6s %7s\n' "fio best: ${best_fio_label#fio }" "$best_fio" 100% "$best_fio_own"
		awk -v d="$bh_def" -v b="$bh_best" -v f="$best_fio" -v l="$bh_best_label" \
		    -v od="$bh_def_own" -v bo="$bh_best_own" 'BEGIN {
			printf "    %-56s %7d %5.0f%% %7d\n", "blkhydrate defaults", d, 100 * d / f, od
			sub(/^blkhydrate /, "", l)
			printf "    %-56s %7d %5.0f%% %7d\n", "blkhydrate best: " l, b, 100 * b / f, bo }'
	fi
	hot_detach
	[ -z "$shm_file" ] || { rm -f "$shm_file"; shm_file=; }
	rm -f "$hot_file"
	section_end hot
}
