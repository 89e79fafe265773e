#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# measure-granularity.sh - answer, on a real cloud volume, the question touch
# mode stands on: does a small read of a cold snapshot block fetch the whole
# block? Run it as root on volumes freshly created from a snapshot (never
# read, never mounted, no Fast Snapshot Restore), on an instance where
# nothing else reads them:
#
#   contrib/measure-granularity.sh [--seconds N] [--out DIR] DEV_A [DEV_B]
#
# 1. blkhydrate probe --granularity on DEV_A: the verdict (whole, partial or
#    unsure) with its evidence.
# 2. blkhydrate hydrate --read-mode touch on DEV_A: touch mode's speed (its
#    samples switch it to full reads if the volume fetches only what is read).
# 3. With DEV_B, a second fresh volume from the same snapshot: hydrate
#    --read-mode full on it, full reads' speed on the same data. One volume
#    cannot give both: once read, it is warm.
#
# --seconds N stops each hydration after N seconds (SIGINT: the run drains
# and prints its summary), so a large volume is measured in minutes; speeds
# are bytes hydrated per second either way. Results (the probe's JSON, each
# run's JSON and log, a summary) go to --out (default ./granularity-DATE).
# Nothing is written to the volumes: blkhydrate opens them read-only. State
# and locks go to a scratch directory, so the ledger is not touched.
set -u
set -o pipefail

seconds=0
out=
usage() {
	sed -n '/^#   contrib/,/^$/p' "$0" | sed 's/^# \{0,1\}//'
	echo "Options: --seconds N (stop each hydration after N s), --out DIR, -h"
}
die() {
	echo "measure-granularity.sh: $*" >&2
	exit 1
}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) [ $# -ge 2 ] || die "--seconds needs a number"; seconds=$2; shift ;;
	--out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) die "unknown option '$1' (try --help)" ;;
	*) break ;;
	esac
	shift
done
case $seconds in '' | *[!0-9]*) die "--seconds: a whole number" ;; esac
[ $# -ge 1 ] && [ $# -le 2 ] || die "give one or two devices (try --help)"
dev_a=$1 dev_b=${2:-}
BLKHYDRATE=${BLKHYDRATE:-$(command -v blkhydrate)}
[ -x "$BLKHYDRATE" ] || die "blkhydrate not found (set BLKHYDRATE)"
[ "$(id -u)" = 0 ] || die "run me as root"
for d in "$dev_a" $dev_b; do
	[ -b "$d" ] || die "$d: not a block device"
	! grep -q "^$(readlink -f "$d") " /proc/mounts || die "$d: mounted; use a fresh, unread volume"
done
[ "$dev_a" != "$dev_b" ] || die "DEV_A and DEV_B must be two volumes"

out=${out:-./granularity-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || die "cannot make $out"
scratch=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$scratch"' EXIT
export BLKHYDRATE_STATE_DIR=$scratch/state BLKHYDRATE_LOCK_DIR=$scratch/lock

# json FILE KEY: the first value of KEY.
json() {
	grep -o "\"$2\":\\(\"[^\"]*\"\\|[^,}]*\\)" "$1" | head -n 1 | sed 's/^[^:]*://' | tr -d '"'
}

# hydrate NAME DEV MODE: one timed hydration, its JSON in $out/NAME.json.
hydrate() {
	local name=$1 dev=$2 mode=$3 cmd

	cmd=("$BLKHYDRATE" hydrate --json --progress=never --read-mode "$mode" "$dev")
	[ "$seconds" = 0 ] || cmd=(timeout -s INT "$seconds" "${cmd[@]}")
	echo "== $name: ${cmd[*]}"
	"${cmd[@]}" >"$out/$name.json" 2>"$out/$name.log"
	echo "   exit status $?; $(json "$out/$name.json" bytes) bytes hydrated in" \
	     "$(json "$out/$name.json" seconds) s = $(json "$out/$name.json" throughput_mib_s) MiB/s;" \
	     "guest read $(json "$out/$name.json" guest_bytes) bytes;" \
	     "read_mode $(sed 's/.*"targets":\[//' "$out/$name.json" | grep -o '"read_mode":"[a-z]*"' |
			   head -n 1 | cut -d'"' -f4), switched $(json "$out/$name.json" touch_switched)"
}

{
	echo "blkhydrate granularity measurement, $(date '+%Y-%m-%d %H:%M:%S %z')"
	echo "blkhydrate: $("$BLKHYDRATE" --version | head -n 1)"
	echo "kernel:     $(uname -srm)"
	for d in "$dev_a" $dev_b; do
		echo "volume:     $d: $(lsblk -dno SIZE,MODEL,SERIAL "$d" 2>/dev/null | tr -s ' ')"
	done
	echo "(note the instance type, the volume type and its IOPS/throughput settings beside this)"
	echo
	echo "== probe: $BLKHYDRATE probe --granularity $dev_a"
	# Once only: probing warms the blocks it reads.
	"$BLKHYDRATE" probe --granularity --json "$dev_a" >"$out/probe.json"
	echo "   exit status $?; $(json "$out/probe.json" tried) places, warm latency" \
	     "$(json "$out/probe.json" warm_latency_ms) ms, cold above $(json "$out/probe.json" threshold_ms) ms;" \
	     "every place's timings in probe.json"
	echo
	hydrate touch "$dev_a" touch
	[ -z "$dev_b" ] || hydrate full "$dev_b" full
	echo
	echo "verdict:    $(json "$out/probe.json" verdict) ($(json "$out/probe.json" cold) cold blocks," \
	     "other end warm in $(json "$out/probe.json" far_warm), cold in $(json "$out/probe.json" far_cold))"
	if [ -n "$dev_b" ]; then
		awk -v t="$(json "$out/touch.json" throughput_mib_s)" -v f="$(json "$out/full.json" throughput_mib_s)" \
		    'BEGIN { if (f > 0) printf "speed:      touch %.1f MiB/s, full %.1f MiB/s: %.2fx\n", t, f, t / f }'
	else
		echo "speed:      touch $(json "$out/touch.json" throughput_mib_s) MiB/s (full: give DEV_B)"
	fi
	echo "files:      $out/"
} | tee "$out/summary.txt"
