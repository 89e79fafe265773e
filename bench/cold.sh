# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# cold.sh - each tool on a fresh lazysim volume (every chunk cold): AWS's
# dd, AWS's fio, blkhydrate with its defaults. Wall time, CPU, peak RSS,
# and the simulator's counters to show every data chunk was fetched once.

cold_tools=(dd fio blkhydrate)
declare -A cold_label cold_wall cold_own cold_cpu cold_rss cold_warm cold_infl cold_ok
cold_label[dd]="dd bs=1M (AWS)"
cold_label[fio]="fio iodepth=32 libaio (AWS)"
cold_label[blkhydrate]="blkhydrate (defaults)"

# cold_argv TOOL DEV: the command of TOOL on DEV, in cold_argv_out.
cold_argv() {
	case $1 in
	dd) cold_argv_out=(dd if="$2" of=/dev/null bs=1M) ;;
	fio) cold_argv_out=(fio --name=read_test --filename="$2" --rw=read --bs=1M --ioengine=libaio
			    --iodepth=32 --direct=1 --readonly --output-format=json) ;;
	blkhydrate) cold_argv_out=("$BLKHYDRATE" hydrate --json --progress=never "$2") ;;
	esac
}

# cold_one TOOL IMAGE BYTES: run TOOL on a fresh simulated volume.
cold_one() {
	local tool=$1 img=$2 want=$3 base=$work/cold.$1

	sim_fresh "cold $tool" "$img" "${sim_opts[@]}" || return
	cold_argv "$tool" "$SIMVOL_DEV"
	timed "$base" "${cold_argv_out[@]}"
	sim_end "$base"
	cold_wall[$tool]=$r_wall cold_cpu[$tool]=$r_cpu cold_rss[$tool]=$r_rss
	cold_warm[$tool]="$(stat_val "$base.stats" warm)/$(stat_val "$base.stats" chunks)"
	cold_infl[$tool]=$(stat_val "$base.stats" max_inflight)
	cold_own[$tool]=$(own_seconds "$tool" "$base")
	printf '  %-10s %7.2f s  CPU %5.2f s  RSS %6.1f MiB  %s\n' "$tool" \
	       "$r_wall" "$r_cpu" "$r_rss" "$(sim_stats_line "$base.stats")"
	cold_ok[$tool]=1
	check_run "cold $tool" "$tool" "$base" "$want" || cold_ok[$tool]=0
	sim_check_whole "cold $tool" "$base.stats" || cold_ok[$tool]=0
}

section_cold() {
	local img=$work/cold.img bytes data t st bw_s pool_s floor_s label

	section_begin "Cold runs: a fresh simulated volume of $BENCH_SIZE for each tool"
	echo "Commands (\$DEV is a read-only, direct-I/O loop device over lazysim; page cache"
	echo "dropped and the image read back in before each run; wall time by the bench's clock):"
	for t in "${cold_tools[@]}"; do
		# shellcheck disable=SC2016 # $DEV printed as it is
		cold_argv "$t" '$DEV'
		printf '  %-10s %s\n' "$t" "${cold_argv_out[*]/#$BLKHYDRATE/blkhydrate}"
	done
	make_image "$img" "$BENCH_SIZE"
	bytes=$(stat -c %s "$img")
	data=$(du -B1 "$img" | cut -f1)
	awk -v b="$bytes" -v d="$data" 'BEGIN {
		printf "Image: %.2f GiB, %.2f GiB of it data (%.0f%%), the rest holes\n\n",
		       b / 2^30, d / 2^30, 100 * d / b }'
	for t in "${cold_tools[@]}"; do
		cold_one "$t" "$img" "$bytes"
	done
	echo
	printf '    %-28s %7s %7s %6s %6s %6s %11s %5s\n' tool "wall s" "vs fio" "own s" \
	       "CPU s" "RSS MiB" "chunks warm" fetch
	for t in "${cold_tools[@]}"; do
		[ -n "${cold_wall[$t]:-}" ] || continue
		label=${cold_label[$t]}
		[ "${cold_ok[$t]}" = 1 ] || label="$t (FAILED)"
		printf '    %-28s %7.2f %7s %6s %6.2f %7.1f %11s %5s\n' "$label" "${cold_wall[$t]}" \
		       "$([ "${cold_ok[fio]:-0}" = 1 ] && ratio "${cold_wall[$t]}" "${cold_wall[fio]}" || echo -)" \
		       "${cold_own[$t]}" "${cold_cpu[$t]}" "${cold_rss[$t]}" "${cold_warm[$t]}" \
		       "${cold_infl[$t]}"
	done
	st=
	for t in blkhydrate fio dd; do
		[ -f "$work/cold.$t.stats" ] && { st=$work/cold.$t.stats; break; }
	done
	if [ -n "$st" ]; then
		read -r bw_s pool_s floor_s < <(sim_floor "$st")
		printf '    %-28s %7.2f\n' "simulator's limit" "$floor_s"
	fi
	echo "(vs fio: wall / fio's wall. own s: the tool's own I/O time, without process start-up:"
	echo " dd's 'copied, N s', fio's runtime, blkhydrate's seconds. fetch: most chunk fetches"
	echo " the simulator had in flight at once. simulator's limit: the larger bound below.)"
	if [ -n "$st" ]; then
		echo
		awk -v d="$(stat_val "$st" data_chunks)" -v cs="$(stat_val "$st" chunk_size)" \
		    -v bw="$(stat_val "$st" bandwidth)" -v s="$bw_s" \
		    -v c="$(stat_val "$st" concurrency)" -v l="$(stat_val "$st" latency_us)" -v p="$pool_s" 'BEGIN {
			printf "Simulator limit (limit_us): %d data chunks x %d KiB / %.0f MiB/s = %.2f s\n",
			       d, cs / 1024, bw / 1048576, s
			printf "Fetch-pool bound:           ceil(%d / %d) x %.0f ms = %.2f s", d, c, l / 1000, p
			printf " (bandwidth x latency = %.1f chunks in flight saturate the pipe)\n",
			       bw * l / 1e6 / cs }'
		if [ -n "${cold_wall[blkhydrate]:-}" ]; then
			awk -v w="${cold_wall[blkhydrate]}" -v f="$floor_s" \
			    -v j="$(json_val "$work/cold.blkhydrate.out" seconds)" 'BEGIN {
				printf "blkhydrate: %.2f s wall (%s s in its own report) = %.3fx the limit\n",
				       w, (j == "" ? "?" : j), (f > 0 ? w / f : 0) }'
		fi
	fi
	rm -f "$img"	# give its page cache back
	section_end cold
}
