#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the README's first command runs the built-in demo; the demo
# itself must work: it ends with every chunk of the simulated volume warm,
# the model files warm before the whole volume, and the summary printed.
# Run with a short simulated latency to keep it quick.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
command -v mkfs.ext4 >/dev/null || skip_all "mkfs.ext4 not found"

out=$(mktemp "${TMPDIR:-/var/tmp}/blkhydrate-demo-test.XXXXXX")
trap 'rm -f "$out"' EXIT
DEMO_LATENCY=2 "$top_srcdir/contrib/demo.sh" "$top_builddir" >"$out" 2>&1
rc=$?
is "demo exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# /' "$out" | tail -n 20
warm=$(awk '/chunks warm after hydration/ { print $(NF - 2), $NF }' "$out")
ok "every chunk warm after hydration ($warm)" test -n "$warm" -a "${warm% *}" = "${warm#* }"
ok "the plan shows the model class" grep -q 'priority .*safetensors: 3 files' "$out"
prio=$(awk '/model files warm/ { print $(NF - 1) }' "$out")
whole=$(awk '/blkhydrate, whole volume/ { print $(NF - 1) }' "$out")
ok "the model was warm ($prio s) before the whole volume ($whole s)" \
	awk -v p="$prio" -v w="$whole" 'BEGIN { exit !(p > 0 && p < w) }'
tap_done
