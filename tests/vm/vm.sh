#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: attach and go on a booted machine. A Debian 12 guest under
# QEMU, systemd as PID 1 and systemd-udevd, blkhydrate installed from the
# project's .deb by the AMI recipe; every disk it has is a volume "restored
# from a snapshot", served on the host by the lazy-volume simulator (the
# image file QEMU opens is the simulator's FUSE file, under a copy-on-write
# overlay), so each first read of a chunk costs a fetch and the simulator
# counts them. The real udev rule and unit do the work; the host drives
# QEMU (QMP: hot-plug; killing it cuts the power) and asks the guest
# through its agent.
#
#   boot 1: the model volume (ext4, fstab) is hydrated model first and the
#           stand-in model server starts after READY=1, reading it warm;
#           --used on ext4 and xfs in the unit's sandbox; the root disk's
#           model first, from the AMI recipe's saved plan
#   cut:    the power cut (QEMU killed) in the middle of a volume's hydration
#   boot 2: the unit resumes and reads only what was left; hot-plug of a
#           restored volume (status while it runs, the ledger, detach and
#           re-attach), of an empty volume (nothing starts), and a detach in
#           the middle (the unit stops, "went away", no ledger entry);
#           the AMI recipe's recorded boot armed (record-boot.sh arm)
#   boot 3: the recorded boot: blkhydrate-record.service until the
#           stand-in workload is active, then record-boot.sh check
#
# Each run starts from the volumes as built (mkvols.sh checks them).
#
# Run by "make check-vm" (as root). VM_ACCEL=kvm|tcg|auto (auto: KVM when a
# quick probe boots there, else TCG). Logs of the last run stay in
# BUILDDIR/tests/vm/logs.
. "$(dirname "$0")/../lib/tap.sh"
# No set -e: a check runs commands that may fail on purpose; setup steps
# bail out themselves.
set -uo pipefail

here=$top_srcdir/tests/vm
. "$here/lib.sh"
vmctl=$here/vmctl.py
cache=${VM_CACHE:-$top_builddir/tests/vm/cache}
logs=$top_builddir/tests/vm/logs
LAZYSIM=${LAZYSIM:-$top_builddir/tools/lazysim}
deb=${VM_DEB:-}

[ "$(id -u)" = 0 ] || skip_all "needs root (FUSE, loop devices, debootstrap)"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
for t in qemu-system-x86_64 qemu-img python3 mkfs.xfs filefrag; do
	command -v "$t" >/dev/null || skip_all "$t not found (make check-vm installs it)"
done
[ -d "$cache/base" ] || command -v debootstrap >/dev/null ||
	skip_all "debootstrap not found (make check-vm installs it)"
[ -x "$LAZYSIM" ] || skip_all "lazysim not built ($LAZYSIM)"
[ -n "$deb" ] && [ -f "$deb" ] || skip_all "no blkhydrate .deb (VM_DEB; make check-vm builds it)"

bail() {
	echo "Bail out! $*"
	exit 1
}

# Every disk: name, serial, bus, lazysim options. Serials are the guest's
# way to tell them apart (QEMU allows 20 characters).
declare -A SERIAL BUS SIMOPTS
disk() {
	SERIAL[$1]=$2
	BUS[$1]=$3
	SIMOPTS[$1]=$4
}
disk root vol0root000000000001 virtio "--latency 2 --concurrency 32 --bandwidth 512M"
disk models vol0models0000000001 nvme "--latency 250 --concurrency 16 --bandwidth 64M"
disk xfs vol0xfs0000000000001 virtio "--latency 10 --concurrency 16 --bandwidth 64M"
disk reboot vol0reboot0000000001 virtio "--latency 10 --concurrency 16 --bandwidth 8M"
disk cold volcold000000000001 virtio "--latency 250 --concurrency 16 --bandwidth 64M"
disk hot vol0hot0000000000001 nvme "--latency 10 --concurrency 16 --bandwidth 16M"
disk empty vol0empty00000000001 nvme "--latency 10"
disk gone vol0gone000000000001 nvme "--latency 10 --concurrency 16 --bandwidth 8M"
BOOT_DISKS=(root models xfs cold)
ROOT_UUID=6b1c3f52-3d3e-4c43-9a51-1f1e1d1c1b1a

work=
qemu_pid=
declare -A SIM_PID
cleanup() {
	local n i
	if [ -n "$qemu_pid" ]; then
		[ -n "${qga:-}" ] && [ -S "$qga" ] &&
			"$vmctl" exec "$qga" 20 'journalctl -o short-monotonic --no-pager' \
				>"$logs/journal.log" 2>/dev/null
		"$vmctl" qmp "$qmp_sock" quit >/dev/null 2>&1
		for ((i = 0; i < 50; i++)); do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$qemu_pid" 2>/dev/null
		wait "$qemu_pid" 2>/dev/null
	fi
	for n in "${!SIM_PID[@]}"; do
		kill -TERM "${SIM_PID[$n]}" 2>/dev/null
	done
	for n in "${!SIM_PID[@]}"; do
		wait "${SIM_PID[$n]}" 2>/dev/null
		mountpoint -q "$work/sim/$n" 2>/dev/null && umount -l "$work/sim/$n"
	done
	if [ -n "$work" ]; then
		cp "$work"/*.log "$logs/" 2>/dev/null
		for n in "${!SIM_PID[@]}"; do cp "$work/sim/$n.log" "$logs/lazysim-$n.log" 2>/dev/null; done
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The guest, its disks and QEMU ------------------------------------------

rm -rf "$logs"
mkdir -p "$logs"
# phase WHAT: how long the phase that just ended took (a "time:" line each,
# which make check-vm prints).
phase_t=$SECONDS
phase() {
	diag "time: $1: $((SECONDS - phase_t)) s"
	phase_t=$SECONDS
}
"$here/mkroot.sh" "$cache" || bail "cannot build the guest's root file system"
phase "the guest's root file system (debootstrap, once; cache: $cache)"
"$here/mkvols.sh" "$cache" || bail "cannot build the volumes"
# Built anew by mkvols.sh if they changed since they were built.
ok "volumes: as mkvols.sh built them (digests, data and holes)" "$here/mkvols.sh" --verify "$cache"
phase "the volumes (once, or when changed)"
"$here/mkguest.sh" "$cache" "$deb" "$top_srcdir" || bail "cannot build the root disk"
phase "the root disk (when the package changed)"
img_of() {
	if [ "$1" = root ]; then echo "$cache/guest/root.img"; else echo "$cache/vols/$1.img"; fi
}

work=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-vm.XXXXXX")
mkdir "$work/sim"
qmp_sock=$work/qmp.sock
qga=$work/qga.sock

# One simulator per disk, and the overlay QEMU writes to.
for n in "${!SERIAL[@]}"; do
	mkdir "$work/sim/$n"
	# shellcheck disable=SC2086 # options, word-split on purpose
	"$LAZYSIM" ${SIMOPTS[$n]} "$(img_of "$n")" "$work/sim/$n" </dev/null >"$work/sim/$n.log" 2>&1 &
	SIM_PID[$n]=$!
done
for n in "${!SERIAL[@]}"; do
	for ((i = 0; i < 500; i++)); do
		[ -e "$work/sim/$n/disk.img" ] && break
		sleep 0.02
	done
	[ -e "$work/sim/$n/disk.img" ] || bail "lazysim for $n did not come up: $(cat "$work/sim/$n.log")"
	qemu-img create -q -f qcow2 -u -b "$work/sim/$n/disk.img" -F raw "$work/$n.qcow2" \
		"$(stat -c %s "$(img_of "$n")")" || bail "qemu-img create failed"
done

# blockdev NAME: the disk's node: the overlay over the simulator's file
# (not locked: FUSE does not need it, and the simulator holds it read-only).
blockdev() {
	printf '{"driver":"qcow2","node-name":"%s","file":{"driver":"file","filename":"%s"},' \
		"$1" "$work/$1.qcow2"
	printf '"backing":{"driver":"raw","file":{"driver":"file","filename":"%s","locking":"off"}}}' \
		"$work/sim/$1/disk.img"
}
device() {
	if [ "${BUS[$1]}" = nvme ]; then
		echo "nvme,id=dev-$1,drive=$1,serial=${SERIAL[$1]}"
	else
		echo "virtio-blk-pci,id=dev-$1,drive=$1,serial=${SERIAL[$1]}"
	fi
}

# KVM where it works: a kernel without a root file system panics within a
# second or two under KVM. Where nested KVM hangs, TCG.
accel=${VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		timeout 15 qemu-system-x86_64 -nodefaults -no-user-config -machine pc -accel kvm -m 256 \
			-display none -no-reboot -kernel "$cache/guest/vmlinuz" \
			-append "console=ttyS0 panic=-1" -serial "file:$work/kvm-probe.log" >/dev/null 2>&1
		grep -q 'Kernel panic' "$work/kvm-probe.log" 2>/dev/null && accel=kvm
	fi
fi
diag "accelerator: $accel"
smp=${VM_SMP:-2}
[ "$accel" = tcg ] && accel=tcg,thread=multi

# QEMU reads each disk through its thread pool: 64 threads by default, all
# of them soon waiting for the hydration's cold fetches, and an
# application's warm read queued behind them. A cloud volume has no such
# queue: let the pool grow.
# shellcheck disable=SC2054 # commas inside QEMU's options
qemu_args=(-nodefaults -no-user-config -machine pc -accel "$accel" -cpu max -m 1024 -smp "$smp"
	-object main-loop,id=main-loop,thread-pool-max=1024
	-display none
	-kernel "$cache/guest/vmlinuz" -initrd "$cache/guest/initrd.img"
	-append "root=UUID=$ROOT_UUID rw console=ttyS0 panic=-1 loglevel=4"
	-qmp "unix:$qmp_sock,server=on,wait=off"
	-chardev "socket,id=qga0,path=$qga,server=on,wait=off"
	-device virtio-serial-pci -device "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0")
# start_qemu BOOT DISK...: power on with these disks; the console goes to
# console-BOOT.log. Returns when the guest agent answers.
start_qemu() {
	local boot=$1 n args=("${qemu_args[@]}" -serial "file:$work/console-$1.log")
	shift
	for n in "$@"; do
		args+=(-blockdev "$(blockdev "$n")" -device "$(device "$n")")
	done
	rm -f "$qmp_sock" "$qga"
	qemu-system-x86_64 "${args[@]}" </dev/null >"$work/qemu-$boot.log" 2>&1 &
	qemu_pid=$!
	host_poll 20 test -S "$qga" || bail "QEMU did not start: $(cat "$work/qemu-$boot.log")"
	"$vmctl" ping "$qga" 300 || bail "boot $boot: the guest did not come up (see $logs/console-$boot.log)"
}

# --- Talking to the guest ----------------------------------------------------

# g CMD: run CMD in the guest (sh -c), its output on stdout, its status.
g() {
	"$vmctl" exec "$qga" "${GT:-60}" "$1"
}
qmp() {
	"$vmctl" qmp "$qmp_sock" "$@"
}
# poll SECONDS CMD: the guest command succeeds within SECONDS.
poll() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		g "$2" >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
# host_poll SECONDS COMMAND...: the host command succeeds within SECONDS.
host_poll() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}
sim_stat() {
	awk -v k="$2" '$1 == k { print $2 }' "$work/sim/$1/stats"
}
# sim_ge NAME KEY N: the simulator's count KEY is N or more.
sim_ge() {
	[ "$(sim_stat "$1" "$2")" -ge "$3" ]
}
# The chunks a disk's simulator fetched, in order.
sim_fetched() {
	awk '{ print $2 }' "$work/sim/$1/chunks"
}
# gdisk NAME: the guest's kernel name of a disk, by its serial.
gdisk() {
	g "for d in /sys/block/*; do s=\$(cat \$d/serial \$d/device/serial 2>/dev/null | head -n 1); [ \"\$(echo \$s)\" = ${SERIAL[$1]} ] && echo \${d##*/}; done; true"
}
# unit_prop UNIT PROPERTY: one property's value.
unit_prop() {
	g "systemctl show -p $2 --value $1"
}
# finished UNIT: the unit's process ran and exited.
finished() {
	local st
	st=$(g "systemctl show -p ActiveState -p ExecMainExitTimestampMonotonic $1 | sort | tr '\n' ' '") ||
		return 1
	case $st in
	"ActiveState=inactive ExecMainExitTimestampMonotonic="[1-9]* | \
	"ActiveState=failed ExecMainExitTimestampMonotonic="[1-9]*) return 0 ;;
	esac
	return 1
}
# exit_of UNIT: "success/0" when its process ran and exited 0 ("never ran"
# when it did not start: systemd says success/0 for a unit never started).
exit_of() {
	local st
	st=$(unit_prop "$1" ExecMainStartTimestampMonotonic)
	[ "${st:-0}" -gt 0 ] || { echo "never ran"; return; }
	echo "$(unit_prop "$1" Result)/$(unit_prop "$1" ExecMainStatus)"
}
prop() {
	g "udevadm info --query=property --name=/dev/$1" | sed -n "s/^$2=//p"
}
journal() {
	g "journalctl -b --no-pager -o cat -u $1"
}
# window_stats FETCHED MODEL: of the fetches in FETCHED (chunk numbers, in
# order), how many were not of the model (the chunks in MODEL) between its
# first and its last chunk, and how many of the model's chunks were fetched.
window_stats() {
	awk 'NR == FNR { m[$1] = 1; n++; next }
	     { i++; if ($1 in m) { if (!first) first = i; last = i; seen++ } }
	     END { printf "%d %d %d\n", seen ? last - first + 1 - seen : 0, seen, n }' \
		"$2" "$1"
}

# --- Boot 1 ------------------------------------------------------------------

start_qemu 1 "${BOOT_DISKS[@]}"
phase "boot 1, until the guest agent answers"

clock_offset=$("$vmctl" clock "$qga") || bail "cannot read the guest's clock"

is "boot 1: PID 1 is systemd" "$(g 'readlink /proc/1/exe')" /usr/lib/systemd/systemd
ok "boot 1: systemd-udevd runs" g 'pidof systemd-udevd >/dev/null'
state=$(GT=200 g 'systemctl is-system-running --wait')
is "boot 1: the system is up, no unit failed" "$state" running
[ "$state" = running ] || diag "$(g 'systemctl --failed --no-legend')"
if [ -n "${VM_EXPLORE:-}" ]; then
	diag "VM_EXPLORE: guest agent at $qga, QMP at $qmp_sock; kill $$ to end"
	while kill -0 "$qemu_pid" 2>/dev/null; do sleep 5; done
	exit 0
fi

# The guest's names of the boot disks (virtio in command-line order, one NVMe).
declare -A DEV
for n in "${BOOT_DISKS[@]}"; do
	DEV[$n]=$(gdisk "$n")
	[ -n "${DEV[$n]}" ] || bail "the guest has no disk with serial ${SERIAL[$n]}"
done
is "boot 1: the model volume is the NVMe disk the drop-in names" "${DEV[models]}" nvme0n1
# guest_us WHEN: a guest wall-clock time (systemctl's format) in host microseconds.
unit_time_host_us() {
	local t
	t=$(g "date -d \"\$(systemctl show -p $2 --timestamp=us+utc --value $1)\" +%s%6N") || return 1
	echo $((t - clock_offset))
}
# sim_t0_us NAME: the simulator's time 0 (its chunk record counts from it) in host microseconds.
sim_t0_us() {
	local e now
	e=$(sim_stat "$1" elapsed_us)
	now=$(date +%s%6N)
	echo $((now - e))
}

phase "boot 1: the system up, the disks found"

# --- Scenario 1: the model volume at boot, and the model server ---------------
# The model volume (ext4, mounted by fstab) is pulled in by the rule at
# coldplug; the hydration reads the model first (the simulator's record:
# hardly anything else is fetched between the model's first and last chunk)
# and says READY=1 when the model's chunks have all been fetched, before the
# rest; the model server (the contrib drop-in) starts after READY. Its load
# is warm when the simulator fetched none of the model's chunks while it
# read: every byte it read was fetched before. A cold load of the same
# bytes, on the cold twin, is measured to show what that saves.
m=${DEV[models]}
u=blkhydrate@$m.service
ok "S1: the rule wanted $u at coldplug" \
	test "$(prop "$m" SYSTEMD_WANTS)" = "$u"
ok "S1: $u was pulled in by the disk's device unit" \
	grep -q -- "-$m.device" <<<"$(unit_prop "$u" WantedBy)"
poll 120 'test -s /run/model-server.result' || diag "the model server wrote no result"
ms=$(g 'cat /run/model-server.result')
warm_s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$ms")
ok "S1: the model server read the whole model ($ms)" \
	test "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$ms")" = $((16 << 20))
host_poll 120 finished "$u" || diag "$u did not finish"
ready_mono=$(unit_prop "$u" ActiveEnterTimestampMonotonic)
exit_mono=$(unit_prop "$u" ExecMainExitTimestampMonotonic)
start_mono=$(unit_prop model-server.service ExecMainStartTimestampMonotonic)
ok "S1: the model server started after READY=1 ($start_mono >= $ready_mono)" \
	test "$ready_mono" -gt 0 -a "$start_mono" -ge "$ready_mono"
ok "S1: READY=1 came before the whole volume was read ($ready_mono < $exit_mono)" \
	test "$ready_mono" -gt 0 -a "$ready_mono" -lt "$exit_mono"
read -r between seen nmodel < <(window_stats <(sim_fetched models) "$cache/vols/models.model-chunks")
ok "S1: the model's $nmodel chunks were fetched first ($between other fetches among them)" \
	test "$seen" = "$nmodel" -a "$between" -le 8
# When READY=1 reached systemd, every chunk of the model had been fetched.
ready_us=$(unit_time_host_us "$u" ActiveEnterTimestamp)
t0=$(sim_t0_us models)
last_us=$(awk 'NR == FNR { m[$1] = 1; next } ($2 in m) && $4 > e { e = $4 } END { print e + 0 }' \
	"$cache/vols/models.model-chunks" "$work/sim/models/chunks")
ok "S1: READY=1 came after the model's last fetch ($(((ready_us - t0 - last_us) / 1000)) ms after)" \
	test $((ready_us + 100000)) -ge $((t0 + last_us))
# The model server's read, in the simulator's time: no fetch of a model
# chunk was under way at any time from its start to its end.
ms_from=$(($(unit_time_host_us model-server.service ExecMainStartTimestamp) - t0))
ms_to=$(($(unit_time_host_us model-server.service ExecMainExitTimestamp) - t0))
read -r during_model during_all < <(awk -v a="$ms_from" -v b="$ms_to" \
	'NR == FNR { m[$1] = 1; next } $4 >= a && $3 <= b { n++; if ($2 in m) k++ }
	 END { printf "%d %d\n", k, n }' "$cache/vols/models.model-chunks" "$work/sim/models/chunks")
ok "S1: the model server's read fetched none of the model's chunks ($during_model; $during_all of the rest meanwhile)" \
	test "$ms_to" -gt "$ms_from" -a "$during_model" = 0
# A cold load of the same model: the twin volume, never hydrated.
c=${DEV[cold]}
is "S1: the cold twin is left alone (skip-match)" "$(prop "$c" BLKHYDRATE_REASON)" configured
cold_before=$(sim_stat cold fetches)
cs=$(GT=120 g "mount -o ro,noload /dev/$c /mnt/cold && /usr/local/sbin/model-server /mnt/cold/llm /run/cold.result && cat /run/cold.result")
cold_s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$cs")
cold_fetched=$(($(sim_stat cold fetches) - ${cold_before:-0}))
ok "S1: the cold load of the same bytes fetched the model ($cold_fetched fetches, the model has $nmodel chunks)" \
	test "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$cs")" = $((16 << 20)) -a "$cold_fetched" -ge "$nmodel"
ok "S1: the warm load took less than the cold one (${warm_s:-?} s warm, ${cold_s:-?} s cold)" \
	awk -v w="${warm_s:-99}" -v c="${cold_s:-0}" 'BEGIN { exit !(w < c) }'

phase "S1: the model volume and the model server"

# --- Scenario 4: --used on ext4 and xfs, in the unit's sandbox ----------------
# The AMI recipe wrote "mode = used": the units ask GETFSMAP of the mounted
# file systems from inside their sandbox and read only the used space: every
# chunk of every file, and of the rest little more than metadata (xfs's
# log, written whole by mkfs.xfs, is counted apart).
used_check() {
	local n=$1 d=${DEV[$1]} fs=$2 files=$3 fetched nfiles missing total nmeta=0
	u=blkhydrate@$d.service
	host_poll 120 finished "$u" || diag "$u did not finish"
	is "S4: $fs: $u exited 0" "$(exit_of "$u")" success/0
	j=$(journal "$u")
	ok "S4: $fs: read the used space only, complete" grep -q 'used space only.*, complete' <<<"$j"
	# No "--used: ... reading it whole" note, in a journal that has the run.
	ok "S4: $fs: GETFSMAP answered in the sandbox" \
		test "$(grep -c -- '--used:' <<<"$j")" = 0 -a "$(grep -c 'used space only' <<<"$j")" -gt 0
	sim_fetched "$n" | sort -un >"$work/$n.fetched"
	fetched=$(wc -l <"$work/$n.fetched")
	nfiles=$(wc -l <"$files")
	missing=$(awk 'NR == FNR { f[$1] = 1; next } !($1 in f)' "$work/$n.fetched" "$files" | wc -l)
	total=$(sim_stat "$n" data_chunks)
	ok "S4: $fs: every chunk of its files was read ($missing of $nfiles not)" test "$missing" = 0
	# The metadata GETFSMAP calls used and mkvols.sh counted: xfs's log (64 MiB).
	[ -f "$cache/vols/$n.meta-chunks" ] && nmeta=$(wc -l <"$cache/vols/$n.meta-chunks")
	ok "S4: $fs: $fetched of $total data chunks fetched: little beyond the files ($nfiles) and the log ($nmeta)" \
		test "$fetched" -le $((nfiles + nmeta + 100)) -a "$fetched" -lt $((total / 2))
}
used_check models ext4 "$cache/vols/models.file-chunks"
used_check xfs xfs "$cache/vols/xfs.file-chunks"
ok "S4: the ledger names the virtio disk by its serial (${SERIAL[xfs]})" \
	grep -q "^  ${SERIAL[xfs]} .* as ${DEV[xfs]}\$" <<<"$(g 'blkhydrate status')"

phase "S4: --used on ext4 and xfs"

# --- Scenario 7: the root disk, restored from a snapshot ----------------------
# The root disk's model (/opt/models) comes first, from the plan the AMI
# recipe saved at image build time.
r=${DEV[root]}
u=blkhydrate@$r.service
host_poll 120 finished "$u" || diag "$u did not finish"
is "S7: $u exited 0" "$(exit_of "$u")" success/0
ok "S7: the unit used the AMI recipe's saved plan" \
	grep -q "using the saved plan for UUID $ROOT_UUID" <<<"$(journal "$u")"
read -r between seen nmodel < <(window_stats <(sim_fetched root) "$cache/guest/root.model-chunks")
ok "S7: the root disk's model ($nmodel chunks) was fetched first ($between other fetches among them)" \
	test "$seen" = "$nmodel" -a "$between" -le 32
ok "S7: the ledger has the root disk" \
	grep -q "^  ${SERIAL[root]} .* as $r\$" <<<"$(g 'blkhydrate status')"

phase "S7: the root disk"

# --- Scenario 5, first half: the power cut in the middle --------------------
# The volume is attached now (virtio, hot-plugged) so that the cut comes in
# the middle of its hydration however long the boot took. The cut is QEMU
# killed: no shutdown, nothing more written by the guest (what QEMU wrote
# to its disk files stays, as a volume keeps what reached it). The next
# boot is a new QEMU with the same disks, the volume among them. (QEMU's
# system_reset was tried first: under TCG the guest's second boot then
# stalled for minutes in soft lockups, and a new QEMU boots like the first.)
# attach NAME / detach NAME: QEMU's hot-plug, the guest's kernel name of the disk in $d.
attach() {
	qmp blockdev-add "$(blockdev "$1")" >/dev/null &&
		qmp device_add "$(device_json "$1")" >/dev/null || return 1
	d=
	local i
	for ((i = 0; i < 30; i++)); do
		d=$(gdisk "$1")
		[ -n "$d" ] && g "udevadm settle -t 20" && return 0
		sleep 0.5
	done
	return 1
}
device_json() {
	local driver=nvme
	[ "${BUS[$1]}" = virtio ] && driver=virtio-blk-pci
	printf '{"driver":"%s","id":"dev-%s","drive":"%s","serial":"%s"}' \
		"$driver" "$1" "$1" "${SERIAL[$1]}"
}
detach() {
	qmp device_del "{\"id\":\"dev-$1\"}" >/dev/null || return 1
	local i
	for ((i = 0; i < 40; i++)); do
		[ -z "$(gdisk "$1")" ] && break
		sleep 0.5
	done
	# QEMU drops the device once the guest let it go; then its drive.
	for ((i = 0; i < 40; i++)); do
		qmp blockdev-del "{\"node-name\":\"$1\"}" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}
cursor() {
	g 'journalctl -n 0 --show-cursor --no-pager' | sed -n 's/^-- cursor: //p'
}
starts_since() {
	g "journalctl --no-pager -o cat --after-cursor='$1' _PID=1" | grep -c "^Starting blkhydrate@"
}

ok "S5: hot-plug of a restored volume" attach reboot
v=$d
u=blkhydrate@$v.service
total=$(sim_stat reboot data_chunks)
host_poll 120 sim_ge reboot fetches $((total / 4)) || diag "the reboot volume's hydration is slow"
active=$(unit_prop "$u" ActiveState)
kill -KILL "$qemu_pid"
wait "$qemu_pid" 2>/dev/null
qemu_pid=
f1=$(sim_stat reboot fetches)
# From here the simulator counts anew, every chunk cold again: what the
# next boot fetches is exactly what it reads.
kill -USR1 "${SIM_PID[reboot]}"
host_poll 10 sim_ge reboot resets 1 || bail "the simulator did not reset"
ok "S5: the power cut came in the middle of $u ($active, $f1 of $total chunks fetched)" \
	test "$active" = active -a "$f1" -gt 0 -a "$f1" -lt $((total * 9 / 10))

phase "S5: hot-plug and the power cut"

# --- Boot 2 -------------------------------------------------------------------
start_qemu 2 "${BOOT_DISKS[@]}" reboot
phase "boot 2, until the guest agent answers"
clock_offset=$("$vmctl" clock "$qga") || bail "cannot read the guest's clock"
state=$(GT=200 g 'systemctl is-system-running --wait')
is "boot 2: the system is up, no unit failed" "$state" running
v=$(gdisk reboot)
u=blkhydrate@$v.service
j=$(journal "$u")
before=$(sed -n 's/.*resuming: \([0-9.]*\) \([KMGT]\)iB read before.*/\1 \2/p' <<<"$j" | head -n 1)
ok "S5: after the power cut $u resumed (${before:-nothing} read before)" test -n "$before"
before_b=$(awk -v v="${before% *}" -v u="${before#* }" \
	'BEGIN { p = index("KMGT", u); printf "%d\n", v * 1024 ^ p }' </dev/null)

phase "boot 2: the system up, the unit resumed"

# --- Scenario 2: hot-plug of a volume restored from a snapshot ----------------
ok "S2: hot-plug of a restored volume" attach hot
h=$d
u=blkhydrate@$h.service
is "S2: the rule decided hydrate" "$(prop "$h" BLKHYDRATE_DECISION)" hydrate
ok "S2: $u started" poll 30 "systemctl is-active -q $u"
ok "S2: blkhydrate status shows it while it runs" \
	poll 30 "systemctl is-active -q $u && blkhydrate status | grep -q '^  $h  ${SERIAL[hot]}  .* of '"
host_poll 120 finished "$u" || diag "$u did not finish"
is "S2: $u exited 0" "$(exit_of "$u")" success/0
is "S2: every chunk was fetched" "$(sim_stat hot fetches)" "$(sim_stat hot data_chunks)"
ok "S2: the ledger has it" grep -q "^  ${SERIAL[hot]} .* as $h\$" <<<"$(g 'blkhydrate status')"
ok "S2: detached" detach hot
c=$(cursor)
ok "S2: attached again" attach hot
is "S2: the rule skips it: hydrated already (ledger)" "$(prop "$d" BLKHYDRATE_REASON)" hydrated
sleep 2
is "S2: no hydration started" "$(starts_since "$c")" 0
detach hot >/dev/null

phase "S2: hot-plug, the ledger, re-attach"

# --- Scenario 3: hot-plug of an empty new volume ------------------------------
c=$(cursor)
ok "S3: hot-plug of an empty volume" attach empty
e=$d
is "S3: the rule skips it: empty" "$(prop "$e" BLKHYDRATE_REASON)" empty
sleep 2
is "S3: no hydration started" "$(starts_since "$c")" 0
is "S3: nothing was fetched" "$(sim_stat empty fetches)" 0
detach empty >/dev/null

phase "S3: an empty volume"

# --- Scenario 6: detach in the middle -----------------------------------------
ok "S6: hot-plug of a restored volume" attach gone
x=$d
u=blkhydrate@$x.service
# reading: the unit is up (READY=1: its plan made) and the volume being read.
reading() {
	poll 60 "systemctl is-active -q $1" && host_poll 60 sim_ge gone fetches "$2"
}
ok "S6: $u is reading" reading "$u" $(($(sim_stat gone fetches) + 16))
# How long the unit took to stop is the guest's record (its main process's
# exit), not how long the host's polls take to see it.
detach_us=$(date +%s%6N)
qmp device_del '{"id":"dev-gone"}' >/dev/null
host_poll 60 finished "$u"
stop_ms=$((($(unit_time_host_us "$u" ExecMainExitTimestamp) - detach_us) / 1000))
ok "S6: the unit stopped within 10 s of the detach ($stop_ms ms)" \
	test "$stop_ms" -ge 0 -a "$stop_ms" -le 10000
is "S6: it exited with status 5 (a target went away)" "$(unit_prop "$u" ExecMainStatus)" 5
ok "S6: the journal says the device went away" grep -q "the device went away" <<<"$(journal "$u")"
ok "S6: the ledger does not have it" \
	test "$(g 'blkhydrate status' | grep -c "^  ${SERIAL[gone]} ")" = 0
for ((i = 0; i < 40; i++)); do
	qmp blockdev-del '{"node-name":"gone"}' >/dev/null 2>&1 && break
	sleep 0.5
done

phase "S6: detach in the middle"

# --- Scenario 5, second half: only what was left ------------------------------
u=blkhydrate@$v.service
host_poll 180 finished "$u" || diag "$u did not finish"
is "S5: $u exited 0" "$(exit_of "$u")" success/0
f2=$(sim_stat reboot fetches)
left=$((total - before_b / VM_CHUNK))
ok "S5: after the power cut it fetched $f2 chunks: what was left ($left), not the $total of the volume" \
	test "$f2" -le $((left + 8)) -a "$f2" -ge $((left - 8))
ok "S5: what it skipped had been read before the power cut ($((before_b / VM_CHUNK)) <= $f1 chunks)" \
	test $((before_b / VM_CHUNK)) -le "$f1" -a $((before_b / VM_CHUNK)) -ge $((f1 / 2))
ok "S5: the ledger has it" grep -q "^  ${SERIAL[reboot]} .* as $v\$" <<<"$(g 'blkhydrate status')"

phase "S5: the rest after the power cut"

# --- Scenario 8: the AMI build's recorded boot ---------------------------------
# The AMI recipe for real: record-boot.sh arm --until the stand-in workload
# (record-standin.service, which reads files under /opt/app once the
# recording is open and lists them), a clean reboot, and
# blkhydrate-record.service records from before sysinit.target until the
# stand-in is active, then stops by itself (well before its RuntimeMaxSec);
# record-boot.sh check passes. The saved plan's recorded class holds the
# files the stand-in read, in its order, at the device blocks filefrag
# gives for the parts it read, and not the file it never opened.
rb=/usr/share/doc/blkhydrate/examples/ami/record-boot.sh
rs=blkhydrate-record.service
armed=$(g "systemctl enable -q record-standin.service && $rb arm --until record-standin.service")
ok "S8: record-boot.sh arm --until record-standin.service ($armed)" \
	grep -q "the next boot records what it reads on /dev/.* until record-standin.service is active" <<<"$armed"
"$vmctl" exec "$qga" 20 'systemctl --no-block poweroff' >/dev/null 2>&1
host_poll 180 bash -c "! kill -0 $qemu_pid 2>/dev/null" || diag "the guest did not power off: cut"
kill -KILL "$qemu_pid" 2>/dev/null
wait "$qemu_pid" 2>/dev/null
qemu_pid=
start_qemu 3 "${BOOT_DISKS[@]}"
phase "boot 3, until the guest agent answers"
state=$(GT=200 g 'systemctl is-system-running --wait')
is "boot 3: the system is up, no unit failed" "$state" running
[ "$state" = running ] || diag "$(g 'systemctl --failed --no-legend')"
host_poll 120 finished "$rs"
self=$?
[ "$self" = 0 ] || { diag "$rs still $(unit_prop "$rs" ActiveState): stopped"; g "systemctl stop $rs"; }
ok "S8: $rs stopped by itself, exit 0 ($(exit_of "$rs"); its limit $(unit_prop "$rs" RuntimeMaxUSec))" \
	test "$self" = 0 -a "$(exit_of "$rs")" = success/0
ok "S8: it recorded until record-standin.service is active" \
	grep -q "recording opens on [0-9]* file systems* of /dev/.* until record-standin.service is active" <<<"$(journal "$rs")"
active_mono=$(unit_prop record-standin.service ActiveEnterTimestampMonotonic)
rs_exit=$(unit_prop "$rs" ExecMainExitTimestampMonotonic)
ok "S8: it stopped when the stand-in became active ($(((rs_exit - active_mono) / 1000)) ms after)" \
	test "${active_mono:-0}" -gt 0 -a "${rs_exit:-0}" -ge "${active_mono:-0}" -a \
	"$((${rs_exit:-0} - ${active_mono:-0}))" -le 10000000
GT=300 g "$rb check" >"$work/record-check.log" 2>&1
is "S8: record-boot.sh check passes" "$?" 0
sed 's/^/# /' "$work/record-check.log"
ok "S8: and disarms: the unit disabled, the flag gone" \
	g "! systemctl -q is-enabled $rs && ! test -e /etc/blkhydrate/record-boot"
# The oracle: the stand-in's list of what it read, and filefrag's blocks
# of those parts (4 KiB blocks: the root file system spans the whole disk).
g 'cat /run/record-standin.list' >"$work/standin.list"
g "cat /var/lib/blkhydrate/plans/$ROOT_UUID.plan" >"$work/root.plan"
awk -F= '$1 == "class" || $1 == "recorded" { rec = $1 == "recorded"; next }
	rec && $1 == "file" { print $2 }' "$work/root.plan" >"$work/recorded.files"
ok "S8: the recording ($(wc -l <"$work/recorded.files") files) holds the $(wc -l <"$work/standin.list") files the stand-in read, in its order, not the one it never opened" \
	test "$(wc -l <"$work/standin.list")" = 5 -a \
	"$(grep -Fx -f "$work/standin.list" "$work/recorded.files")" = "$(cat "$work/standin.list")" -a \
	"$(grep -c '^/opt/app/unread.bin$' "$work/recorded.files")" = 0
g "for f in \$(cat /run/record-standin.list); do n=999999; [ \$f = /opt/app/data.bin ] && n=256;
	filefrag -e -b4096 \$f | awk -F'[:. ]+' -v n=\$n '\$2 ~ /^[0-9]+\$/ && NF > 6 {
		for (l = \$3; l <= \$4 && l < n; l++) print \$5 + l - \$3 }'; done" | sort -un >"$work/standin.blocks"
awk -F'[=+]' '$1 == "class" || $1 == "recorded" { rec = $1 == "recorded"; next }
	rec && $1 == "extent" { for (b = $2 / 4096; b < ($2 + $3) / 4096; b++) print b }' \
	"$work/root.plan" | sort -un >"$work/recorded.blocks"
missing=$(awk 'NR == FNR { r[$1] = 1; next } !($1 in r)' "$work/recorded.blocks" "$work/standin.blocks" | wc -l)
ok "S8: every block the stand-in read ($(wc -l <"$work/standin.blocks"), by filefrag) is in the recording ($missing not)" \
	test "$(wc -l <"$work/standin.blocks")" -ge 736 -a "$missing" = 0

phase "S8: the recorded boot"
ok "volumes: unchanged by the run" "$here/mkvols.sh" --verify "$cache"
diag "time: the VM test in all: $SECONDS s (accelerator $accel)"
tap_done
