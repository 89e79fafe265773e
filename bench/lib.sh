# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034 # globals used by the sections
#
# lib.sh - what the benchmark's sections share: the work dir and its
# cleanup, images, fresh simulated volumes (tests/lib/simvol.sh) and loop
# devices (tests/lib/loop.sh), wall-clock timing with CPU and peak RSS, the
# tools' own accounts of a run, the simulator's counters and bounds, and
# the checks that keep every run honest. Sourced by bench.sh, never run.

MiB=1048576
work=
shm_file=
prio_mnt=
failures=()

die() {
	echo "bench.sh: $*" >&2
	exit 2
}

# A failed run is reported where it happens and again in the summary.
fail() {
	failures+=("$*")
	echo "  FAILED: $*"
}

# shellcheck disable=SC2317 # called from the EXIT trap
bench_cleanup() {
	local rc=$?

	trap - EXIT INT TERM HUP
	[ -z "$prio_mnt" ] || ! mountpoint -q "$prio_mnt" || umount "$prio_mnt"
	simvol_stop
	loop_detach_all
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

# bench_setup SRCDIR BUILD: check prerequisites, make the work dir, copy
# the binaries (a rebuild during the benchmark cannot mix two of them).
bench_setup() {
	local srcdir=$1 build=$2 c

	BLKHYDRATE=$build/blkhydrate
	LAZYSIM=$build/tools/lazysim
	TIME=/usr/bin/time
	export LAZYSIM
	[ "$(id -u)" = 0 ] || die "run me as root (loop devices, FUSE, drop_caches)"
	[ -x "$BLKHYDRATE" ] || die "$BLKHYDRATE not built"
	[ -x "$TIME" ] || die "$TIME (GNU time) is needed"
	for c in fio dd losetup truncate awk fincore filefrag dumpe2fs numfmt; do
		command -v "$c" >/dev/null 2>&1 || die "$c is needed"
	done
	# shellcheck source=../tests/lib/simvol.sh disable=SC1091
	. "$srcdir/tests/lib/simvol.sh"
	# shellcheck source=../tests/lib/loop.sh disable=SC1091
	. "$srcdir/tests/lib/loop.sh"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	work=$(mktemp -d /var/tmp/blkhydrate-bench.XXXXXX) || die "mktemp failed"
	# simvol_start makes its mount point under $TMPDIR: keep it in the work dir.
	export TMPDIR=$work
	cd "$work" || die "cannot enter $work"
	built_at=$(date -r "$BLKHYDRATE" '+%Y-%m-%d %H:%M:%S')
	mkdir "$work/bin" || die "cannot make $work/bin"
	cp "$BLKHYDRATE" "$work/bin/blkhydrate" || die "cannot copy $BLKHYDRATE"
	BLKHYDRATE=$work/bin/blkhydrate
	if [ -x "$LAZYSIM" ]; then
		cp "$LAZYSIM" "$work/bin/lazysim" || die "cannot copy $LAZYSIM"
		LAZYSIM=$work/bin/lazysim
	fi
}

# grid_args NAME ARGS...: a grid script's command line ([--full] [BUILD_DIR]):
# sets full (0 or 1) and build (the build dir, absolute). NAME is the script.
grid_args() {
	local name=$1 build_arg=

	shift
	full=0
	while [ $# -gt 0 ]; do
		case $1 in
		--full) full=1 ;;
		-h | --help) sed -n '3,/^$/p' "$script_dir/$name" | sed 's/^# \{0,1\}//'; exit 0 ;;
		-*) echo "$name: unknown option '$1'" >&2
		    echo "Try 'bench/$name --help'." >&2; exit 2 ;;
		*) build_arg=$1 ;;
		esac
		shift
	done
	build=$(cd "${build_arg:-$script_dir/../_build}" 2>/dev/null && pwd) ||
		die "no build dir ${build_arg:-$script_dir/../_build}"
}

# grid_full_rows: the full grid's rows, LAT:CONC:MIBS: latency 2 10 20 40 ms x
# 4 16 128 fetches at once x 200 500 1000 MiB/s.
grid_full_rows() {
	local l c b

	for l in 2 10 20 40; do for c in 4 16 128; do for b in 200 500 1000; do
		printf '%s ' "$l:$c:$b"
	done; done; done
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# json_val FILE KEY: first value of KEY in blkhydrate's or fio's JSON.
json_val() {
	grep -Eo "\"$2\" *: *(\"[^\"]*\"|[^,} ]+)" "$1" | head -n 1 |
		sed -E 's/^[^:]*: *//; s/"//g'
}

# stat_val FILE KEY: one value of a lazysim stats file.
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

# prime FILE: read FILE into the page cache (lazysim's backing image plays
# the object store, and a hot device's backing is the engine's ceiling:
# their own disk reads must not show up in the timings).
prime() {
	dd if="$1" of=/dev/null bs=4M status=none
}

# resident FILE [SLACK]: all of FILE but SLACK bytes is in page cache;
# prints why not, returns 1.
resident() {
	local res size

	read -r res size < <(fincore -b -n -o RES,SIZE "$1")
	if [ "${res:-0}" -lt "$((${size:-1} / 4096 * 4096 - ${2:-0}))" ]; then
		echo "$1: only ${res:-0} of ${size:-?} bytes in page cache"
		return 1
	fi
}

# Buffered readers (dd, cat) see the device's read-ahead. The loop driver
# gives itself 2560 KiB; Linux gives an EBS NVMe volume 128 KiB (AWS's
# volume performance guide starts its read-ahead tuning from that), so the
# simulated volume gets 128 KiB too. O_DIRECT readers (fio, blkhydrate) do
# not care.
ebs_readahead() {
	echo "$BENCH_READAHEAD_KB" >"/sys/class/block/$(basename "$SIMVOL_DEV")/queue/read_ahead_kb"
}

# sim_fresh WHAT IMAGE LAZYSIM_OPTS...: the same start for every run of
# every section: page cache dropped, the image read back in, a fresh
# simulated volume (sim_start). A section whose readers are all O_DIRECT
# sets sim_drop=0: nothing of the volume can be cached, and the image is
# only topped up, not read from disk again.
sim_drop=1 sim_what='' sim_img=''
sim_fresh() {
	local i

	[ "$sim_drop" = 0 ] || drop_caches
	# Others on the machine may drop caches too: a few tries.
	for i in 1 2 3; do
		prime "$2"
		resident "$2" >/dev/null && break
	done
	sim_start "$@"
}

# sim_start WHAT IMAGE LAZYSIM_OPTS...: a simulated volume over IMAGE, which
# must be in page cache, every chunk cold, read-ahead as on EBS. Reports a
# failure naming WHAT and returns 1.
sim_start() {
	local what=$1 img=$2 why

	shift 2
	if ! why=$(resident "$img"); then
		fail "$what: $why"
		return 1
	fi
	if ! simvol_start "$img" "$@"; then
		fail "$what: cannot start the simulator"
		return 1
	fi
	sim_what=$what sim_img=$img
	ebs_readahead
}

# sim_end OUTBASE: keep the simulator's counters and fetch record, stop it.
# An image evicted during the run means the run's time included disk reads:
# a few pages (a loaded machine reclaims some) cost milliseconds, a MiB is
# a failure.
sim_end() {
	local why

	cp "$SIMVOL_MNT/stats" "$1.stats"
	cp "$SIMVOL_MNT/chunks" "$1.chunks"
	simvol_stop
	why=$(resident "$sim_img" "$MiB") || fail "$sim_what: during the run, $why"
}

# first_fetch LIST CHUNKS T0: when the first fetch of a chunk of LIST began,
# in seconds after T0, by the same log; "-" when none was fetched.
first_fetch() {
	awk -v t0="$3" 'NR == FNR { m[$1] = 1; next }
	     ($2 in m) && (s == "" || $3 < s) { s = $3 }
	     END { if (s == "") print "-"; else printf "%.3f\n", (s - t0) / 1e6 }' "$1" "$2"
}

# chunks_warm LIST CHUNKS T0: "SECONDS MISSING": when the last chunk of LIST
# (one chunk index a line) was fetched, in seconds after T0 (microseconds,
# the simulator's clock), by the simulator's CHUNKS log of a run, and how
# many of LIST it never fetched.
chunks_warm() {
	awk -v t0="$3" 'NR == FNR { m[$1] = 1; n++; next }
	     ($2 in m) { if (!($2 in got)) { got[$2] = 1; k++ } if ($4 > e) e = $4 }
	     END { printf "%.2f %d\n", (e - t0) / 1e6, n - k }' "$1" "$2"
}

# warm_of STATS: "warm/chunks" of a run, or "-" without one.
warm_of() {
	[ -f "$1" ] || { echo -; return; }
	echo "$(stat_val "$1" warm)/$(stat_val "$1" chunks)"
}

# sim_check_whole WHAT STATS: a run that read the whole volume left every
# chunk warm, and fetched each data chunk exactly once (holes cost nothing).
sim_check_whole() {
	local chunks warm data fetches

	chunks=$(stat_val "$2" chunks) warm=$(stat_val "$2" warm)
	data=$(stat_val "$2" data_chunks) fetches=$(stat_val "$2" fetches)
	[ "$warm" = "$chunks" ] || fail "$1 left $((chunks - warm)) chunks cold"
	[ "$fetches" = "$data" ] || fail "$1: $fetches fetches for $data data chunks"
	[ "$warm" = "$chunks" ] && [ "$fetches" = "$data" ]
}

sim_stats_line() {
	echo "warm $(stat_val "$1" warm)/$(stat_val "$1" chunks)," \
	     "fetches $(stat_val "$1" fetches)/$(stat_val "$1" data_chunks) data," \
	     "peak in flight $(stat_val "$1" max_inflight), largest read $(($(stat_val "$1" max_read_size) / 1024))K"
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

# Results of the last timed run: exit status, wall seconds (the bench's own
# clock around the process, the same for every tool), CPU seconds, MiB.
r_rc='' r_wall='' r_cpu='' r_rss=''
# timed OUTBASE CMD...: run CMD, stdout/stderr to OUTBASE.out/.err.
timed() {
	local base=$1 t0 t1 user sys rss

	shift
	t0=$EPOCHREALTIME
	"$TIME" -o "$base.time" -f '%U %S %M' "$@" >"$base.out" 2>"$base.err"
	r_rc=$?
	t1=$EPOCHREALTIME
	# A failed command adds a "Command exited with non-zero status" line first.
	read -r user sys rss < <(tail -n 1 "$base.time")
	r_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	r_cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.2f", u + s }')
	r_rss=$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
}

# timed_bg OUTBASE CMD...: timed in the background; timed_wait reads it back.
timed_bg() {
	local base=$1

	(timed "$@"; echo "$r_rc $r_wall $r_cpu $r_rss" >"$base.res") &
	bg_pid=$!
}

timed_wait() {
	wait "$bg_pid"
	read -r r_rc r_wall r_cpu r_rss <"$1.res" || r_rc=1
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

# check_run WHAT TOOL OUTBASE BYTES: the last timed run exited 0 and the
# tool says it read BYTES.
check_run() {
	local why

	if [ "$r_rc" != 0 ]; then
		fail "$1: exit status $r_rc: $(tail -n 3 "$3.err" | tr '\n' ' ')"
		return 1
	fi
	if ! why=$(check_output "$2" "$3" "$4"); then
		fail "$1: $why"
		return 1
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

# ratio A B: A / B with two decimals and an x, or "-".
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx\n", a / b; else print "-" }'
}

# section_begin TITLE / section_end NAME: a section's heading and its time;
# section_times collects them for the summary.
section_times=()
section_begin() {
	section_t0=$EPOCHREALTIME
	echo "$1"
	printf '%*s\n' "${#1}" '' | tr ' ' -
}

section_end() {
	local s

	s=$(awk -v a="$section_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	section_times+=("$1 $s s")
	echo "($1 section: $s s)"
	echo
}
