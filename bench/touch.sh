# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154 # globals of bench.sh and lib.sh
#
# touch.sh - touch mode against full reads, dd and fio. Three simulated
# volumes, each run on a fresh copy: a gp3-like volume (the guest capped at
# BENCH_TOUCH_GUEST_BW and BENCH_TOUCH_GUEST_IOPS, I/Os counted in 256 KiB
# units, the backend faster) that fetches whole snapshot blocks; the same
# volume fetching only what is read (partial); and an uncapped volume. On
# each: dd and fio as AWS documents them (not on the partial one: full
# reads there are what full mode does), blkhydrate --read-mode full, touch
# and auto. Wall time, guest bytes (what the simulator served), CPU, peak
# RSS, chunks warm; the backend's limit; the issue's targets checked.

touch_modes=(full touch auto)
declare -A tch_wall tch_cpu tch_rss tch_guest tch_ios tch_warm tch_mode tch_ok

# touch_argv TOOL DEV: the command in touch_argv_out.
touch_argv() {
	case $1 in
	dd | fio) cold_argv "$1" "$2"; touch_argv_out=("${cold_argv_out[@]}") ;;
	*) touch_argv_out=("$BLKHYDRATE" hydrate --json --progress=never --read-mode "$1" "$2") ;;
	esac
}

# touch_one VOLUME TOOL IMAGE BYTES FETCH SIMOPTS...: one run on a fresh volume.
touch_one() {
	local vol=$1 tool=$2 img=$3 want=$4 fetch=$5 base=$work/touch.$1.$2 k=$1.$2 st why

	shift 5
	sim_fresh "touch $vol $tool" "$img" "$@" --fetch "$fetch" || return
	touch_argv "$tool" "$SIMVOL_DEV"
	timed "$base" "${touch_argv_out[@]}"
	sim_end "$base"
	st=$base.stats
	tch_wall[$k]=$r_wall tch_cpu[$k]=$r_cpu tch_rss[$k]=$r_rss
	tch_guest[$k]=$(stat_val "$st" bytes_read) tch_ios[$k]=$(stat_val "$st" guest_ios)
	tch_warm[$k]="$(stat_val "$st" warm)/$(stat_val "$st" chunks)"
	tch_mode[$k]=-
	case $tool in dd | fio) ;; *)
		tch_mode[$k]="$(sed 's/.*"targets":\[//' "$base.out" | grep -o '"read_mode":"[a-z]*"' |
			head -n 1 | cut -d'"' -f4)"
		[ "$(json_val "$base.out" touch_switched)" = true ] && tch_mode[$k]+=" (switched)"
		;;
	esac
	tch_ok[$k]=1
	check_run "touch $vol $tool" "$(case $tool in dd | fio) echo "$tool" ;; *) echo blkhydrate ;; esac)" \
		"$base" "$want" || tch_ok[$k]=0
	# Every chunk warm by the simulator's account; whole fetches: each data chunk once.
	if [ "$(stat_val "$st" warm)" != "$(stat_val "$st" chunks)" ]; then
		fail "touch $vol $tool: left $(($(stat_val "$st" chunks) - $(stat_val "$st" warm))) chunks cold"
		tch_ok[$k]=0
	fi
	if [ "$fetch" = whole ] && [ "$(stat_val "$st" fetches)" != "$(stat_val "$st" data_chunks)" ]; then
		fail "touch $vol $tool: $(stat_val "$st" fetches) fetches for $(stat_val "$st" data_chunks) data chunks"
		tch_ok[$k]=0
	fi
	why=$(awk -v w="$r_wall" -v g="${tch_guest[$k]}" 'BEGIN { printf "%.2f s, guest %.1f MiB", w, g / 1048576 }')
	printf '  %-8s %-6s %s, CPU %s s, RSS %s MiB, warm %s, %s\n' "$vol" "$tool" "$why" "$r_cpu" \
	       "$r_rss" "${tch_warm[$k]}" "${tch_mode[$k]}"
}

# touch_table VOLUME TOOLS...: the runs of one volume, side by side.
touch_table() {
	local vol=$1 t k label

	shift
	printf '    %-22s %7s %8s %10s %9s %6s %7s %11s  %s\n' "$vol" "wall s" "vs full" "guest MiB" \
	       "guest IOs" "CPU s" "RSS MiB" "chunks warm" "read mode"
	for t in "$@"; do
		k=$vol.$t
		[ -n "${tch_wall[$k]:-}" ] || continue
		case $t in
		dd) label="dd bs=1M (AWS)" ;;
		fio) label="fio iodepth=32 (AWS)" ;;
		*) label="blkhydrate $t" ;;
		esac
		[ "${tch_ok[$k]}" = 1 ] || label+=" (FAILED)"
		printf '    %-22s %7.2f %8s %10.1f %9s %6.2f %7.1f %11s  %s\n' "$label" "${tch_wall[$k]}" \
		       "$(ratio "${tch_wall[$k]}" "${tch_wall[$vol.full]:-0}")" \
		       "$(awk -v g="${tch_guest[$k]}" 'BEGIN { print g / 1048576 }')" "${tch_ios[$k]}" \
		       "${tch_cpu[$k]}" "${tch_rss[$k]}" "${tch_warm[$k]}" "${tch_mode[$k]}"
	done
}

# touch_target WHAT VALUE OP LIMIT: one of the issue's targets, met or not.
touch_target() {
	if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= l : v <= l) }'; then
		printf '    %-62s %8.2f  (target %s %s) met\n' "$1" "$2" "$3" "$4"
	else
		printf '    %-62s %8.2f  (target %s %s) NOT met\n' "$1" "$2" "$3" "$4"
	fi
}

section_touch() {
	local img=$work/touch.img bytes t vol limit st gp3 uncapped
	local size=${BENCH_TOUCH_SIZE:-4G} gbw=${BENCH_TOUCH_GUEST_BW:-125M}
	local giops=${BENCH_TOUCH_GUEST_IOPS:-3000} bbw=${BENCH_TOUCH_BANDWIDTH:-1000M}
	local conc=${BENCH_TOUCH_CONCURRENCY:-64} lat=${BENCH_TOUCH_LATENCY:-$BENCH_LATENCY}

	section_begin "Touch mode: full, touch and auto beside dd and fio, $size volumes"
	uncapped=(--latency "$lat" --concurrency "$conc" --bandwidth "$bbw" --chunk-size 512K)
	gp3=("${uncapped[@]}" --guest-bandwidth "$gbw" --guest-iops "$giops" --io-unit 256K)
	echo "gp3:      lazysim ${gp3[*]} (the guest's cap below the backend's)"
	echo "uncapped: lazysim ${uncapped[*]}"
	echo "partial:  as gp3, --fetch partial (a read of a cold chunk fetches only the 4K units read)"
	echo "blkhydrate: hydrate --json --progress=never --read-mode MODE \$DEV; dd and fio as in 'cold'"
	make_image "$img" "$size" full
	bytes=$(stat -c %s "$img")
	for t in dd fio "${touch_modes[@]}"; do touch_one gp3 "$t" "$img" "$bytes" whole "${gp3[@]}"; done
	for t in "${touch_modes[@]}"; do touch_one partial "$t" "$img" "$bytes" partial "${gp3[@]}"; done
	for t in dd fio "${touch_modes[@]}"; do touch_one uncapped "$t" "$img" "$bytes" whole "${uncapped[@]}"; done
	echo
	touch_table gp3 dd fio "${touch_modes[@]}"
	echo
	touch_table partial "${touch_modes[@]}"
	echo
	touch_table uncapped dd fio "${touch_modes[@]}"
	st=$work/touch.gp3.auto.stats
	[ -f "$st" ] || st=$work/touch.gp3.full.stats
	echo
	if [ -f "$st" ]; then
		read -r limit _ < <(sim_floor "$st")
		awk -v l="$limit" -v g="$(stat_val "$st" guest_bandwidth)" -v b="$bytes" 'BEGIN {
			printf "Backend limit (data chunks x 512 KiB / backend bandwidth): %.2f s;", l
			printf " guest cap on full reads: %.2f s\n", b / g }'
		echo "Targets (issue 14):"
		[ -n "${tch_wall[gp3.auto]:-}" ] && [ -n "${tch_wall[gp3.full]:-}" ] &&
			touch_target "gp3, whole fetches: full / auto (x faster)" \
				"$(awk -v a="${tch_wall[gp3.full]}" -v b="${tch_wall[gp3.auto]}" 'BEGIN { print a / b }')" ">=" 3
		[ -n "${tch_wall[gp3.auto]:-}" ] && [ -n "${tch_wall[gp3.fio]:-}" ] &&
			touch_target "gp3, whole fetches: fio / auto (x faster)" \
				"$(awk -v a="${tch_wall[gp3.fio]}" -v b="${tch_wall[gp3.auto]}" 'BEGIN { print a / b }')" ">=" 3
		[ -n "${tch_wall[gp3.auto]:-}" ] &&
			touch_target "gp3, whole fetches: auto / backend limit" \
				"$(awk -v a="${tch_wall[gp3.auto]}" -v l="$limit" 'BEGIN { print a / l }')" "<=" 1.05
		[ -n "${tch_wall[partial.auto]:-}" ] && [ -n "${tch_wall[partial.full]:-}" ] &&
			touch_target "partial fetches: auto / full (auto chose ${tch_mode[partial.auto]})" \
				"$(awk -v a="${tch_wall[partial.auto]}" -v b="${tch_wall[partial.full]}" 'BEGIN { print a / b }')" "<=" 1.05
		[ -n "${tch_rss[gp3.touch]:-}" ] &&
			touch_target "touch mode, peak RSS MiB" "${tch_rss[gp3.touch]}" "<=" 16
	fi
	echo "(wall: the bench's clock around the process; guest MiB and IOs: what the simulator"
	echo " served to the guest, IOs in 256 KiB units; the probe's reads included for auto and touch.)"
	rm -f "$img"
	section_end touch
}
