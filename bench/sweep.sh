# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# sweep.sh - blkhydrate over a grid of queue depth x block size x strides,
# each setting on a fresh cold volume of BENCH_SWEEP_SIZE.

section_sweep() {
	local img=$work/sweep.img base=$work/sweep bytes qd bs sn note row floor=''
	# shellcheck disable=SC2034 # sim_drop is read by sim_fresh
	local best_w='' best_row='' sim_drop=0
	local -a rows=()

	section_begin "Sweep: blkhydrate on a fresh cold $BENCH_SWEEP_SIZE simulated volume per setting"
	echo "Command: blkhydrate hydrate --json --progress=never -d QD -b BS -s STRIDES \$DEV"
	make_image "$img" "$BENCH_SWEEP_SIZE"
	bytes=$(stat -c %s "$img")
	for qd in $BENCH_SWEEP_QD; do
		for bs in $BENCH_SWEEP_BS; do
			for sn in $BENCH_SWEEP_STRIDES; do
				sim_fresh "sweep -d $qd -b $bs -s $sn" "$img" "${sim_opts[@]}" || continue
				timed "$base" "$BLKHYDRATE" hydrate --json --progress=never \
				      -d "$qd" -b "$bs" -s "$sn" "$SIMVOL_DEV"
				sim_end "$base"
				note=
				check_run "sweep -d $qd -b $bs -s $sn" blkhydrate "$base" "$bytes" || note=FAILED
				sim_check_whole "sweep -d $qd -b $bs -s $sn" "$base.stats" || note=FAILED
				[ -n "$floor" ] || read -r _ _ floor < <(sim_floor "$base.stats")
				row=$(printf '    %5s %6s %7s %8.2f %7s %6.2f %8.1f %6s%s' \
				      "$qd" "$bs" "$sn" "$r_wall" "$(ratio "$r_wall" "$floor")" \
				      "$r_cpu" "$r_rss" "$(stat_val "$base.stats" max_inflight)" "${note:+ $note}")
				rows+=("$row")
				echo "$row"
				if [ -z "$note" ] && { [ -z "$best_w" ] ||
				   awk -v a="$r_wall" -v b="$best_w" 'BEGIN { exit !(a < b) }'; }; then
					best_w=$r_wall best_row="-d $qd -b $bs -s $sn"
				fi
			done
		done
	done
	echo
	echo "Bound of the simulator for this volume: ${floor:-?} s" \
	     "(max of bandwidth limit and fetch-pool bound)"
	printf '    %5s %6s %7s %8s %7s %6s %8s %6s\n' qd bs strides "wall s" "/bound" "CPU s" \
	       "RSS MiB" fetch
	printf '%s\n' "${rows[@]}"
	[ -z "$best_row" ] || echo "fastest: $best_row ($best_w s)"
	rm -f "$img"
	section_end sweep
}
