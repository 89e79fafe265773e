#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: attach and go, end to end with the real systemd-udevd. A test
# copy of the generated udev rule (limited to this test's loop devices, with
# a configuration that makes them eligible) sees a lazy volume carrying ext4
# appear: discovery says hydrate and the rule asks systemd for
# blkhydrate@<dev>.service. With no systemd here, the test plays its part
# and runs the ExecStart= line of the generated unit. The saved plan (made
# with "plan --save" at "image build" time) is read first, systemd hears
# READY=1, every chunk ends warm and the ledger records the volume. An empty
# volume beside it is not hydrated. Detached and attached again (cold), the
# first volume is not read again. systemd-analyze verify accepts the unit.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
udevd_bin=
for b in /lib/systemd/systemd-udevd /usr/lib/systemd/systemd-udevd; do
	[ -x "$b" ] && udevd_bin=$b && break
done
[ -n "$udevd_bin" ] || skip_all "systemd-udevd not found"
need_tools udevadm mkfs.ext4 python3
rule_in=$top_builddir/udev/61-blkhydrate.rules
unit_in=$top_builddir/udev/blkhydrate@.service
[ -f "$rule_in" ] && [ -f "$unit_in" ] || skip_all "udev rule and unit not built"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
chmod 755 "$tmp"
mnt=$tmp/mnt
mkdir "$mnt"
rules_dir=/run/udev/rules.d
rule=$rules_dir/61-blkhydrate-test-$$.rules
run_udev_existed=
[ -d /run/udev ] && run_udev_existed=1
our_udevd=
rw=
empty=
listener=
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	[ -n "$rw" ] && losetup -d "$rw"
	if [ -e "$rule" ]; then
		rm -f "$rule"
		udevadm control --reload 2>/dev/null
	fi
	[ -n "$empty" ] && losetup -d "$empty"
	simvol_stop
	[ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener" 2>/dev/null
	if [ -n "$our_udevd" ]; then
		kill "$our_udevd" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$our_udevd" 2>/dev/null || break
			sleep 0.05
		done
		# /run/udev was made by the udevd we started: leave no trace of it.
		[ -z "$run_udev_existed" ] && rm -rf /run/udev
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_RUN_DIR=$tmp/run BLKHYDRATE_CONFIG=$tmp/blkhydrate.conf
CHUNK=524288
: >"$BLKHYDRATE_CONFIG"
chmod 644 "$BLKHYDRATE_CONFIG"

# The volume: ext4 over random bytes (every chunk holds snapshot data), a
# model file written in the middle of it, its plan saved as at image build.
img=$tmp/vol.img
head -c 64M /dev/urandom >"$img"
mkfs.ext4 -q -F -E nodiscard -b 4096 "$img"
rw=$(losetup -f --show "$img")
mount "$rw" "$mnt"
head -c 20M /dev/urandom >"$mnt/filler"
mkdir "$mnt/models"
head -c 6M /dev/urandom >"$mnt/models/model.safetensors"
sync
"$BLKHYDRATE" plan --save --priority "$mnt/models" "$rw" >"$tmp/plan.out" 2>"$tmp/plan.err"
is "plan --save exits 0" "$?" 0
uuid=$(blkid -o value -s UUID "$img")
plan=$tmp/state/plans/$uuid.plan
ok "the plan is saved under the file system's UUID" [ -s "$plan" ]
umount "$mnt"
losetup -d "$rw"
rw=
sum_before=$(sha256sum <"$img")
# The chunks holding the model, from the saved plan (the file system starts at 0).
awk -F'[=+]' -v c=$CHUNK '$1 == "extent" {
	for (o = $2; o < $2 + $3; o += 4096) print int(o / c) }' "$plan" | sort -un >"$tmp/model-chunks"
nmodel=$(wc -l <"$tmp/model-chunks")
ok "the model spans several chunks ($nmodel)" [ "$nmodel" -ge 8 ]

# A new, empty volume: zeroes, no partition table, no file system.
truncate -s 32M "$tmp/empty.img"

# udevd: use the one running, else start one and stop it at the end.
if ! pgrep -x systemd-udevd >/dev/null; then
	simvol_lock_all_disks
	"$udevd_bin" --daemon 2>"$tmp/udevd.log" || skip_all "cannot start systemd-udevd: $(cat "$tmp/udevd.log")"
	for ((i = 0; i < 100; i++)); do
		our_udevd=$(pgrep -x -n systemd-udevd) && break
		sleep 0.05
	done
	[ -n "$our_udevd" ] || skip_all "systemd-udevd did not start"
	diag "started systemd-udevd (pid $our_udevd)"
fi

simvol_start "$img" --latency 1 --concurrency 16 --bandwidth 0 || skip_all "cannot start the simulator"
empty=$(losetup -f --show "$tmp/empty.img")
dev=${SIMVOL_DEV#/dev/}
edev=${empty#/dev/}

# The configuration makes exactly our loop devices eligible.
configure() {
	printf 'hydrate-match = DEVNAME=%s\n' "$@" >"$BLKHYDRATE_CONFIG"
}
configure "$SIMVOL_DEV" "$empty"

# The test copy of the generated rule: only our devices, our binary, our state.
install_rule() {
	mkdir -p "$rules_dir"
	sed -e "s#^KERNEL==\"loop\*[^\"]*\", GOTO=\"blkhydrate_end\"#KERNEL!=\"$1\", GOTO=\"blkhydrate_end\"#" \
	    -e "s|^IMPORT{program}=\"[^ ]*/blkhydrate |ENV{BLKHYDRATE_CONFIG}=\"$BLKHYDRATE_CONFIG\", ENV{BLKHYDRATE_STATE_DIR}=\"$BLKHYDRATE_STATE_DIR\"\nIMPORT{program}=\"$BLKHYDRATE |" \
	    "$rule_in" >"$rule.tmp" && mv "$rule.tmp" "$rule"
	udevadm control --reload
}
install_rule "$dev|$edev"
ok "the test rule limits the rule to our devices" grep -q "^KERNEL!=\"$dev|$edev\"" "$rule"
ok "... and calls discover --udev" grep -q "^IMPORT{program}=\"$BLKHYDRATE discover --udev \$devnode\"" "$rule"

# "Attach": the add events a hot-plugged disk sends.
# Bounded: a udevd that died (another suite's, on a shared machine) must
# fail the test, not hang it.
attach() {
	timeout 120 udevadm trigger --action=add --settle "$@" &&
		udevadm settle --timeout=120 ||
		bail "udev did not settle after the add events for $* (is systemd-udevd alive?)"
}
prop() {
	udevadm info --query=property --name="$1" | sed -n "s/^$2=//p"
}
attach "$SIMVOL_DEV" "$empty"

is "volume: discovery decided hydrate" "$(prop "$SIMVOL_DEV" BLKHYDRATE_DECISION)" hydrate
is "volume: because a rule matched and it carries data" "$(prop "$SIMVOL_DEV" BLKHYDRATE_REASON)" matched
wants=$(prop "$SIMVOL_DEV" SYSTEMD_WANTS)
is "volume: the rule wants blkhydrate@$dev.service" "$wants" "blkhydrate@$dev.service"
is "empty volume: discovery decided skip" "$(prop "$empty" BLKHYDRATE_DECISION)" skip
is "empty volume: because it is empty" "$(prop "$empty" BLKHYDRATE_REASON)" empty
is "empty volume: no unit wanted" "$(prop "$empty" SYSTEMD_WANTS | grep -c blkhydrate)" 0

# Play systemd: for each device whose SYSTEMD_WANTS names our template, run
# the unit's ExecStart= with the instance substituted, with a notify socket.
# The listener must not inherit the lock taken by simvol_lock_all_disks.
(
[ -n "$SIMVOL_LOCKFD" ] && exec {SIMVOL_LOCKFD}>&-
exec python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".up", "w").close()
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$tmp/notify" "$tmp/notify.log"
) &
listener=$!
for ((i = 0; i < 200; i++)); do [ -e "$tmp/notify.up" ] && break; sleep 0.05; done
exec_start=$(sed -n 's/^ExecStart=//p' "$unit_in")
# The unit's command line for instance $1, in UNIT_CMD.
unit_cmd() {
	local cmd=${exec_start//%I/$1}
	cmd=${cmd//%i/$1}
	# The installed path in the unit, our build's binary here.
	read -ra UNIT_CMD <<<"$BLKHYDRATE ${cmd#* }"
}
run_unit() {
	unit_cmd "$1"
	NOTIFY_SOCKET=$tmp/notify "${UNIT_CMD[@]}"
}
probed1=$(simvol_stat warm)
started=0
for d in "$SIMVOL_DEV" "$empty"; do
	for w in $(prop "$d" SYSTEMD_WANTS); do
		case $w in
		blkhydrate@*.service)
			inst=${w#blkhydrate@}
			inst=${inst%.service}
			before=$(simvol_chunks | wc -l)
			run_unit "$inst" >"$tmp/unit-$inst.out" 2>"$tmp/unit-$inst.err"
			eval "status_$inst=\$?"
			started=$((started + 1))
			;;
		esac
	done
done
is "exactly one unit was started" "$started" 1
eval "st=\${status_$dev:-none}"
is "the unit's command exits 0" "$st" 0
ok "it used the saved plan" grep -q "using the saved plan for UUID $uuid" "$tmp/unit-$dev.err"
is "every chunk is warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
is "each data chunk was fetched once" "$(simvol_stat fetches)" "$(simvol_stat data_chunks)"

# Priority: after what discovery's probes had warmed, the model chunks came first.
simvol_chunks | awk -v n="$before" 'NR > n { print $2 }' >"$tmp/order"
grep -vxFf "$(simvol_chunks | awk -v n="$before" 'NR <= n { print $2 }' >"$tmp/early"; echo "$tmp/early")" \
	"$tmp/model-chunks" >"$tmp/model-cold" || true
ncold=$(wc -l <"$tmp/model-cold")
head -n "$ncold" "$tmp/order" | sort -n >"$tmp/first"
ok "the $ncold cold model chunks were fetched before any other" \
	cmp -s "$tmp/first" <(sort -n "$tmp/model-cold")
for ((i = 0; i < 100; i++)); do grep -q finished "$tmp/notify.log" 2>/dev/null && break; sleep 0.05; done
ok "systemd heard READY=1 when the priority files were read" \
	grep -q "^READY=1 STATUS=priority files read" "$tmp/notify.log"
ok "... before the end" \
	awk '/^READY=1 STATUS=priority/ { r = NR } /STATUS=finished/ { f = NR } END { exit !(r && f && r < f) }' "$tmp/notify.log"
"$BLKHYDRATE" status --json >"$tmp/status.json"
ok "status: the ledger has the volume" grep -q "\"volume\": \"uuid:$uuid\"" "$tmp/status.json"
ok "status: nothing is running" grep -q '"running": \[\]' "$tmp/status.json"
is "the ledger holds one volume" "$(ls "$BLKHYDRATE_STATE_DIR/ledger" | wc -l)" 1
ok "no run state is left" [ -z "$(ls -A "$BLKHYDRATE_RUN_DIR" 2>/dev/null)" ]

# Detach and attach again, cold: the ledger says it is done, nothing is read.
simvol_stop
simvol_start "$img" --latency 1 --concurrency 16 --bandwidth 0 || skip_all "cannot restart the simulator"
dev=${SIMVOL_DEV#/dev/}
configure "$SIMVOL_DEV" "$empty"
install_rule "$dev|$edev"
attach "$SIMVOL_DEV"
is "re-attached: discovery decided skip" "$(prop "$SIMVOL_DEV" BLKHYDRATE_DECISION)" skip
is "re-attached: because it was hydrated" "$(prop "$SIMVOL_DEV" BLKHYDRATE_REASON)" hydrated
is "re-attached: no unit wanted" "$(prop "$SIMVOL_DEV" SYSTEMD_WANTS | grep -c blkhydrate)" 0
probed=$(simvol_stat warm)
ok "re-attached: only the probes read it ($probed chunks, $probed1 at first attach)" \
	[ "$probed" -le "$probed1" ]
run_unit "$dev" >"$tmp/again.out" 2>"$tmp/again.err"
is "re-attached: the unit's command, run anyway, exits 0" "$?" 0
ok "... says it was hydrated already" grep -q "hydrated already" "$tmp/again.err"
is "... and reads nothing" "$(simvol_stat warm)" "$probed"
simvol_stop

# While a hydration runs, status shows it; stopped, it leaves no run state
# and no ledger entry. A slow volume (a chunk at a time, 250 ms each: the
# probes take a few, the whole volume would take 32 s) keeps it running
# until the test stops it.
export BLKHYDRATE_STATE_DIR=$tmp/state2
simvol_start "$img" --latency 250 --concurrency 1 --bandwidth 0 || skip_all "cannot restart the simulator"
dev=${SIMVOL_DEV#/dev/}
unit_cmd "$dev"
NOTIFY_SOCKET=$tmp/notify "${UNIT_CMD[@]}" >"$tmp/slow.out" 2>"$tmp/slow.err" &
slow=$!
for ((i = 0; i < 2400; i++)); do
	[ -e "$BLKHYDRATE_RUN_DIR/$dev.state" ] && break
	kill -0 "$slow" 2>/dev/null || break
	sleep 0.05
done
"$BLKHYDRATE" status --json >"$tmp/status2.json"
sed "s/^/# /" "$tmp/status2.json"
ok "status shows the running hydration of $dev" grep -q "\"device\": \"$dev\", \"volume\": \"uuid:$uuid\", \"pid\": $slow, \"running\": true" "$tmp/status2.json"
ok "... with its planned bytes" grep -q "\"planned\": $((64 * 1048576))" "$tmp/status2.json"
"$BLKHYDRATE" status >"$tmp/status2.txt"
sed "s/^/# /" "$tmp/status2.txt"
ok "... also for people" grep -q "^  $dev  uuid:$uuid  .* of 64.0 MiB .*pid $slow\$" "$tmp/status2.txt"
# The pace comes with the first progress tick (every 5 s under the unit).
for ((i = 0; i < 240; i++)); do
	"$BLKHYDRATE" status --json >"$tmp/status3.json"
	grep -q '"queue_depth": [1-9]' "$tmp/status3.json" && break
	kill -0 "$slow" 2>/dev/null || break
	sleep 0.05
done
ok "... with its queue depth, throughput and latency" \
	grep -q '"queue_depth": [1-9][0-9]*, "throughput_mib_s": [0-9.]*, "latency_ms": [0-9.]*, "errors": 0' "$tmp/status3.json"
kill -TERM "$slow"
wait "$slow"
st=$?
is "stopped: exit status 3" "$st" 3
[ "$st" = 3 ] || sed 's/^/# /' "$tmp/slow.err"
ok "stopped: no run state left" [ ! -e "$BLKHYDRATE_RUN_DIR/$dev.state" ]
ok "stopped: not in the ledger" [ ! -e "$BLKHYDRATE_STATE_DIR/ledger" ]
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"

# The unit as systemd would load it (our binary, which exists, for ExecStart=).
if command -v systemd-analyze >/dev/null; then
	mkdir "$tmp/units"
	sed "s|^ExecStart=[^ ]*|ExecStart=$BLKHYDRATE|" "$unit_in" >"$tmp/units/blkhydrate@.service"
	SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
		"$tmp/units/blkhydrate@.service" >"$tmp/verify.out" 2>&1
	vs=$?
	sed 's/^/# /' "$tmp/verify.out"
	is "systemd-analyze verify accepts the unit" "$vs" 0
else
	skip "systemd-analyze verify accepts the unit" "systemd-analyze not found"
fi
tap_done
