#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The built-in demo: a simulated lazy volume (an ext4 file system with a few
# large "model" files, served by lazysim under a read-only loop device, each
# 512 KiB chunk slow on its first read, like a volume restored from an EBS
# snapshot). It times reading the model cold, then plans and hydrates a fresh
# copy of the volume with blkhydrate, the model's extents first, and times
# reading the model again.
#
# Usage: contrib/demo.sh [BUILD_DIR]   (as root; ./quickstart demo runs it)
# DEMO_LATENCY, DEMO_BANDWIDTH, DEMO_CONCURRENCY and DEMO_READAHEAD_KB tune the
# simulated volume.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top/_build}" && pwd)
top_srcdir=$top
BLKHYDRATE=$top_builddir/blkhydrate
export top_builddir top_srcdir
# shellcheck source=../tests/lib/simvol.sh
. "$top/tests/lib/simvol.sh"

latency=${DEMO_LATENCY:-10}
bandwidth=${DEMO_BANDWIDTH:-256M}
concurrency=${DEMO_CONCURRENCY:-32}

if ! why=$(simvol_need); then
	echo "demo: cannot simulate a lazy volume here: $why" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-demo.XXXXXX")
mnt=$work/mnt
mkdir "$mnt"
rwloop=
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	[ -n "$rwloop" ] && losetup -d "$rwloop" 2>/dev/null
	simvol_stop
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

say "Building a 2 GiB volume: ext4, 640 MiB of system files, a 384 MiB model"
img=$work/volume.img
truncate -s 2G "$img"
mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0 -L demo "$img"
rwloop=$(losetup -f --show "$img")
mount "$rwloop" "$mnt"
mkdir -p "$mnt/usr" "$mnt/opt/models/demo"
for i in 1 2 3 4 5; do head -c 128M /dev/urandom >"$mnt/usr/system-$i.bin"; done
for i in 1 2 3; do head -c 128M /dev/urandom >"$mnt/opt/models/demo/weights-0000$i.safetensors"; done
umount "$mnt"
losetup -d "$rwloop"
rwloop=
echo "volume: $img; simulated snapshot: $latency ms per first read of a 512 KiB chunk," \
	"$concurrency fetches at once, $bandwidth/s"

# A model server reads through the page cache, so the device's read-ahead
# matters: the loop driver gives itself 2560 KiB, Linux gives an EBS NVMe
# volume 128 KiB. The simulated volume gets what EBS would.
readahead=${DEMO_READAHEAD_KB:-128}

read_model() {
	echo 3 >/proc/sys/vm/drop_caches
	echo "$readahead" >"/sys/class/block/$(basename "$SIMVOL_DEV")/queue/read_ahead_kb"
	mount -o ro,noload "$SIMVOL_DEV" "$mnt"
	local t0
	t0=$(now)
	cat "$mnt"/opt/models/demo/*.safetensors >/dev/null
	since "$t0"
	umount "$mnt"
}

say "1. Cold: the model server reads its weights from a fresh volume"
simvol_start "$img" --latency "$latency" --concurrency "$concurrency" --bandwidth "$bandwidth"
cold=$(read_model)
echo "reading the 384 MiB model took $cold s"
simvol_stop

simvol_start "$img" --latency "$latency" --concurrency "$concurrency" --bandwidth "$bandwidth"
mount -o ro,noload "$SIMVOL_DEV" "$mnt"
models="$mnt/opt/models/**/*.safetensors"
say "2. Plan, then hydrate a fresh copy of the volume, the model first"
echo "\$ blkhydrate plan -p '$models' $SIMVOL_DEV"
"$BLKHYDRATE" plan -p "$models" "$SIMVOL_DEV"
echo
echo "\$ blkhydrate hydrate -p '$models' $SIMVOL_DEV"
limit_us=$(simvol_stat limit_us)
"$BLKHYDRATE" hydrate --json -p "$models" "$SIMVOL_DEV" >"$work/summary.json"
echo "summary: $(cat "$work/summary.json")"
warm=$(simvol_stat warm)
chunks=$(simvol_stat chunks)
umount "$mnt"

say "3. After hydration: the model server reads its weights again"
after=$(read_model)
echo "reading the 384 MiB model took $after s"
simvol_stop

secs=$(grep -o '"seconds":[0-9.]*' "$work/summary.json" | head -n 1 | cut -d: -f2)
prio=$(grep -o '"priority_seconds":[0-9.]*' "$work/summary.json" | head -n 1 | cut -d: -f2)
say "Result"
printf '  %-44s %8s s\n' "model read, cold volume" "$cold"
printf '  %-44s %8s s\n' "blkhydrate, model files warm" "$prio"
printf '  %-44s %8s s\n' "blkhydrate, whole volume" "$secs"
printf '  %-44s %8s s\n' "simulator's limit (data chunks / bandwidth)" \
	"$(awk -v u="$limit_us" 'BEGIN { printf "%.2f", u / 1e6 }')"
printf '  %-44s %8s s\n' "model read, hydrated volume" "$after"
printf '  %-44s %8s\n' "chunks warm after hydration" "$warm of $chunks"
