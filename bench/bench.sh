#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench.sh - measure blkhydrate against the tools AWS documents for volume
# initialization (dd and fio), on a simulated lazy volume and on a hot one.
#
#   bench/bench.sh [--sweep | --sweep-only] [--adapt | --adapt-only] [--record] [--only SECTION] [BUILD_DIR]
#
# Run as root after a build. BUILD_DIR defaults to ../_build relative to this
# script. Sections:
#
#   cold   each tool on a fresh lazysim volume (every chunk cold): AWS's dd,
#          AWS's fio, blkhydrate with its defaults. Wall time, CPU, peak RSS,
#          and the simulator's counters to show every chunk became warm.
#   hot    a loop device over a file in page cache: the engine's own ceiling,
#          blkhydrate against fio (io_uring, O_DIRECT) at its best setting
#          from a small sweep. Medians of BENCH_REPEAT runs.
#   prio   (or priority) model files first: an ext4 volume of BENCH_PRIO_SIZE with the
#          model written last (late on the disk) and part of it free; a
#          plain reader (cat of each model file) started with fio's
#          whole-device command, then with blkhydrate --priority; the reader
#          alone; blkhydrate whole and --used. Times against the simulator's
#          limit for the model's bytes.
#   record (--record) a recorded start replayed: a boot reading a few
#          hundred small files, then a model, beside blkhydrate reading its
#          recording first, without it, and fio and dd in device order.
#   sweep  (--sweep) blkhydrate over a grid of queue depth x block size x
#          strides, each on a fresh cold volume of BENCH_SWEEP_SIZE.
#   touch  touch mode (--read-mode full, touch, auto) beside dd and fio on a
#          gp3-like volume whose guest cap is below the backend's, the same
#          fetching only what is read, and an uncapped one (bench/touch.sh).
#   adapt  (--adapt) auto queue depth against the best fixed depth, on
#          simulated volumes of each concurrency cap x latency: every fixed
#          depth, then auto; auto's time next to the best fixed one's.
#
# Each section is one file beside this one (cold.sh, hot.sh, priority.sh,
# record.sh, touch.sh, sweep.sh, adapt.sh) defining section_NAME; lib.sh holds
# what they share.
# Every run on a simulated volume starts the same way: page cache dropped,
# the image read back in and checked resident, a fresh volume, every chunk
# cold; a whole-volume run must leave every chunk warm with exactly one
# fetch per data chunk. Times are the bench's wall clock for every tool.
#
# Knobs (environment):
#   BENCH_SIZE=4G            cold volume size (about 90% data, 10% holes)
#   BENCH_LATENCY=10         simulated fetch latency of one chunk, ms
#   BENCH_CONCURRENCY=32     simulated fetches at once
#   BENCH_BANDWIDTH=256M     simulated shared fetch bandwidth, bytes/s
#   BENCH_CHUNK_SIZE=512K    simulated snapshot block size
#   BENCH_READAHEAD_KB=128   read-ahead of the simulated device (an EBS
#                            NVMe volume's default), for buffered readers
#   BENCH_HOT_SIZE=2G        hot device size
#   BENCH_HOT_BACKING=auto   file (ext4 page cache), shm (/dev/shm) or auto:
#                            both tools on each, keep the faster for the two
#   BENCH_REPEAT=3           hot runs per setting (the median is reported)
#   BENCH_PRIO_SIZE=4G       priority volume size
#   BENCH_PRIO_MODEL=512M    model bytes (two files), written last
#   BENCH_PRIO_FREE=25       percent of the file system left free
#   BENCH_TOUCH_SIZE=4G      touch volumes (all data)
#   BENCH_TOUCH_GUEST_BW=125M  BENCH_TOUCH_GUEST_IOPS=3000  the gp3 guest cap
#   BENCH_TOUCH_BANDWIDTH=1000M  BENCH_TOUCH_CONCURRENCY=64  the backend
#   BENCH_TOUCH_LATENCY=BENCH_LATENCY  its fetch latency, ms
#   BENCH_SWEEP_SIZE=1G      sweep volume size
#   BENCH_SWEEP_QD="16 32 64 128"  BENCH_SWEEP_BS="256K 512K 1M"
#   BENCH_SWEEP_STRIDES="1 4 16"
#   BENCH_ADAPT_CONC="4 64"  BENCH_ADAPT_LAT="2 40" (ms)
#   BENCH_ADAPT_QD="1 2 4 8 16 32 64 128"  fixed depths, up to auto's cap;
#                            run deepest first, a run over twice the best
#                            so far is stopped there
#   BENCH_ADAPT_SECONDS=8    volume size: this many seconds at the cap's rate
#   BENCH_ADAPT_BANDWIDTH=0  shared bandwidth cap of the simulated volume in
#                            bytes/s (0: none; 1000M is a gp3 volume's ceiling)
#   BENCH_ADAPT_HOST=1200    MiB/s the host's simulator stack can serve at most
#   BENCH_ADAPT_MAX_SIZE=4096  MiB, at most
#
# Exits 1 if any run failed or a check of it did not hold, 2 on bad usage
# or a missing prerequisite. Everything it creates (work dir under /var/tmp,
# files in /dev/shm, loop devices, the FUSE mount) is removed on exit.

set -u
set -o pipefail
export LC_ALL=C	# EPOCHREALTIME and printf with a decimal point

usage() {
	sed -n '/^#   bench/,/^$/p' "$0" | sed 's/^# \{0,1\}//'
	cat <<'USAGE'
Options:
  --sweep        also run the blkhydrate parameter sweep (after cold and hot)
  --sweep-only   run only the sweep
  --adapt        also run the auto depth comparison
  --adapt-only   run only the auto depth comparison
  --record       also run the recorded start (bench/record.sh alone runs only it)
  --only SECTION run only cold, hot, prio, record, touch, sweep or adapt
  -h, --help     this help; the knobs are described at the top of the script
USAGE
}

bad_usage() {
	echo "bench.sh: $*" >&2
	echo "Try 'bench/bench.sh --help'." >&2
	exit 2
}

# The sections in the order they run.
sections=(cold hot priority record touch sweep adapt)
declare -A run=([cold]=1 [hot]=1 [priority]=1 [record]=0 [touch]=1 [sweep]=0 [adapt]=0)
only() {
	local s

	for s in "${sections[@]}"; do run[$s]=0; done
	run[$1]=1
}

build_arg=
while [ $# -gt 0 ]; do
	case $1 in
	--sweep) run[sweep]=1 ;;
	--sweep-only) only sweep ;;
	--adapt) run[adapt]=1 ;;
	--adapt-only) only adapt ;;
	--record) run[record]=1 ;;
	--only)
		[ $# -ge 2 ] || bad_usage "--only needs a section"
		case $2 in
		cold | hot | record | touch | sweep | adapt) only "$2" ;;
		prio | priority) only priority ;;
		*) bad_usage "--only: cold, hot, prio, record, touch, sweep or adapt, not '$2'" ;;
		esac
		shift
		;;
	-h | --help) usage; exit 0 ;;
	-*) bad_usage "unknown option '$1'" ;;
	*)
		[ -z "$build_arg" ] || bad_usage "only one BUILD_DIR, please"
		build_arg=$1
		;;
	esac
	shift
done

script_dir=$(cd "$(dirname "$0")" && pwd) || { echo "bench.sh: cannot find the script's dir" >&2; exit 2; }
srcdir=$(cd "$script_dir/.." && pwd)
# shellcheck source=lib.sh
. "$script_dir/lib.sh"
for s in "${sections[@]}"; do
	# shellcheck disable=SC1090 # one file per section
	. "$script_dir/$s.sh"
done
build=$(cd "${build_arg:-$script_dir/../_build}" 2>/dev/null && pwd) ||
	die "no build dir ${build_arg:-$script_dir/../_build}"

BENCH_SIZE=${BENCH_SIZE:-4G}
BENCH_LATENCY=${BENCH_LATENCY:-10}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-32}
BENCH_BANDWIDTH=${BENCH_BANDWIDTH:-256M}
BENCH_CHUNK_SIZE=${BENCH_CHUNK_SIZE:-512K}
BENCH_READAHEAD_KB=${BENCH_READAHEAD_KB:-128}
BENCH_HOT_SIZE=${BENCH_HOT_SIZE:-2G}
BENCH_HOT_BACKING=${BENCH_HOT_BACKING:-auto}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_SWEEP_SIZE=${BENCH_SWEEP_SIZE:-1G}
BENCH_PRIO_SIZE=${BENCH_PRIO_SIZE:-4G}
BENCH_PRIO_MODEL=${BENCH_PRIO_MODEL:-512M}
BENCH_PRIO_FREE=${BENCH_PRIO_FREE:-25}
BENCH_SWEEP_QD=${BENCH_SWEEP_QD:-16 32 64 128}
BENCH_SWEEP_BS=${BENCH_SWEEP_BS:-256K 512K 1M}
BENCH_SWEEP_STRIDES=${BENCH_SWEEP_STRIDES:-1 4 16}
BENCH_ADAPT_CONC=${BENCH_ADAPT_CONC:-4 64}
BENCH_ADAPT_LAT=${BENCH_ADAPT_LAT:-2 40}
BENCH_ADAPT_QD=${BENCH_ADAPT_QD:-1 2 4 8 16 32 64 128}
BENCH_ADAPT_SECONDS=${BENCH_ADAPT_SECONDS:-8}
BENCH_ADAPT_HOST=${BENCH_ADAPT_HOST:-1200}
BENCH_ADAPT_BANDWIDTH=${BENCH_ADAPT_BANDWIDTH:-0}
BENCH_ADAPT_MAX_SIZE=${BENCH_ADAPT_MAX_SIZE:-4096}

case $BENCH_HOT_BACKING in auto | file | shm) ;; *) die "BENCH_HOT_BACKING: auto, file or shm" ;; esac
case $BENCH_REPEAT in '' | *[!0-9]* | 0) die "BENCH_REPEAT: a positive number" ;; esac
for q in $BENCH_ADAPT_QD; do
	case $q in '' | *[!0-9]* | 0) die "BENCH_ADAPT_QD: positive numbers, not '$q'" ;; esac
done

bench_setup "$srcdir" "$build"
if [ $((run[cold] + run[priority] + run[record] + run[touch] + run[sweep] + run[adapt])) -gt 0 ]; then
	why=$(simvol_need) || die "cannot simulate a lazy volume: $why"
fi
sim_opts=(--latency "$BENCH_LATENCY" --concurrency "$BENCH_CONCURRENCY"
	  --bandwidth "$BENCH_BANDWIDTH" --chunk-size "$BENCH_CHUNK_SIZE")

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
bench_t0=$EPOCHREALTIME
echo "blkhydrate benchmark"
echo "===================="
echo "date:       $(date '+%Y-%m-%d %H:%M:%S %z')"
echo "host:       $(uname -n), kernel $(uname -srm)"
echo "cpu:        ${cpu_model:-unknown} x $(nproc) (online), memory $mem_total"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the start"
echo "blkhydrate: $("$BLKHYDRATE" --version 2>&1 | head -n 1) (copy of $build/blkhydrate, built $built_at)"
if git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	echo "source:     $srcdir at $(git -C "$srcdir" describe --always --dirty 2>/dev/null)"
fi
echo "fio:        $(fio --version 2>&1 | head -n 1); dd: $(dd --version 2>&1 | head -n 1)"
echo "work dir:   $work"
echo "simulator:  lazysim ${sim_opts[*]}, read-ahead ${BENCH_READAHEAD_KB} KiB (BENCH_READAHEAD_KB)"
echo "sections:   $(for s in "${sections[@]}"; do [ "${run[$s]}" = 0 ] || printf '%s ' "$s"; done)"
echo

for s in "${sections[@]}"; do
	[ "${run[$s]}" = 0 ] || "section_$s"
done

echo "Summary"
echo "-------"
printf '%s\n' "${section_times[@]}"
echo "total: $(awk -v a="$bench_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s;" \
     "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ${#failures[@]} -gt 0 ]; then
	echo "FAILURES:"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
echo "All runs succeeded."
exit 0
