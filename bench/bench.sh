#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench.sh - measure blkhydrate against the tools AWS documents for volume
# initialization (dd and fio), on a simulated lazy volume and on a hot one.
#
#   bench/bench.sh [--sweep | --sweep-only] [--adapt | --adapt-only] [--only SECTION] [BUILD_DIR]
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
#   prio   model files first: an ext4 volume of BENCH_PRIO_SIZE with the
#          model written last (late on the disk) and part of it free; a
#          plain reader (cat of each model file) started with fio's
#          whole-device command, then with blkhydrate --priority; the reader
#          alone; blkhydrate whole and --used. Times against the simulator's
#          limit for the model's bytes.
#   sweep  (--sweep) blkhydrate over a grid of queue depth x block size x
#          strides, each on a fresh cold volume of BENCH_SWEEP_SIZE.
#   adapt  (--adapt) auto queue depth against the best fixed depth, on
#          simulated volumes of each concurrency cap x latency: a sweep of
#          fixed depths, then auto; auto's time next to the best fixed one's.
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
#                            try both, keep the faster
#   BENCH_REPEAT=3           hot runs per setting (the median is reported)
#   BENCH_PRIO_SIZE=4G       priority volume size
#   BENCH_PRIO_MODEL=512M    model bytes (two files), written last
#   BENCH_PRIO_FREE=25       percent of the file system left free
#   BENCH_SWEEP_SIZE=1G      sweep volume size
#   BENCH_SWEEP_QD="16 32 64 128"  BENCH_SWEEP_BS="256K 512K 1M"
#   BENCH_SWEEP_STRIDES="1 4 16"
#   BENCH_ADAPT_CONC="4 64"  BENCH_ADAPT_LAT="2 40" (ms)
#   BENCH_ADAPT_QD="2 4 8 16 32 64 128"  fixed depths (those under a quarter
#                            of the cap are skipped: they cannot be the best)
#   BENCH_ADAPT_SECONDS=8    volume size: this many seconds at the cap's rate
#   BENCH_ADAPT_BANDWIDTH=0  shared bandwidth cap of the simulated volume in
#                            bytes/s (0: none; 1000M is a gp3 volume's ceiling)
#   BENCH_ADAPT_HOST=1200    MiB/s the host's simulator stack can serve at most
#   BENCH_ADAPT_MAX_SIZE=4096  MiB, at most
#
# Exits 1 if any tool failed or a cold run left a chunk cold, 2 on bad usage
# or a missing prerequisite. Everything it creates (work dir under /var/tmp,
# files in /dev/shm, loop devices, the FUSE mount) is removed on exit.

set -u
set -o pipefail

usage() {
	sed -n '/^#   bench/,/^$/p' "$0" | sed 's/^# \{0,1\}//'
	cat <<'EOF'
Options:
  --sweep        also run the blkhydrate parameter sweep (after cold and hot)
  --sweep-only   run only the sweep
  --adapt        also run the auto depth comparison
  --adapt-only   run only the auto depth comparison
  --only SECTION run only cold, hot, prio, sweep or adapt
  -h, --help     this help; the knobs are described at the top of the script
EOF
}

die() {
	echo "bench.sh: $*" >&2
	exit 2
}

do_cold=1 do_hot=1 do_prio=1 do_sweep=0 do_adapt=0 build_arg=
while [ $# -gt 0 ]; do
	case $1 in
	--sweep) do_sweep=1 ;;
	--sweep-only) do_sweep=1 do_cold=0 do_hot=0 do_prio=0 ;;
	--adapt) do_adapt=1 ;;
	--adapt-only) do_adapt=1 do_cold=0 do_hot=0 do_prio=0 do_sweep=0 ;;
	--only)
		[ $# -ge 2 ] || die "--only needs a section"
		do_cold=0 do_hot=0 do_prio=0 do_sweep=0 do_adapt=0
		case $2 in
		cold) do_cold=1 ;;
		hot) do_hot=1 ;;
		prio) do_prio=1 ;;
		sweep) do_sweep=1 ;;
		adapt) do_adapt=1 ;;
		*) die "--only: cold, hot, prio, sweep or adapt" ;;
		esac
		shift
		;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*)
		[ -z "$build_arg" ] || die "only one BUILD_DIR, please"
		build_arg=$1
		;;
	esac
	shift
done

script_dir=$(cd "$(dirname "$0")" && pwd) || die "cannot find the script's dir"
srcdir=$(cd "$script_dir/.." && pwd) || die "cannot find the source dir"
build=$(cd "${build_arg:-$script_dir/../_build}" 2>/dev/null && pwd) ||
	die "no build dir ${build_arg:-$script_dir/../_build}"

BENCH_SIZE=${BENCH_SIZE:-4G}
BENCH_LATENCY=${BENCH_LATENCY:-10}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-32}
BENCH_BANDWIDTH=${BENCH_BANDWIDTH:-256M}
BENCH_CHUNK_SIZE=${BENCH_CHUNK_SIZE:-512K}
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
BENCH_ADAPT_QD=${BENCH_ADAPT_QD:-2 4 8 16 32 64 128}
BENCH_ADAPT_SECONDS=${BENCH_ADAPT_SECONDS:-8}
BENCH_ADAPT_HOST=${BENCH_ADAPT_HOST:-1200}
BENCH_ADAPT_BANDWIDTH=${BENCH_ADAPT_BANDWIDTH:-0}
BENCH_ADAPT_MAX_SIZE=${BENCH_ADAPT_MAX_SIZE:-4096}

BLKHYDRATE=$build/blkhydrate
LAZYSIM=$build/tools/lazysim
TIME=/usr/bin/time
export LAZYSIM

[ "$(id -u)" = 0 ] || die "run me as root (loop devices, FUSE, drop_caches)"
[ -x "$BLKHYDRATE" ] || die "$BLKHYDRATE not built"
[ -x "$TIME" ] || die "$TIME (GNU time) is needed"
for c in fio dd losetup truncate awk; do
	command -v "$c" >/dev/null 2>&1 || die "$c is needed"
done
case $BENCH_HOT_BACKING in auto | file | shm) ;; *) die "BENCH_HOT_BACKING: auto, file or shm" ;; esac
case $BENCH_REPEAT in '' | *[!0-9]* | 0) die "BENCH_REPEAT: a positive number" ;; esac

# shellcheck source=../tests/lib/simvol.sh disable=SC1091
. "$srcdir/tests/lib/simvol.sh"
if [ $((do_cold + do_sweep + do_prio + do_adapt)) -gt 0 ]; then
	why=$(simvol_need) || die "cannot simulate a lazy volume: $why"
fi

MiB=1048576
work=
hot_dev=
hot_back=
shm_file=
prio_mnt=
prio_rw=
failures=()

# Detach the hot loop device, but only while it is still backed by our file.
hot_detach() {
	local back i

	[ -n "$hot_dev" ] || return 0
	back=$(losetup -n -O BACK-FILE "$hot_dev" 2>/dev/null | sed 's/ *$//')
	if [ -n "$back" ] && [[ "$back" == "$hot_back"* ]]; then
		for ((i = 0; i < 20; i++)); do
			losetup -d "$hot_dev" 2>/dev/null && break
			sleep 0.1
		done
	fi
	hot_dev=
	hot_back=
}

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	local rc=$?

	trap - EXIT INT TERM HUP
	[ -z "$prio_mnt" ] || ! mountpoint -q "$prio_mnt" || umount "$prio_mnt"
	[ -z "$prio_rw" ] || losetup -d "$prio_rw"
	simvol_stop
	hot_detach
	[ -z "$shm_file" ] || rm -f "$shm_file"
	if [ -n "$work" ] && [ -d "$work" ]; then
		if awk -v w="$work/" 'index($2, w) == 1 { f = 1 } END { exit !f }' /proc/self/mounts; then
			echo "bench.sh: something is still mounted under $work; not removing it" >&2
		else
			rm -rf --one-file-system "$work"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

work=$(mktemp -d /var/tmp/blkhydrate-bench.XXXXXX) || die "mktemp failed"
# simvol_start makes its mount point under $TMPDIR: keep it in the work dir.
export TMPDIR=$work
cd "$work" || die "cannot enter $work"
# Run copies, so that a rebuild during the benchmark cannot mix two binaries.
built_at=$(date -r "$BLKHYDRATE" '+%Y-%m-%d %H:%M:%S')
mkdir "$work/bin" || die "cannot make $work/bin"
cp "$BLKHYDRATE" "$work/bin/blkhydrate" || die "cannot copy $BLKHYDRATE"
BLKHYDRATE=$work/bin/blkhydrate
if [ -x "$LAZYSIM" ]; then
	cp "$LAZYSIM" "$work/bin/lazysim" || die "cannot copy $LAZYSIM"
	LAZYSIM=$work/bin/lazysim
fi

fail() {
	failures+=("$*")
	echo "  FAILED: $*"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# Last line of a GNU time -f '%e %U %S %M' file (a failed command adds a
# "Command exited with non-zero status" line first).
time_fields() {
	tail -n 1 "$1"
}

# json_num FILE KEY: first numeric/boolean value of KEY (blkhydrate or fio JSON).
json_val() {
	grep -Eo "\"$2\" *: *(\"[^\"]*\"|[^,} ]+)" "$1" | head -n 1 |
		sed -E 's/^[^:]*: *//; s/"//g'
}

stat_val() {
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

random_src=
# make_image FILE SIZE [full]: sparse file of SIZE; 64 MiB pieces of random
# data with every tenth piece left a hole (about 90% data), or all data.
make_image() {
	local file=$1 size=$2 full=${3:-} bytes piece n i off len

	if [ -z "$random_src" ]; then
		random_src=$work/random.64M
		dd if=/dev/urandom of="$random_src" bs=1M count=64 status=none ||
			die "cannot make random data"
	fi
	truncate -s "$size" "$file" || die "cannot create $file"
	bytes=$(stat -c %s "$file")
	if [ $((bytes % MiB)) != 0 ] || [ "$bytes" = 0 ]; then
		die "size $size: must be a positive multiple of 1 MiB"
	fi
	piece=64
	if [ $((bytes / MiB / piece)) -lt 20 ]; then
		piece=$((bytes / MiB / 20))
		[ "$piece" -ge 1 ] || piece=1
	fi
	n=$(((bytes / MiB + piece - 1) / piece))
	for ((i = 0; i < n; i++)); do
		[ -z "$full" ] && [ $((i % 10)) = 5 ] && continue
		off=$((i * piece))
		len=$((bytes / MiB - off))
		[ "$len" -le "$piece" ] || len=$piece
		dd if="$random_src" of="$file" bs=1M seek="$off" count="$len" \
		   conv=notrunc status=none || die "cannot write $file"
	done
}

# Read FILE once so it is in page cache (lazysim's backing image plays the
# object store: its own disk reads must not show up in the timings).
prime() {
	dd if="$1" of=/dev/null bs=4M status=none
}

# Buffered readers (dd, cat) see the device's read-ahead. The loop driver
# gives itself 2560 KiB; Linux gives an EBS NVMe volume 128 KiB (AWS's
# volume performance guide starts its read-ahead tuning from that), so the
# simulated volume gets 128 KiB too. O_DIRECT readers (fio, blkhydrate) do
# not care.
BENCH_READAHEAD_KB=${BENCH_READAHEAD_KB:-128}
ebs_readahead() {
	echo "$BENCH_READAHEAD_KB" >"/sys/class/block/$(basename "$SIMVOL_DEV")/queue/read_ahead_kb"
}

sim_opts=(--latency "$BENCH_LATENCY" --concurrency "$BENCH_CONCURRENCY"
	  --bandwidth "$BENCH_BANDWIDTH" --chunk-size "$BENCH_CHUNK_SIZE")

# Results of the last timed run.
r_rc='' r_wall='' r_cpu='' r_rss=''
# timed OUTBASE CMD...: run CMD under GNU time, stdout/stderr to OUTBASE.out/.err
timed() {
	local base=$1 wall user sys rss

	shift
	"$TIME" -o "$base.time" -f '%e %U %S %M' "$@" >"$base.out" 2>"$base.err"
	r_rc=$?
	read -r wall user sys rss < <(time_fields "$base.time")
	r_wall=${wall:-0}
	r_cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.2f", u + s }')
	r_rss=$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
}

# Check a tool's own account of a whole-device read; print why not, return 1.
check_output() {
	local tool=$1 base=$2 want=$3 v

	case $tool in
	blkhydrate)
		v=$(json_val "$base.out" complete)
		[ "$v" = true ] || { echo "not complete (complete=$v)"; return 1; }
		v=$(json_val "$base.out" bytes)
		[ "$v" = "$want" ] || { echo "read $v bytes of $want"; return 1; }
		;;
	fio)
		v=$(json_val "$base.out" io_bytes)
		[ "$v" = "$want" ] || { echo "read ${v:-?} bytes of $want"; return 1; }
		;;
	dd)
		v=$(grep -Eo '^[0-9]+ bytes' "$base.err" | tail -n 1 | cut -d' ' -f1)
		[ "$v" = "$want" ] || { echo "copied ${v:-?} bytes of $want"; return 1; }
		;;
	esac
	return 0
}

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)

echo "blkhydrate benchmark"
echo "===================="
echo "date:       $(date '+%Y-%m-%d %H:%M:%S %z')"
echo "host:       $(uname -n), kernel $(uname -srm)"
echo "cpu:        ${cpu_model:-unknown} x $(nproc) (online), memory $mem_total"
echo "blkhydrate: $("$BLKHYDRATE" --version 2>&1 | head -n 1) (copy of $build/blkhydrate, built $built_at)"
if git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	echo "source:     $srcdir at $(git -C "$srcdir" describe --always --dirty 2>/dev/null)"
fi
echo "fio:        $(fio --version 2>&1 | head -n 1); dd: $(dd --version 2>&1 | head -n 1)"
echo "work dir:   $work"
echo "simulator:  lazysim ${sim_opts[*]}, read-ahead ${BENCH_READAHEAD_KB} KiB (BENCH_READAHEAD_KB)"
echo

# ---------------------------------------------------------------- cold ------
cold_tools=(dd fio blkhydrate)
declare -A cold_cmd cold_wall cold_own cold_cpu cold_rss cold_warm cold_infl cold_ok
DEV=\$DEV	# printed as they are, with a literal \$DEV
cold_cmd[dd]="dd if=$DEV of=/dev/null bs=1M"
cold_cmd[fio]="fio --name=read_test --filename=$DEV --rw=read --bs=1M --ioengine=libaio --iodepth=32 --direct=1 --readonly --output-format=json"
cold_cmd[blkhydrate]="blkhydrate hydrate --json --progress=never $DEV"

sim_stats_line() {
	echo "warm $(stat_val "$1" warm)/$(stat_val "$1" chunks)," \
	     "fetches $(stat_val "$1" fetches)/$(stat_val "$1" data_chunks) data," \
	     "peak in flight $(stat_val "$1" max_inflight), largest read $(($(stat_val "$1" max_read_size) / 1024))K"
}

# cold_one TOOL IMAGE SIZE: run TOOL on a fresh simulated volume.
cold_one() {
	local tool=$1 img=$2 want=$3 base=$work/cold.$1 dev why
	local -a cmd

	drop_caches
	prime "$img"
	if ! simvol_start "$img" "${sim_opts[@]}"; then
		fail "cold $tool: cannot start the simulator"
		return
	fi
	dev=$SIMVOL_DEV
	ebs_readahead
	case $tool in
	dd) cmd=(dd if="$dev" of=/dev/null bs=1M) ;;
	fio) cmd=(fio --name=read_test --filename="$dev" --rw=read --bs=1M --ioengine=libaio
		  --iodepth=32 --direct=1 --readonly --output-format=json) ;;
	blkhydrate) cmd=("$BLKHYDRATE" hydrate --json --progress=never "$dev") ;;
	esac
	timed "$base" "${cmd[@]}"
	cp "$SIMVOL_MNT/stats" "$base.stats"
	simvol_stop
	cold_wall[$tool]=$r_wall cold_cpu[$tool]=$r_cpu cold_rss[$tool]=$r_rss
	cold_warm[$tool]="$(stat_val "$base.stats" warm)/$(stat_val "$base.stats" chunks)"
	cold_infl[$tool]=$(stat_val "$base.stats" max_inflight)
	cold_own[$tool]=$(own_seconds "$tool" "$base")
	cold_ok[$tool]=1
	printf '  %-10s %7.2f s  CPU %5.2f s  RSS %6.1f MiB  %s\n' "$tool" \
	       "$r_wall" "$r_cpu" "$r_rss" "$(sim_stats_line "$base.stats")"
	if [ "$r_rc" != 0 ]; then
		cold_ok[$tool]=0
		fail "cold $tool exited with status $r_rc: $(tail -n 3 "$base.err" | tr '\n' ' ')"
	elif ! why=$(check_output "$tool" "$base" "$want"); then
		cold_ok[$tool]=0
		fail "cold $tool: $why"
	fi
	if [ "$(stat_val "$base.stats" warm)" != "$(stat_val "$base.stats" chunks)" ]; then
		cold_ok[$tool]=0
		fail "cold $tool left $(($(stat_val "$base.stats" chunks) - $(stat_val "$base.stats" warm))) chunks cold"
	fi
}

# own_seconds TOOL OUTBASE: the I/O time the tool reports itself (without
# process start-up), or "-".
own_seconds() {
	local v=

	case $1 in
	dd) v=$(grep -Eo 'copied, [0-9.]+ s' "$2.err" | tail -n 1 | grep -Eo '[0-9.]+') ;;
	fio) v=$(json_val "$2.out" runtime)
	     [ -z "$v" ] || v=$(awk -v m="$v" 'BEGIN { printf "%.3f", m / 1000 }') ;;
	blkhydrate) v=$(json_val "$2.out" seconds) ;;
	esac
	[ -n "$v" ] && printf '%.2f\n' "$v" || echo -
}

# Lower bounds of a full pass in the simulator, from a stats file: the shared
# bandwidth (lazysim's limit_us), and the fetch pool (ceil(data/concurrency)
# rounds of one latency each). Prints "BW_S POOL_S FLOOR_S".
sim_floor() {
	awk '{ v[$1] = $2 }
	     END {
		bw = v["limit_us"] / 1e6
		c = v["concurrency"]; d = v["data_chunks"]
		pool = (c ? int((d + c - 1) / c) : 0) * v["latency_us"] / 1e6
		printf "%.3f %.3f %.3f\n", bw, pool, (bw > pool ? bw : pool)
	     }' "$1"
}

if [ "$do_cold" = 1 ]; then
	t0=$SECONDS
	echo "Cold runs: a fresh simulated volume of $BENCH_SIZE for each tool"
	echo "-----------------------------------------------------------------"
	echo "Commands (\$DEV is a read-only, direct-I/O loop device over lazysim;"
	echo "page cache dropped before each run, each under $TIME -f '%e %U %S %M'):"
	for t in "${cold_tools[@]}"; do
		printf '  %-10s %s\n' "$t" "${cold_cmd[$t]}"
	done
	cold_img=$work/cold.img
	make_image "$cold_img" "$BENCH_SIZE"
	cold_bytes=$(stat -c %s "$cold_img")
	cold_data=$(du -B1 "$cold_img" | cut -f1)
	awk -v b="$cold_bytes" -v d="$cold_data" 'BEGIN {
		printf "Image: %.2f GiB, %.2f GiB of it data (%.0f%%), the rest holes\n\n",
		       b / 2^30, d / 2^30, 100 * d / b }'
	for t in "${cold_tools[@]}"; do
		cold_one "$t" "$cold_img" "$cold_bytes"
	done
	echo
	printf '%-12s| %8s | %6s | %6s | %6s | %12s | %11s | %s\n' tool "wall s" "vs fio" "own s" \
	       "CPU s" "peak RSS MiB" "chunks warm" "peak fetches"
	printf '%s\n' "------------+----------+--------+--------+--------+--------------+-------------+-------------"
	for t in "${cold_tools[@]}"; do
		[ -n "${cold_wall[$t]:-}" ] || continue
		ratio=-
		if [ -n "${cold_wall[fio]:-}" ] && [ "${cold_ok[fio]:-0}" = 1 ]; then
			ratio=$(awk -v a="${cold_wall[$t]}" -v b="${cold_wall[fio]}" \
				'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
		fi
		label=$t
		[ "${cold_ok[$t]}" = 1 ] || label="$t (FAILED)"
		printf '%-12s| %8.2f | %6s | %6s | %6.2f | %12.1f | %11s | %s\n' "$label" \
		       "${cold_wall[$t]}" "$ratio" "${cold_own[$t]}" "${cold_cpu[$t]}" "${cold_rss[$t]}" \
		       "${cold_warm[$t]}" "${cold_infl[$t]}"
	done
	echo "(vs fio: wall / fio's wall. own s: the tool's own I/O time, without process start-up:"
	echo " dd's 'copied, N s', fio's runtime, blkhydrate's seconds. peak fetches: most chunk"
	echo " fetches the simulator had in flight at once.)"
	st=''
	for f in "$work"/cold.blkhydrate.stats "$work"/cold.*.stats; do
		[ -f "$f" ] && { st=$f; break; }
	done
	if [ -n "$st" ]; then
		read -r bw_s pool_s floor_s < <(sim_floor "$st")
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
			awk -v w="${cold_wall[blkhydrate]}" -v s="$bw_s" -v f="$floor_s" \
			    -v j="$(json_val "$work/cold.blkhydrate.out" seconds)" 'BEGIN {
				printf "blkhydrate: %.2f s wall (%s s in its own report) = %.3fx the limit",
				       w, (j == "" ? "?" : j), (s > 0 ? w / s : 0)
				if (f > s) printf ", %.3fx the larger bound", w / f
				printf "\n" }'
		fi
	fi
	echo "(cold section: $((SECONDS - t0)) s)"
	echo
fi

# ----------------------------------------------------------------- hot ------
# hot_attach FILE: a read-only loop device with buffered backing reads.
hot_attach() {
	local i

	for ((i = 0; i < 5; i++)); do
		hot_dev=$(losetup -f --show -r --direct-io=off "$1" 2>"$work/losetup.err") && break
		hot_dev=
		sleep 0.1
	done
	[ -n "$hot_dev" ] || die "losetup failed: $(cat "$work/losetup.err")"
	hot_back=$1
}

# hot_runs OUTVAR_PREFIX KIND ARGS...: BENCH_REPEAT runs on $hot_dev; sets
# h_med (median MiB/s, tool-reported) and h_all (all values); 1 on failure.
h_med='' h_all=''
hot_runs() {
	local kind=$1 base=$work/hot i v why
	local -a vals=()

	shift
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		case $kind in
		fio) timed "$base" fio --name=hot --filename="$hot_dev" --rw=read \
			   --ioengine=io_uring --direct=1 --readonly --output-format=json "$@" ;;
		blkhydrate) timed "$base" "$BLKHYDRATE" hydrate --json --progress=never "$@" "$hot_dev" ;;
		esac
		if [ "$r_rc" != 0 ]; then
			fail "hot $kind $*: exit status $r_rc: $(tail -n 3 "$base.err" | tr '\n' ' ')"
			return 1
		fi
		if ! why=$(check_output "$kind" "$base" "$hot_bytes"); then
			fail "hot $kind $*: $why"
			return 1
		fi
		case $kind in
		fio) v=$(awk -v b="$(json_val "$base.out" bw_bytes)" 'BEGIN { printf "%.0f", b / 1048576 }') ;;
		blkhydrate) v=$(awk -v b="$(json_val "$base.out" throughput_mib_s)" 'BEGIN { printf "%.0f", b }') ;;
		esac
		vals+=("$v")
	done
	h_med=$(median "${vals[@]}")
	h_all="${vals[*]}"
	return 0
}

if [ "$do_hot" = 1 ]; then
	t0=$SECONDS
	echo "Hot runs: the engine's ceiling on a $BENCH_HOT_SIZE loop device over a file in page cache"
	echo "----------------------------------------------------------------------------------------"
	[ "$do_cold" = 0 ] || rm -f "$work/cold.img"	# give its page cache back
	hot_file=$work/hot.img
	make_image "$hot_file" "$BENCH_HOT_SIZE" full
	hot_bytes=$(stat -c %s "$hot_file")
	prime "$hot_file"
	backing=$BENCH_HOT_BACKING
	if [ "$backing" != file ]; then
		shm_file=$(mktemp /dev/shm/blkhydrate-bench.XXXXXX) || die "mktemp in /dev/shm failed"
		cp "$hot_file" "$shm_file" || die "cannot copy to $shm_file"
	fi
	if [ "$backing" = auto ]; then
		# blkhydrate defaults on each candidate; keep the faster backing.
		hot_attach "$hot_file"
		"$BLKHYDRATE" hydrate -q "$hot_dev" >/dev/null 2>&1	# warm-up
		hot_runs blkhydrate && p_file=$h_med || p_file=0
		hot_detach
		hot_attach "$shm_file"
		"$BLKHYDRATE" hydrate -q "$hot_dev" >/dev/null 2>&1
		hot_runs blkhydrate && p_shm=$h_med || p_shm=0
		hot_detach
		backing='file'
		[ "$p_shm" -le "$p_file" ] || backing=shm
		echo "Backing probe (blkhydrate defaults, median MiB/s): ext4 file in page cache $p_file," \
		     "/dev/shm $p_shm -> $backing"
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
	echo "MiB/s is each tool's own figure (bytes / I/O time; setup excluded), median of $BENCH_REPEAT runs."
	echo
	"$BLKHYDRATE" hydrate -q "$hot_dev" >/dev/null 2>&1	# warm-up
	printf '%-46s| %8s | %s\n' setting "MiB/s" "runs"
	printf '%s\n' "----------------------------------------------+----------+------------------"
	best_fio=0 best_fio_label='' best_fio_bs='' best_fio_qd=''
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
				printf '%-46s| %8s | %s\n' "$label" "$h_med" "$h_all"
				if [ "$h_med" -gt "$best_fio" ]; then
					best_fio=$h_med best_fio_label=$label best_fio_bs=$bs best_fio_qd=$qd
				fi
			done
		done
	done
	printf '%s\n' "----------------------------------------------+----------+------------------"
	bh_settings=("" "-s 1" "-d 32 -b 1M -s 1")
	[ -z "$best_fio_bs" ] || bh_settings+=("-d $best_fio_qd -b $best_fio_bs -s 1")
	bh_def=0 bh_best=0 bh_best_label=
	declare -A seen=()
	for s in "${bh_settings[@]}"; do
		[ -z "${seen["x$s"]:-}" ] || continue
		seen["x$s"]=1
		label="blkhydrate ${s:-(defaults: -d auto -b 512K -s 4)}"
		# shellcheck disable=SC2086 # word splitting of the options is wanted
		hot_runs blkhydrate $s || continue
		printf '%-46s| %8s | %s\n' "$label" "$h_med" "$h_all"
		[ -n "$s" ] || bh_def=$h_med
		if [ "$h_med" -gt "$bh_best" ]; then
			bh_best=$h_med bh_best_label=$label
		fi
	done
	echo
	if [ "$best_fio" -gt 0 ]; then
		echo "fio best:        $best_fio MiB/s ($best_fio_label)"
		awk -v d="$bh_def" -v b="$bh_best" -v f="$best_fio" -v l="$bh_best_label" 'BEGIN {
			printf "blkhydrate best: %d MiB/s = %.0f%% of fio best (%s)\n", b, 100 * b / f, l
			printf "blkhydrate default: %d MiB/s = %.0f%% of fio best\n", d, 100 * d / f }'
	fi
	hot_detach
	[ -z "$shm_file" ] || { rm -f "$shm_file"; shm_file=; }
	rm -f "$work/hot.img"
	echo "(hot section: $((SECONDS - t0)) s)"
	echo
fi

# ---------------------------------------------------------------- prio ------
# The model files first. One ext4 volume, the model written last so that it
# lies late on the disk, part of the file system free (holding old data, so
# that the snapshot has it). Each run on a fresh simulated volume, mounted
# read-only, page cache dropped.
prio_mount() {
	ebs_readahead
	mount -o ro,noload "$SIMVOL_DEV" "$prio_mnt" || return 1
	# The simulator's clock when the run starts: fetch times are relative to it.
	prio_t0=$(stat_val "$SIMVOL_MNT/stats" elapsed_us)
}

prio_unmount() {
	cp "$SIMVOL_MNT/stats" "$1.stats"
	cp "$SIMVOL_MNT/chunks" "$1.chunks"
	umount "$prio_mnt"
	simvol_stop
}

# prio_reader OUTBASE: cat each model file, buffered, as a model server would.
prio_reader() {
	timed "$1" sh -c 'for f; do cat "$f" >/dev/null || exit 1; done' reader "${prio_models[@]}"
}

# Seconds from the run's start until every model chunk was warm.
model_warm_s() {
	awk -v t0="$prio_t0" 'NR == FNR { m[$1] = 1; next }
	     ($2 in m) && $4 > e { e = $4 }
	     END { printf "%.2f\n", (e - t0) / 1e6 }' "$work/prio.model-chunks" "$1.chunks"
}

# prio_run NAME HYDRATOR...: the hydrator and the reader started together;
# @DEV@ in the hydrator's arguments stands for the fresh simulated device.
prio_run() {
	local name=$1 base=$work/prio.$1 pid a
	local -a cmd=()

	shift
	drop_caches
	simvol_start "$prio_img" "${sim_opts[@]}" && prio_mount ||
		{ fail "prio $name: cannot start the simulator"; return 1; }
	for a; do cmd+=("${a//@DEV@/$SIMVOL_DEV}"); done
	if [ $# -gt 0 ]; then
		"$TIME" -o "$base.h.time" -f '%e %U %S %M' "${cmd[@]}" >"$base.h.out" 2>"$base.h.err" &
		pid=$!
	fi
	prio_reader "$base.r"
	p_reader=$r_wall
	[ "$r_rc" = 0 ] || fail "prio $name: the reader failed: $(tail -n 2 "$base.r.err" | tr '\n' ' ')"
	p_hwall=-
	if [ $# -gt 0 ]; then
		wait "$pid" || fail "prio $name: $1 exited with status $?"
		read -r p_hwall _ < <(time_fields "$base.h.time")
	fi
	prio_unmount "$base"
	p_warm=$(model_warm_s "$base")
	p_allwarm=$(stat_val "$base.stats" warm)/$(stat_val "$base.stats" chunks)
}

if [ "$do_prio" = 1 ]; then
	t0=$SECONDS
	echo "Model first: a $BENCH_PRIO_SIZE ext4 volume, a $BENCH_PRIO_MODEL model written last, $BENCH_PRIO_FREE% free"
	echo "------------------------------------------------------------------------------------------"
	prio_img=$work/prio.img
	prio_mnt=$work/prio.mnt
	mkdir -p "$prio_mnt"
	make_image "$prio_img" "$BENCH_PRIO_SIZE" full	# free space holds old data
	mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0 "$prio_img" || die "mkfs.ext4 failed"
	prio_rw=$(losetup -f --show "$prio_img") || die "losetup failed"
	mount "$prio_rw" "$prio_mnt" || die "cannot mount the priority volume"
	mkdir -p "$prio_mnt/usr" "$prio_mnt/opt/models"
	avail=$(df -B1M --output=avail "$prio_mnt" | tail -n 1)
	model_mib=$(($(numfmt --from=iec "$BENCH_PRIO_MODEL") / MiB))
	sys_mib=$((avail * (100 - BENCH_PRIO_FREE) / 100 - model_mib))
	[ "$sys_mib" -gt 0 ] || die "BENCH_PRIO_MODEL leaves no room for system files"
	i=0
	while [ $((i * 64)) -lt "$sys_mib" ]; do
		cp "$random_src" "$prio_mnt/usr/system-$i.bin" || die "cannot write system files"
		i=$((i + 1))
	done
	sync
	for m in 1 2; do
		dd if=/dev/urandom of="$prio_mnt/opt/models/weights-$m.safetensors" bs=1M \
		   count=$((model_mib / 2)) status=none || die "cannot write the model"
	done
	sync
	umount "$prio_mnt"
	losetup -d "$prio_rw"
	prio_rw=
	prime "$prio_img"
	prio_models=("$prio_mnt/opt/models/weights-1.safetensors" "$prio_mnt/opt/models/weights-2.safetensors")
	pattern="$prio_mnt/opt/models/*.safetensors"

	# The model's chunks and the used share, from blkhydrate's own plans.
	simvol_start "$prio_img" "${sim_opts[@]}" && prio_mount || die "cannot start the simulator"
	"$BLKHYDRATE" plan --json -p "$pattern" "$SIMVOL_DEV" >"$work/prio.plan" ||
		die "plan failed"
	"$BLKHYDRATE" plan --json --used "$SIMVOL_DEV" >"$work/prio.used-plan" || die "plan --used failed"
	chunk=$(stat_val "$SIMVOL_MNT/stats" chunk_size)
	prio_dev_bytes=$(stat_val "$SIMVOL_MNT/stats" image_size)
	umount "$prio_mnt"
	simvol_stop
	python3 - "$work/prio.plan" "$chunk" >"$work/prio.model-chunks" <<'PY' || die "python3 failed"
import json, sys
plan, chunk = json.load(open(sys.argv[1])), int(sys.argv[2])
seen = set()
for ph in plan["targets"][0]["phases"]:
    if ph["kind"] == "priority":
        for off, ln in ph["ranges"]:
            seen.update(range(off // chunk, (off + ln - 1) // chunk + 1))
print("\n".join(str(c) for c in sorted(seen)))
PY
	model_chunks=$(wc -l <"$work/prio.model-chunks")
	first_model=$(head -n 1 "$work/prio.model-chunks")
	used_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["targets"][0]["bytes"])' "$work/prio.used-plan")
	bw=$(numfmt --from=iec "$BENCH_BANDWIDTH")
	read -r lim_bw lim_pool < <(awk -v n="$model_chunks" -v cs="$chunk" -v bw="$bw" \
		-v c="$BENCH_CONCURRENCY" -v l="$BENCH_LATENCY" 'BEGIN {
		printf "%.3f %.3f\n", (bw > 0 ? n * cs / bw : 0), int((n + c - 1) / c) * l / 1000 }')
	model_limit=$(awk -v a="$lim_bw" -v b="$lim_pool" 'BEGIN { print (a > b ? a : b) }')
	awk -v n="$model_chunks" -v f="$first_model" -v c="$chunk" -v d="$prio_dev_bytes" \
	    -v u="$used_bytes" -v a="$lim_bw" -v p="$lim_pool" 'BEGIN {
		printf "Model: %d chunks of %d KiB, the first at %.0f%% of the device\n", n, c / 1024, 100 * f * c / d
		printf "Used space (GETFSMAP): %.2f GiB of %.2f GiB (%.0f%%)\n", u / 2^30, d / 2^30, 100 * u / d
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
	[ "$a_bh" = "$(stat_val "$work/prio.blkhydrate.stats" chunks)/$(stat_val "$work/prio.blkhydrate.stats" chunks)" ] ||
		fail "prio blkhydrate left chunks cold ($a_bh)"
	# Whole and --used, no reader: how the used share shows in the time.
	prio_whole() {
		drop_caches
		simvol_start "$prio_img" "${sim_opts[@]}" && prio_mount || { fail "prio $1: simulator"; return 1; }
		timed "$work/prio.$1" "$BLKHYDRATE" hydrate --json --progress=never "${@:2}" "$SIMVOL_DEV"
		[ "$r_rc" = 0 ] || fail "prio $1: exit status $r_rc"
		prio_unmount "$work/prio.$1"
	}
	prio_whole whole
	h_whole=$r_wall
	prio_whole used --used
	h_used=$r_wall
	[ "$(json_val "$work/prio.used.out" mode)" = used ] || fail "prio --used: not in used mode"

	printf '%-40s| %9s | %10s | %12s | %s\n' run "reader s" "model warm" "hydrator s" "chunks warm at end"
	printf '%s\n' "----------------------------------------+-----------+------------+--------------+-------------------"
	printf '%-40s| %9.2f | %9.2fs | %12s | %s\n' "reader alone (cat of each model file)" "$r_alone" "$w_alone" - -
	printf '%-40s| %9.2f | %9.2fs | %12.2f | %s\n' "reader + AWS fio whole-device command" "$r_fio" "$w_fio" "$h_fio" "$a_fio"
	printf '%-40s| %9.2f | %9.2fs | %12.2f | %s\n' "reader + blkhydrate -p MODEL" "$r_bh" "$w_bh" "$h_bh" "$a_bh"
	printf '%-40s| %9s | %10s | %12.2f | %s\n' "blkhydrate (whole device, no reader)" - - "$h_whole" \
	       "$(stat_val "$work/prio.whole.stats" warm)/$(stat_val "$work/prio.whole.stats" chunks)"
	printf '%-40s| %9s | %10s | %12.2f | %s\n' "blkhydrate --used (no reader)" - - "$h_used" \
	       "$(stat_val "$work/prio.used.stats" warm)/$(stat_val "$work/prio.used.stats" chunks)"
	echo
	awk -v l="$model_limit" -v w="$w_bh" -v r="$r_bh" -v ra="$r_alone" -v rf="$r_fio" \
	    -v p="${pri_s:-0}" -v hb="$h_bh" -v hf="$h_fio" -v hw="$h_whole" -v hu="$h_used" \
	    -v u="$used_bytes" -v d="$prio_dev_bytes" 'BEGIN {
		printf "Simulator limit for the model bytes:         %.2f s\n", l
		printf "blkhydrate: every model chunk warm after      %.2f s = %.2fx the limit (target <= 1.10x; priority_seconds %.2f)\n", w, w / l, p
		printf "reader beside blkhydrate finished after       %.2f s = %.2fx the limit (target <= 1.25x)\n", r, r / l
		printf "reader beside fio finished after              %.2f s = %.2fx the limit\n", rf, rf / l
		printf "reader alone finished after                   %.2f s = %.2fx the limit\n", ra, ra / l
		printf "whole volume: blkhydrate %.2f s vs fio %.2f s = %.2fx (target <= 1.00x)\n", hb, hf, hb / hf
		printf "--used: %.2f s vs whole %.2f s = %.2f; used share %.2f\n", hu, hw, hu / hw, u / d }'
	echo "(prio section: $((SECONDS - t0)) s)"
	echo
fi

# --------------------------------------------------------------- sweep ------
if [ "$do_sweep" = 1 ]; then
	t0=$SECONDS
	echo "Sweep: blkhydrate on a fresh cold $BENCH_SWEEP_SIZE simulated volume per setting"
	echo "--------------------------------------------------------------------------------"
	echo "Command: blkhydrate hydrate --json --progress=never -d QD -b BS -s STRIDES \$DEV"
	sweep_img=$work/sweep.img
	make_image "$sweep_img" "$BENCH_SWEEP_SIZE"
	sweep_bytes=$(stat -c %s "$sweep_img")
	prime "$sweep_img"
	# All O_DIRECT and a fresh loop device each time: no cache to drop, and
	# the image stays cached for lazysim.
	rows=()
	best_w='' best_row=''
	sweep_floor=
	for qd in $BENCH_SWEEP_QD; do
		for bs in $BENCH_SWEEP_BS; do
			for sn in $BENCH_SWEEP_STRIDES; do
				base=$work/sweep
				if ! simvol_start "$sweep_img" "${sim_opts[@]}"; then
					fail "sweep -d $qd -b $bs -s $sn: cannot start the simulator"
					continue
				fi
				timed "$base" "$BLKHYDRATE" hydrate --json --progress=never \
				      -d "$qd" -b "$bs" -s "$sn" "$SIMVOL_DEV"
				cp "$SIMVOL_MNT/stats" "$base.stats"
				simvol_stop
				note=
				if [ "$r_rc" != 0 ]; then
					fail "sweep -d $qd -b $bs -s $sn: exit status $r_rc"
					note=FAILED
				elif ! why=$(check_output blkhydrate "$base" "$sweep_bytes"); then
					fail "sweep -d $qd -b $bs -s $sn: $why"
					note=FAILED
				elif [ "$(stat_val "$base.stats" warm)" != "$(stat_val "$base.stats" chunks)" ]; then
					fail "sweep -d $qd -b $bs -s $sn: chunks left cold"
					note=FAILED
				fi
				[ -n "$sweep_floor" ] || read -r _ _ sweep_floor < <(sim_floor "$base.stats")
				[ "$qd/$bs/$sn" = 64/512K/4 ] && note="${note:+$note }old default"
				row=$(printf '%5s %6s %7s | %7.2f | %6.3fx | %5.2f | %7.1f | %9s | %s' \
				      "$qd" "$bs" "$sn" "$r_wall" \
				      "$(awk -v w="$r_wall" -v f="$sweep_floor" 'BEGIN { print (f > 0 ? w / f : 0) }')" \
				      "$r_cpu" "$r_rss" "$(stat_val "$base.stats" max_inflight)" "$note")
				rows+=("$row")
				echo "  $row"
				if [ -z "$note" ] || [ "$note" = default ]; then
					if [ -z "$best_w" ] || awk -v a="$r_wall" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then
						best_w=$r_wall best_row="-d $qd -b $bs -s $sn"
					fi
				fi
			done
		done
	done
	echo
	echo "Bound of the simulator for this volume: ${sweep_floor:-?} s" \
	     "(max of bandwidth limit and fetch-pool bound)"
	printf '%5s %6s %7s | %7s | %7s | %5s | %7s | %9s |\n' qd bs strides "wall s" "/bound" "CPU s" \
	       "RSS MiB" "peak fetch"
	printf '%s\n' "---------------------+---------+---------+-------+---------+-----------+--------"
	printf '%s\n' "${rows[@]}"
	[ -z "$best_row" ] || echo "fastest: $best_row ($best_w s)"
	echo "(sweep section: $((SECONDS - t0)) s)"
	echo
fi

# --------------------------------------------------------------- adapt ------
# adapt_run LABEL IMAGE BYTES OPTS...: one run on a fresh simulated volume;
# sets a_s (blkhydrate's own seconds) and a_depth (the depth it reports).
a_s='' a_depth=''
adapt_run() {
	local label=$1 img=$2 want=$3 base=$work/adapt why

	shift 3
	a_s='' a_depth=''
	if ! simvol_start "$img" --latency "$a_lat" --concurrency "$a_conc" \
			--bandwidth "$BENCH_ADAPT_BANDWIDTH" --chunk-size 512K; then
		fail "adapt $label: cannot start the simulator"
		return 1
	fi
	timed "$base" "$BLKHYDRATE" hydrate --json --progress=never "$@" "$SIMVOL_DEV"
	cp "$SIMVOL_MNT/stats" "$base.stats"
	simvol_stop
	if [ "$r_rc" != 0 ]; then
		fail "adapt $label: exit status $r_rc"
		return 1
	elif ! why=$(check_output blkhydrate "$base" "$want"); then
		fail "adapt $label: $why"
		return 1
	fi
	a_s=$(json_val "$base.out" seconds)
	a_depth=$(json_val "$base.out" queue_depth)
}

if [ "$do_adapt" = 1 ]; then
	t0=$SECONDS
	echo "Auto depth: fixed depths against --queue-depth auto, on fresh simulated volumes"
	echo "-------------------------------------------------------------------------------"
	echo "Simulator: 512K chunks, CONC fetches at once, LAT ms each, shared bandwidth cap" \
	     "$BENCH_ADAPT_BANDWIDTH bytes/s (0: none)."
	echo "Command: blkhydrate hydrate --json --progress=never [-d QD] \$DEV; times are"
	echo "blkhydrate's own (its JSON seconds), volume sized for about $BENCH_ADAPT_SECONDS s at the cap."
	summary=()
	for a_conc in $BENCH_ADAPT_CONC; do
		for a_lat in $BENCH_ADAPT_LAT; do
			mibs=$(awk -v c="$a_conc" -v l="$a_lat" -v h="$BENCH_ADAPT_HOST" \
				-v b="$(numfmt --from=iec "$BENCH_ADAPT_BANDWIDTH")" 'BEGIN {
				r = c * 0.5 / (l / 1000); if (b > 0 && b / 1048576 < r) r = b / 1048576
				print int(r < h ? r : h) }')
			size=$(awk -v r="$mibs" -v s="$BENCH_ADAPT_SECONDS" -v m="$BENCH_ADAPT_MAX_SIZE" \
				'BEGIN { v = int(r * s / 64) * 64; if (v < 256) v = 256; if (v > m) v = m; print v }')
			img=$work/adapt.img
			head -c $((size * MiB)) /dev/zero | tr '\0' 'a' >"$img" || die "cannot write $img"
			prime "$img"
			echo
			echo "concurrency $a_conc, latency $a_lat ms: $size MiB (cap $mibs MiB/s)"
			best_s='' best_qd=''
			for qd in $BENCH_ADAPT_QD; do
				if [ $((qd * 4)) -lt "$a_conc" ]; then
					printf '  -d %-5s skipped (under a quarter of the cap)\n' "$qd"
					continue
				fi
				adapt_run "-d $qd" "$img" $((size * MiB)) -d "$qd" || continue
				printf '  -d %-5s %7.2f s  %7.1f MiB/s\n' "$qd" "$a_s" \
				       "$(awk -v s="$a_s" -v m="$size" 'BEGIN { print m / s }')"
				if [ -z "$best_s" ] || awk -v a="$a_s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
					best_s=$a_s best_qd=$qd
				fi
			done
			adapt_run auto "$img" $((size * MiB)) || continue
			printf '  auto     %7.2f s  %7.1f MiB/s  (settled on depth %s)\n' "$a_s" \
			       "$(awk -v s="$a_s" -v m="$size" 'BEGIN { print m / s }')" "$a_depth"
			summary+=("$(printf '%4s %5s | %6s MiB | %3s at %7.2f s | %3s at %7.2f s | %+6.1f%%' \
				"$a_conc" "$a_lat" "$size" "$best_qd" "$best_s" "$a_depth" "$a_s" \
				"$(awk -v a="$a_s" -v b="$best_s" 'BEGIN { print 100 * (a - b) / b }')")")
			rm -f "$img"
		done
	done
	echo
	printf '%4s %5s | %10s | %-16s | %-16s | %s\n' conc "lat" size "best fixed" "auto (depth)" \
	       "auto vs best"
	printf '%s\n' "-----------+------------+------------------+------------------+-------------"
	printf '%s\n' "${summary[@]}"
	echo "(auto vs best: auto's time over the best fixed depth's, + is slower. Auto starts"
	echo " at depth 4 and pays for finding the knee once: on short volumes that shows.)"
	echo "(adapt section: $((SECONDS - t0)) s)"
	echo
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "FAILURES:"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
echo "All runs succeeded."
exit 0
