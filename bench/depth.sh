#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2034,SC2154 # globals of lib.sh and priority.sh
#
# depth.sh - the default depth against fixed ones and AWS's fio command,
# beside the volume's other readers (issue 21), over a grid of simulated
# volumes.
#
#   bench/depth.sh [--full] [BUILD_DIR]
#
# One ext4 volume of DEPTH_SIZE with a model of DEPTH_MODEL in four files
# written last, DEPTH_FREE% of the file system free; the wide row is a
# 2 GiB volume. For each row (fetch latency : fetches at once : MiB/s) and
# each hydrator, on a fresh simulated volume each run:
#
#   default   blkhydrate hydrate -p 'MODELDIR/model-*.safetensors' DEV (no -d)
#   knee      the same with -d K, K the simulator's knee: min(fetches at
#             once, bandwidth x latency / 512 KiB)
#   2knee     the same with -d 2K
#   fio       AWS's whole-device command (fio --rw=read --bs=1M --iodepth=32)
#
# started together with one of three readers:
#
#   foreign   fio, 4 KiB random reads of the raw device at queue depth 1 until
#             the hydrator ends: its p50 and p99 completion latency
#   plain     cat of each model file in order: its time, as a multiple of the
#             model's limit (max(bytes / bandwidth, fetch rounds x latency));
#             the hydrator's time for the whole volume, as a multiple of the
#             whole volume's limit, its CPU seconds and peak RSS
#   loader    bench/loader.py: each file's index at its end first, then its
#             tensors in order with CPU work between reads: its time
#
# DEPTH_RUNS runs of each (default 5); each cell prints the median and the
# worst. "target" is the plain reader's bound: 1.05 x the model's limit plus
# its own time on a warm volume, as a multiple of the limit. The reduced grid
# (default) is the reader grid's four rows and the wide one; --full runs
# latency 2 10 20 40 ms x 4 16 128 fetches x 200 500 1000 MiB/s and the wide
# one. DEPTH_ROWS="LAT:CONC:MIBS[:SIZE] ..." overrides the grid.

set -u
set -o pipefail
export LC_ALL=C

script_dir=$(cd "$(dirname "$0")" && pwd) || exit 2
srcdir=$(cd "$script_dir/.." && pwd)
# shellcheck source=lib.sh
. "$script_dir/lib.sh"
# shellcheck source=priority.sh
. "$script_dir/priority.sh"
grid_args depth.sh "$@"

DEPTH_SIZE=${DEPTH_SIZE:-1G}
DEPTH_MODEL=${DEPTH_MODEL:-256M}
DEPTH_FREE=${DEPTH_FREE:-25}
DEPTH_RUNS=${DEPTH_RUNS:-5}
BENCH_CHUNK_SIZE=512K
BENCH_READAHEAD_KB=${BENCH_READAHEAD_KB:-128}
if [ -n "${DEPTH_ROWS:-}" ]; then
	rows=$DEPTH_ROWS
elif [ "$full" = 1 ]; then
	rows=$(grid_full_rows)
	rows="$rows 40:128:1000:2G"
else
	rows="20:16:300 2:128:1000 40:4:200 10:16:500 40:128:1000:2G"
fi

bench_setup "$srcdir" "$build"
why=$(simvol_need) || die "cannot simulate a lazy volume: $why"
command -v python3 >/dev/null || die "python3 is needed (the loader-shaped reader)"

fio_whole='fio --name=read_test --filename=@DEV@ --rw=read --bs=1M --ioengine=libaio --iodepth=32 --direct=1 --readonly --output-format=json'
PRIO_NAMES="model-00001-of-00004 model-00002-of-00004 model-00003-of-00004 model-00004-of-00004"
BENCH_PRIO_MODEL=$DEPTH_MODEL BENCH_PRIO_FREE=$DEPTH_FREE

# Results of the last run_one: d_reader (s), d_p50 and d_p99 (ms), d_whole (x the
# whole volume's limit), d_cpu (s), d_rss (MiB); "-" when not measured.
d_reader=- d_p50=- d_p99=- d_whole=- d_cpu=- d_rss=- d_warm=-

# foreign_lat FILE: "p50 p99" of fio's read completion latency, ms.
foreign_lat() {
	python3 - "$1" <<'PY' 2>/dev/null || echo "- -"
import json, sys
text = open(sys.argv[1]).read()  # stopped by SIGINT, fio says so before its JSON
d = json.loads(text[text.index("{"):])["jobs"][0]["read"]["clat_ns"]["percentile"]
print("%.1f %.1f" % (d["50.000000"] / 1e6, d["99.000000"] / 1e6))
PY
}

# run_one NAME READER HYDRATOR...: one run on a fresh volume; @DEV@ in the
# hydrator's arguments stands for the device.
run_one() {
	local name=$1 reader=$2 base=$work/depth.$1.$2 a wlim hwall fpid
	local -a cmd=()

	shift 2
	d_reader=- d_p50=- d_p99=- d_whole=- d_cpu=- d_rss=-
	sim_fresh "depth $name $reader" "$prio_img" "${sim_opts[@]}" || return 1
	prio_mount || { fail "depth $name: cannot mount"; simvol_stop; return 1; }
	for a; do cmd+=("${a//@DEV@/$SIMVOL_DEV}"); done
	timed_bg "$base.h" "${cmd[@]}"
	case $reader in
	foreign)
		# Until the hydrator ends: its latencies are those of the volume being hydrated.
		fio --name=foreign --filename="$SIMVOL_DEV" --rw=randread --bs=4k --iodepth=1 \
			--ioengine=psync --direct=1 --readonly --time_based --runtime=3600 \
			--randseed="$RANDOM" --output-format=json >"$base.r.out" 2>"$base.r.err" &
		fpid=$!
		r_rc=0
		;;
	plain)
		# shellcheck disable=SC2016 # the reader's own script
		timed "$base.r" sh -c 'for f; do cat "$f" >/dev/null || exit 1; done' reader \
			"${prio_models[@]}"
		d_reader=$r_wall
		;;
	loader)
		timed "$base.r" python3 "$script_dir/loader.py" "${prio_models[@]}"
		d_reader=$r_wall
		;;
	esac
	[ "$r_rc" = 0 ] || fail "depth $name $reader: the reader failed: $(tail -n 2 "$base.r.err" | tr '\n' ' ')"
	timed_wait "$base.h"
	[ "$r_rc" = 0 ] || fail "depth $name $reader: $1 exited with status $r_rc"
	d_cpu=$r_cpu d_rss=$r_rss hwall=$r_wall
	if [ "$reader" = foreign ]; then
		kill -INT "$fpid" && wait "$fpid"
		read -r d_p50 d_p99 < <(foreign_lat "$base.r.out")
	fi
	if [ "$name $reader" = "default plain" ] && [ "$d_warm" = - ]; then
		# The reader's own time on the warm volume, remounted: nothing cached.
		umount "$prio_mnt" && mount -o ro,noload "$SIMVOL_DEV" "$prio_mnt" &&
			timed "$work/depth.warm" sh -c 'for f; do cat "$f" >/dev/null; done' r \
				"${prio_models[@]}" && d_warm=$r_wall
	fi
	prio_unmount "$base"
	read -r _ _ wlim < <(sim_floor "$base.stats")
	d_whole=$(awk -v h="$hwall" -v l="$wlim" 'BEGIN { printf "%.3f", h / l }')
	[ "$reader" = foreign ] || sim_check_whole "depth $name $reader" "$base.stats" >/dev/null
}

# mw VALUES...: "median worst" (worst: the largest), "- -" without values.
mw() {
	local v=() x

	for x; do [ "$x" = - ] || v+=("$x"); done
	[ ${#v[@]} -gt 0 ] || { echo "- -"; return; }
	printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END {
		printf "%s %s\n", a[int((NR + 1) / 2)], a[NR] }'
}

# ratio2 "MED WORST" DIVISOR: both divided, two decimals.
ratio2() {
	awk -v s="$1" -v d="$2" 'BEGIN { n = split(s, v, " ")
		for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), (v[i] == "-" || d <= 0) ? "-" : sprintf("%.2f", v[i] / d)
		print "" }'
}

verdicts=()
# verdict ROW WHAT HOLDS(0/1) DETAIL
verdict() {
	local mark=MET

	[ "$3" = 1 ] || mark=MISSED
	verdicts+=("$(printf '%-16s %-7s %s: %s' "$1" "$mark" "$2" "$4")")
}

le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && b != "-" && a + 0 <= b + 0) }' && echo 1 || echo 0; }

row_bench() {
	local row=$1 lat conc mibs size knee lim hyd run reader
	local -A p99 reader_t loader_t whole cpu rss p50

	IFS=: read -r lat conc mibs size <<<"$row"
	sim_opts=(--latency "$lat" --concurrency "$conc" --bandwidth "${mibs}M" --chunk-size 512K)
	knee=$(awk -v c="$conc" -v b="$mibs" -v l="$lat" 'BEGIN { k = b * l / 1000 / 0.5
		k = (k == int(k)) ? k : int(k) + 1; if (k > c) k = c; if (k < 1) k = 1; print k }')
	lim=$(awk -v n="$model_chunks" -v cs="$prio_chunk" -v bw="$((mibs * MiB))" -v c="$conc" \
		-v l="$lat" 'BEGIN { a = n * cs / bw; p = int((n + c - 1) / c) * l / 1000
		printf "%.3f\n", (a > p ? a : p) }')
	d_warm=-
	for run in $(seq "$DEPTH_RUNS"); do
		for hyd in default knee 2knee fio; do
			for reader in foreign plain loader; do
				case $hyd in
				default) set -- "$BLKHYDRATE" hydrate --json --progress=never -p "$prio_mnt/opt/models/model-*.safetensors" @DEV@ ;;
				knee) set -- "$BLKHYDRATE" hydrate --json --progress=never -d "$knee" -p "$prio_mnt/opt/models/model-*.safetensors" @DEV@ ;;
				2knee) set -- "$BLKHYDRATE" hydrate --json --progress=never -d $((2 * knee)) -p "$prio_mnt/opt/models/model-*.safetensors" @DEV@ ;;
				# shellcheck disable=SC2086 # the command's words
				fio) set -- $fio_whole ;;
				esac
				run_one "$hyd" "$reader" "$@"
				case $reader in
				foreign) p50[$hyd]="${p50[$hyd]:-} $d_p50" p99[$hyd]="${p99[$hyd]:-} $d_p99" ;;
				plain) reader_t[$hyd]="${reader_t[$hyd]:-} $d_reader"
				       whole[$hyd]="${whole[$hyd]:-} $d_whole"
				       cpu[$hyd]="${cpu[$hyd]:-} $d_cpu" rss[$hyd]="${rss[$hyd]:-} $d_rss" ;;
				loader) loader_t[$hyd]="${loader_t[$hyd]:-} $d_reader" ;;
				esac
			done
		done
	done
	local target fp99 rd ld wh cp rs line best_loader med worst
	target=$(awk -v l="$lim" -v w="$d_warm" 'BEGIN { if (w == "-") print "-"; else printf "%.2f", (1.05 * l + w) / l }')
	printf '%s (knee %s, model limit %.2f s, reader target %s)\n' "$row" "$knee" "$lim" "$target"
	printf '  %-8s %-13s %-13s %-11s %-11s %-11s %5s %6s\n' hydrator "foreign p50" "p99 (x lat)" \
		"reader x" "loader s" "whole x" "CPU s" "RSS M"
	for hyd in default knee 2knee fio; do
		# shellcheck disable=SC2086 # lists of values
		{
			fp99=$(mw ${p99[$hyd]}); rd=$(mw ${reader_t[$hyd]}); ld=$(mw ${loader_t[$hyd]})
			wh=$(mw ${whole[$hyd]}); cp=$(mw ${cpu[$hyd]}); rs=$(mw ${rss[$hyd]})
			printf '  %-8s %-13s %-13s %-11s %-11s %-11s %5s %6s\n' "$hyd" "$(mw ${p50[$hyd]})" \
				"$(ratio2 "$fp99" "$lat")" "$(ratio2 "$rd" "$lim")" "$ld" \
				"$(ratio2 "$wh" 1)" "${cp%% *}" "${rs##* }"
		}
		eval "m_p99_$hyd=\$fp99 m_rd_$hyd=\$rd m_ld_$hyd=\$ld m_wh_$hyd=\$wh m_cpu_$hyd=\$cp m_rss_$hyd=\$rs"
	done
	echo
	# The issue's Done-when, for the default.
	read -r _ worst <<<"$m_p99_default"
	verdict "$row" "foreign p99 <= 2.5 x latency (worst of runs)" "$(le "$worst" "$(awk -v l="$lat" 'BEGIN { print 2.5 * l }')")" \
		"$(ratio2 "$worst" "$lat")x"
	read -r med worst <<<"$m_rd_default"
	verdict "$row" "plain reader <= target (median)" "$(le "$(ratio2 "$med" "$lim")" "$target")" \
		"$(ratio2 "$med" "$lim") against $target"
	verdict "$row" "plain reader <= target + 0.05 (worst)" \
		"$(le "$(ratio2 "$worst" "$lim")" "$(awk -v t="$target" 'BEGIN { print (t == "-") ? "-" : t + 0.05 }')")" \
		"$(ratio2 "$worst" "$lim")"
	best_loader=$(printf '%s\n' "${m_ld_knee%% *}" "${m_ld_2knee%% *}" | sort -g | head -n 1)
	verdict "$row" "loader no slower than the best fixed depth (median)" \
		"$(le "${m_ld_default%% *}" "$(awk -v b="$best_loader" 'BEGIN { print b * 1.02 }')")" \
		"${m_ld_default%% *} s against $best_loader s (2% noise allowed)"
	read -r med worst <<<"$m_wh_default"
	verdict "$row" "whole <= 1.03 (median), <= 1.05 (worst)" \
		"$(($(le "$med" 1.03) && $(le "$worst" 1.05)))" "$(ratio2 "$m_wh_default" 1)"
	verdict "$row" "CPU no more than fio's, RSS <= 32 MiB" \
		"$(($(le "${m_cpu_default%% *}" "${m_cpu_fio%% *}") && $(le "${m_rss_default##* }" 32)))" \
		"${m_cpu_default%% *} s against ${m_cpu_fio%% *} s, ${m_rss_default##* } MiB"
}

echo "Depth and other readers: simulated volumes, a model of $DEPTH_MODEL in 4 files written last,"
echo "$DEPTH_FREE% free, $DEPTH_RUNS runs of each cell (median and worst); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "blkhydrate: $BLKHYDRATE (copy of $build/blkhydrate, built $built_at)"
echo
built_size=
for row in $rows; do
	IFS=: read -r _ _ _ size <<<"$row"
	size=${size:-$DEPTH_SIZE}
	if [ "$size" != "$built_size" ]; then
		BENCH_PRIO_SIZE=$size
		prio_build
		built_size=$size
		echo "volume $size: model $model_chunks chunks of 512 KiB (filefrag)"
		echo
	fi
	row_bench "${row%:"$size"}"
done
echo "Issue 21's Done-when, for the default (no -d):"
printf '  %s\n' "${verdicts[@]}"
if [ ${#failures[@]} -gt 0 ]; then
	echo "FAILED runs:"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
