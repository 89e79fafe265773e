#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the attach commands without udev: list, status and discover
# usage and errors; policy keys checked in the configuration; status with a
# corrupt ledger file; hydrate --attach on a disk image recorded in the
# ledger and skipped the second time; a saved plan that is stale (extent
# beyond the device, or saved for another UUID) or corrupt is ignored with a
# message, and a good one is read first.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
need_tools mkfs.ext4 python3

tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_RUN_DIR=$tmp/run
unset BLKHYDRATE_CONFIG

run() {
	"$BLKHYDRATE" "$@" >"$tmp/out" 2>"$tmp/err"
	echo $?
}
json_ok() {
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"
}

for cmd in list status discover; do
	is "$cmd --help exits 0" "$(run $cmd --help)" 0
	ok "$cmd --help prints its usage" grep -q "^ blkhydrate $cmd" "$tmp/out"
	is "$cmd with an unknown option exits 1" "$(run $cmd --no-such-option)" 1
	is "$cmd: one error line and a hint" "$(cat "$tmp/err")" \
		"blkhydrate: unrecognized option '--no-such-option'
Try 'blkhydrate $cmd --help'."
done
ok "the main usage lists list, status and discover" \
	sh -c '"$BLKHYDRATE" --help | grep -q "^ list" && "$BLKHYDRATE" --help | grep -q "^ status" &&
	       "$BLKHYDRATE" --help | grep -q "^ discover"'
is "discover without a device exits 1" "$(run discover)" 1
ok "... and says so" grep -q "no device given" "$tmp/err"
is "discover of a character device exits 1" "$(run discover /dev/null)" 1
ok "... and says it is not a block device" grep -q "^blkhydrate: /dev/null: not a block device$" "$tmp/err"
is "discover of a missing path exits 1" "$(run discover /dev/no-such-disk)" 1
is "discover takes no --json" "$(run discover --json /dev/null)" 1
is "status takes no --config" "$(run status --config x)" 1

is "status with no state exits 0" "$(run status)" 0
is "... and shows nothing running, nothing finished" "$(grep -c '^  none$' "$tmp/out")" 2
is "status --json exits 0" "$(run status --json)" 0
ok "... and prints valid JSON" json_ok "$tmp/out"

# list probes every disk, simulated volumes of other tests too: not while they run.
simvol_lock_all_disks
is "list --json exits 0" "$(run list --json)" 0
ok "... and prints valid JSON" json_ok "$tmp/out"

# The sample configuration, every setting in it switched on, is accepted.
sed -n 's/^#\([a-z-]* = \)/\1/p' "$top_srcdir/contrib/blkhydrate.conf" >"$tmp/sample.conf"
chmod 644 "$tmp/sample.conf"
ok "the sample configuration has settings to switch on" [ "$(wc -l <"$tmp/sample.conf")" -ge 8 ]
is "list accepts the sample configuration with all of them on" \
	"$(run list --config "$tmp/sample.conf")" 0

# Policy keys are checked like every other setting.
conf=$tmp/blkhydrate.conf
printf 'hydrate-ebs = maybe\n' >"$conf"
chmod 644 "$conf"
is "hydrate-ebs = maybe: exit 1" "$(run list --config "$conf")" 1
is "... with the line and the reason" "$(cat "$tmp/err")" \
	"blkhydrate: $conf:1: invalid hydrate-ebs 'maybe': not yes or no"
printf '# GCP\nhydrate-match = ID_MODEL\n' >"$conf"
is "hydrate-match without '=': exit 1" "$(run list --config "$conf")" 1
ok "... says PROPERTY=GLOB" grep -q "^blkhydrate: $conf:2: invalid hydrate-match 'ID_MODEL': not PROPERTY=GLOB$" "$tmp/err"
is "a missing --config is an error" "$(run list --config "$tmp/none.conf")" 1

# hydrate --attach on a disk image: identity from the file system UUID.
img=$tmp/vol.img
truncate -s 48M "$img"
mkfs.ext4 -q -F -b 4096 "$img"
uuid=$(blkid -o value -s UUID "$img")
is "--attach takes one device" "$(run hydrate --attach "$img" "$img")" 1
ok "... and says so" grep -q "attach takes exactly one device" "$tmp/err"
is "plan --save needs a priority path" "$(run plan --save "$img")" 1

mkdir -p "$tmp/state/plans"
saved=$tmp/state/plans/$uuid.plan
printf '# blkhydrate saved plan 1\nuuid=%s\nfs-size=50331648\nclass=/models\nfile=/models/a\nextent=%s+4096\nend\n' \
	"$uuid" $((48 * 1048576)) >"$saved"
is "a stale saved plan: hydrate still exits 0" "$(run hydrate --attach --progress=never --json "$img")" 0
ok "... and says the plan is stale, and why" \
	grep -q "saved plan for UUID $uuid is stale (an extent lies beyond the file system or the device): ignored" "$tmp/err"
is "... and reads no priority bytes" "$(json_get "$tmp/out" priority_bytes)" 0
is "... and reads the whole image" "$(json_get "$tmp/out" bytes)" $((48 * 1048576))
ok "the ledger records it by UUID" [ -s "$tmp/state/ledger/uuid%3A$uuid@$((48 * 1048576))" ]
is "hydrate --attach again exits 0" "$(run hydrate --attach --json "$img")" 0
ok "... says it was hydrated already" grep -q "uuid:$uuid was hydrated already (ledger): nothing to do" "$tmp/err"
is "... and prints no summary: nothing was read" "$(wc -c <"$tmp/out")" 0

rm -rf "$tmp/state/ledger"
printf '# blkhydrate saved plan 1\nuuid=%s\nclass=/models\nfile=/models/a\nextent=1048576+65536\nend\n' \
	11111111-2222-3333-4444-555555555555 >"$saved"
is "a plan saved for another UUID: exit 0" "$(run hydrate --attach --progress=never "$img")" 0
ok "... is stale: the UUID differs" grep -q "is stale (it was saved for another file system UUID)" "$tmp/err"
rm -rf "$tmp/state/ledger"
printf '# blkhydrate saved plan 1\nuuid=%s\nclass=/models\nfile=/models/a\nextent=1048576' "$uuid" >"$saved"
is "a corrupt saved plan: exit 0" "$(run hydrate --attach --progress=never "$img")" 0
ok "... is ignored as corrupt" grep -q "saved plan for UUID $uuid is corrupt: ignored" "$tmp/err"
rm -rf "$tmp/state/ledger"
printf '# blkhydrate saved plan 1\nuuid=%s\nclass=/models\nfile=/models/a\nextent=1048576+65536\nend\n' \
	"$uuid" >"$saved"
is "a good saved plan: exit 0" "$(run hydrate --attach --progress=never --json "$img")" 0
ok "... is used" grep -q "using the saved plan for UUID $uuid" "$tmp/err"
is "... and its extent is read first" "$(json_get "$tmp/out" priority_bytes)" 65536

# A corrupt ledger file is reported by status and skipped; the good entry is shown.
printf 'garbage' >"$tmp/state/ledger/vol-0bad@1"
is "status with a corrupt ledger file exits 0" "$(run status)" 0
ok "... names the corrupt file" grep -q "vol-0bad@1: corrupt ledger entry: ignored" "$tmp/err"
ok "... and still shows the good one" grep -q "uuid:$uuid" "$tmp/out"
tap_done
