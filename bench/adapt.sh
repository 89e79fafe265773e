# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# adapt.sh - auto queue depth against every fixed depth of BENCH_ADAPT_QD
# (which reaches auto's own cap), on simulated volumes of each concurrency
# cap x latency; auto's time next to the best fixed one's. Deepest first,
# so that a depth slower than twice the best so far can be stopped there:
# it was tried, it cannot be the best, and it does not cost minutes.

a_s='' a_depth='' a_note=''
# adapt_run LABEL IMAGE BYTES LIMIT_S OPTS...: one run on a fresh simulated
# volume, stopped after LIMIT_S seconds (0: never); sets a_s (wall seconds),
# a_depth (the depth blkhydrate reports) and a_note ("stopped" if it was).
adapt_run() {
	local label=$1 img=$2 want=$3 limit=$4 base=$work/adapt

	shift 4
	a_s='' a_depth='' a_note=''
	sim_fresh "adapt $label" "$img" --latency "$a_lat" --concurrency "$a_conc" \
		--bandwidth "$BENCH_ADAPT_BANDWIDTH" --chunk-size 512K || return 1
	timed "$base" timeout --signal=TERM "$limit" "$BLKHYDRATE" hydrate --json \
		--progress=never "$@" "$SIMVOL_DEV"
	sim_end "$base"
	a_s=$r_wall
	if [ "$r_rc" = 124 ] && [ "$limit" != 0 ]; then
		a_note=stopped
		return 0
	fi
	check_run "adapt $label" blkhydrate "$base" "$want" || return 1
	sim_check_whole "adapt $label" "$base.stats" || return 1
	a_depth=$(json_val "$base.out" queue_depth)
}

section_adapt() {
	# shellcheck disable=SC2034 # sim_drop is read by sim_fresh
	local a_conc a_lat mibs size img=$work/adapt.img qd best_s best_qd limit cap sim_drop=0
	local -a summary=() depths

	cap=$(awk '$1 == "#define" && $2 == "AUTO_MAX_DEPTH" { print $3 }' "$srcdir/src/lib/io/pace.h")
	section_begin "Auto depth: fixed depths against --queue-depth auto, on fresh simulated volumes"
	echo "Simulator: 512K chunks, CONC fetches at once, LAT ms each, shared bandwidth cap" \
	     "$BENCH_ADAPT_BANDWIDTH bytes/s (0: none)."
	echo "Command: blkhydrate hydrate --json --progress=never [-d QD] \$DEV; wall times by the"
	echo "bench's clock, volume sized for about $BENCH_ADAPT_SECONDS s at the cap. Fixed depths:" \
	     "$BENCH_ADAPT_QD (auto's cap: ${cap:-?})."
	# shellcheck disable=SC2086 # a list of depths
	read -r -a depths < <(printf '%s\n' $BENCH_ADAPT_QD | sort -rn | tr '\n' ' ')
	[ -z "$cap" ] || [ "${depths[0]}" -ge "$cap" ] ||
		echo "NOTE: BENCH_ADAPT_QD stops below auto's cap of $cap: the best fixed depth may be missing."
	for a_conc in $BENCH_ADAPT_CONC; do
		for a_lat in $BENCH_ADAPT_LAT; do
			mibs=$(awk -v c="$a_conc" -v l="$a_lat" -v h="$BENCH_ADAPT_HOST" \
				-v b="$(numfmt --from=iec "$BENCH_ADAPT_BANDWIDTH")" 'BEGIN {
				r = c * 0.5 / (l / 1000); if (b > 0 && b / 1048576 < r) r = b / 1048576
				print int(r < h ? r : h) }')
			size=$(awk -v r="$mibs" -v s="$BENCH_ADAPT_SECONDS" -v m="$BENCH_ADAPT_MAX_SIZE" \
				'BEGIN { v = int(r * s / 64) * 64; if (v < 256) v = 256; if (v > m) v = m; print v }')
			head -c $((size * MiB)) /dev/zero | tr '\0' 'a' >"$img" || die "cannot write $img"
			echo
			echo "concurrency $a_conc, latency $a_lat ms: $size MiB (cap $mibs MiB/s)"
			best_s='' best_qd=''
			for qd in "${depths[@]}"; do
				limit=0
				[ -z "$best_s" ] || limit=$(awk -v b="$best_s" 'BEGIN { printf "%.0f", 2 * b + 1 }')
				adapt_run "-d $qd" "$img" $((size * MiB)) "$limit" -d "$qd" || continue
				if [ -n "$a_note" ]; then
					printf '  -d %-5s > %5.2f s  stopped (over twice the best so far)\n' "$qd" "$a_s"
					continue
				fi
				printf '  -d %-5s %7.2f s  %7.1f MiB/s\n' "$qd" "$a_s" \
				       "$(awk -v s="$a_s" -v m="$size" 'BEGIN { print m / s }')"
				if [ -z "$best_s" ] || awk -v a="$a_s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
					best_s=$a_s best_qd=$qd
				fi
			done
			adapt_run auto "$img" $((size * MiB)) 0 || continue
			printf '  auto     %7.2f s  %7.1f MiB/s  (settled on depth %s)\n' "$a_s" \
			       "$(awk -v s="$a_s" -v m="$size" 'BEGIN { print m / s }')" "$a_depth"
			[ -n "$best_s" ] || continue
			summary+=("$(printf '    %7s %6s ms %6s MiB %4s at %6.2f s %4s at %6.2f s %+8.1f%%' \
				"$a_conc" "$a_lat" "$size" "$best_qd" "$best_s" "$a_depth" "$a_s" \
				"$(awk -v a="$a_s" -v b="$best_s" 'BEGIN { print 100 * (a - b) / b }')")")
		done
	done
	rm -f "$img"
	echo
	printf '    %7s %9s %10s %-16s %-16s %s\n' fetches latency size "best fixed" "auto (depth)" \
	       "auto vs best"
	printf '%s\n' "${summary[@]}"
	echo "(auto vs best: auto's time over the best fixed depth's, + is slower. Auto starts"
	echo " at depth 4 and pays for finding the knee once: on short volumes that shows.)"
	section_end adapt
}
