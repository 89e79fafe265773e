#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the AMI recipe's recorded verification boot,
# contrib/ami/record-boot.sh with blkhydrate-record.service, without
# rebooting: systemctl is a stub that logs what it is asked. "arm" installs
# the unit, writes the settings its ExecStart reads and the one-boot flag
# its condition needs, and enables it. Then the unit's own command line (as
# systemd would run it, from the unit file and the settings) records a
# reader on a loop device; "check" finds the recording in the volume's
# plan, exits 0, disables the unit and removes the flag. With no recording
# "check" fails the build (status 2).
. "$(dirname "$0")/../lib/tap.sh"
need_root
command -v mkfs.ext4 >/dev/null || skip_all "mkfs.ext4 not found"

rb=$top_srcdir/contrib/ami/record-boot.sh
unit=$top_srcdir/contrib/ami/blkhydrate-record.service
. "$top_srcdir/tests/lib/simvol.sh"
# $tmp, its mount point $mnt and the loop device $rw, undone at exit.
simvol_workdir
mkdir -p "$tmp/bin" "$tmp/units" "$tmp/etc"
cat >"$tmp/bin/systemctl" <<'STUB'
#!/bin/sh
echo "$*" >>"$SYSTEMCTL_LOG"
case "$*" in *ActiveState*) echo inactive ;; esac
exit 0
STUB
chmod +x "$tmp/bin/systemctl"
export SYSTEMCTL_LOG=$tmp/systemctl.log PATH=$tmp/bin:$PATH
export BLKHYDRATE_UNIT_DIR=$tmp/units BLKHYDRATE_ETC=$tmp/etc BLKHYDRATE=$BLKHYDRATE
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_CONFIG=$tmp/blkhydrate.conf
: >"$BLKHYDRATE_CONFIG"

img=$tmp/vol.img
truncate -s 96M "$img"
mkfs.ext4 -q -F -E nodiscard "$img"
rw=$(losetup -f --show "$img")
mount "$rw" "$mnt"
head -c 4M /dev/urandom >"$mnt/server.bin"
umount "$mnt"
mount "$rw" "$mnt"

bash "$rb" arm --device "$rw" --until model-server.service >"$tmp/arm.out" 2>&1
is "arm exits 0" "$?" 0
ok "arm installs the unit" cmp -s "$unit" "$tmp/units/blkhydrate-record.service"
is "arm writes the settings" "$(cat "$tmp/etc/default/blkhydrate-record")" \
	"BLKHYDRATE_RECORD_DEVICE=$rw
BLKHYDRATE_RECORD_UNTIL=model-server.service"
ok "arm sets the one-boot flag the unit's condition names" bash -c \
	'[ -e "$1/blkhydrate/record-boot" ] && grep -qx "ConditionPathExists=/etc/blkhydrate/record-boot" "$2"' _ "$tmp/etc" "$unit"
ok "arm enables the unit" grep -qx "enable blkhydrate-record.service" "$SYSTEMCTL_LOG"

bash "$rb" check --device "$rw" >"$tmp/check.out" 2>&1
is "check with nothing recorded fails the build: exit 2" "$?" 2

# The unit's ExecStart with the settings filled in, --until-unit traded for
# --for (no systemd here), and blkhydrate from the build.
. "$tmp/etc/default/blkhydrate-record"
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
cmd=${cmd//\$\{BLKHYDRATE_RECORD_DEVICE\}/$BLKHYDRATE_RECORD_DEVICE}
cmd=${cmd//--until-unit \$\{BLKHYDRATE_RECORD_UNTIL\}/--for 3}
cmd=${cmd/\/usr\/bin\/blkhydrate/$BLKHYDRATE}
ok "the unit records until the settings' unit is active" bash -c \
	'grep -q "^ExecStart=/usr/bin/blkhydrate record --save --until-unit \${BLKHYDRATE_RECORD_UNTIL} \${BLKHYDRATE_RECORD_DEVICE}$" "$1"' _ "$unit"
$cmd >"$tmp/rec.out" 2>"$tmp/rec.err" &
pid=$!
sleep 1
cat "$mnt/server.bin" >/dev/null
wait "$pid"
is "the unit's command records: exit 0" "$?" 0
bash "$rb" check --device "$rw" >"$tmp/check.out" 2>&1
is "check finds the recording: exit 0" "$?" 0
ok "... and shows it" grep -q "recorded: 1 file" "$tmp/check.out"
ok "check disables the unit" grep -qx "disable blkhydrate-record.service" "$SYSTEMCTL_LOG"
ok "check removes the one-boot flag" [ ! -e "$tmp/etc/blkhydrate/record-boot" ]
tap_done
