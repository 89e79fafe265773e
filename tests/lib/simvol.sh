# SPDX-License-Identifier: GPL-2.0-or-later
#
# simvol.sh - stand up a simulated lazy block device for tests, demos and
# benchmarks.  Source it from bash.  simvol_start serves an image through
# tools/lazysim (a FUSE file system that behaves like a volume restored from
# a snapshot: first reads of each chunk are slow) and puts a read-only,
# direct-I/O loop device on top, so blkhydrate can be pointed at a real
# /dev/loopN.  simvol_stop undoes all of it and is safe in an EXIT trap.
#
# Globals set by simvol_start: SIMVOL_DEV (/dev/loopN), SIMVOL_MNT (the
# lazysim mount point), SIMVOL_PID (lazysim's pid), SIMVOL_LOG (its output).
# The binary is $LAZYSIM, else $top_builddir/tools/lazysim.

SIMVOL_DEV=${SIMVOL_DEV:-}
SIMVOL_MNT=${SIMVOL_MNT:-}
SIMVOL_PID=${SIMVOL_PID:-}
SIMVOL_LOG=${SIMVOL_LOG:-}
SIMVOL_DIR=${SIMVOL_DIR:-}
SIMVOL_LOCKFD=

# A udevd started by a test probes every loop device that appears, and
# "blkhydrate list" probes every disk: both read chunks of simulated
# volumes behind their tests' backs. Simulated volumes hold this lock
# shared; a test that reads every disk holds it exclusive
# (simvol_lock_all_disks), which also covers its own volumes.
SIMVOL_LOCKFILE=${SIMVOL_LOCKFILE:-/run/lock/blkhydrate-simvol.lock}
[ -d "${SIMVOL_LOCKFILE%/*}" ] || SIMVOL_LOCKFILE=/tmp/blkhydrate-simvol.lock

_simvol_lock() {
	[ -n "${SIMVOL_LOCKED:-}" ] && return 0
	command -v flock >/dev/null 2>&1 || return 0
	exec {SIMVOL_LOCKFD}>>"$SIMVOL_LOCKFILE" || return 0
	flock "$1" "$SIMVOL_LOCKFD"
}

# simvol_lock_all_disks: wait until no simulated volume of another test runs.
simvol_lock_all_disks() {
	_simvol_lock -x && SIMVOL_LOCKED=1
}

_simvol_bin() {
	printf '%s\n' "${LAZYSIM:-${top_builddir:-.}/tools/lazysim}"
}

# True while pid $1 runs (a zombie child does not count: it has exited).
_simvol_alive() {
	local st

	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

_simvol_mounted() {
	awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts
}

# simvol_need: print why a simulated volume cannot be made here, return 1.
simvol_need() {
	local sim

	sim=$(_simvol_bin)
	if [ "$(id -u)" != 0 ]; then
		echo "needs root"
		return 1
	fi
	if [ ! -c /dev/fuse ]; then
		echo "no /dev/fuse"
		return 1
	fi
	if ! command -v losetup >/dev/null 2>&1; then
		echo "no losetup"
		return 1
	fi
	if [ ! -x "$sim" ]; then
		echo "lazysim not built ($sim)"
		return 1
	fi
	if ! losetup -f >/dev/null 2>&1; then
		echo "no free loop device"
		return 1
	fi
	return 0
}

# simvol_start IMAGE [lazysim options...]
simvol_start() {
	local image=${1:-} sim dir dio i

	if [ -z "$image" ]; then
		echo "simvol_start: usage: simvol_start IMAGE [OPTIONS]" >&2
		return 1
	fi
	shift
	if [ -n "$SIMVOL_PID$SIMVOL_DEV" ]; then
		echo "simvol_start: a simulated volume is already running" >&2
		return 1
	fi
	sim=$(_simvol_bin)
	_simvol_lock -s
	dir=$(mktemp -d "${TMPDIR:-/tmp}/simvol.XXXXXX") || return 1
	SIMVOL_DIR=$dir
	SIMVOL_MNT=$dir/mnt
	SIMVOL_LOG=$dir/lazysim.log
	mkdir "$SIMVOL_MNT" || { simvol_stop; return 1; }

	"$sim" --wait-reset "$@" "$image" "$SIMVOL_MNT" </dev/null >"$SIMVOL_LOG" 2>&1 &
	SIMVOL_PID=$!

	# The mount appears within milliseconds; 10s allows a loaded machine.
	for ((i = 0; i < 1000; i++)); do
		[ -e "$SIMVOL_MNT/disk.img" ] && break
		_simvol_alive "$SIMVOL_PID" || break
		sleep 0.01
	done
	if [ ! -e "$SIMVOL_MNT/disk.img" ]; then
		echo "simvol_start: lazysim did not come up:" >&2
		sed 's/^/  /' "$SIMVOL_LOG" >&2
		simvol_stop
		return 1
	fi

	# losetup -f can race with other users of loop devices: retry.
	for ((i = 0; i < 5; i++)); do
		SIMVOL_DEV=$(losetup -r --direct-io=on -f --show \
			     "$SIMVOL_MNT/disk.img" 2>"$dir/losetup.err") && break
		SIMVOL_DEV=
		sleep 0.1
	done
	if [ -z "$SIMVOL_DEV" ]; then
		echo "simvol_start: losetup failed: $(cat "$dir/losetup.err")" >&2
		simvol_stop
		return 1
	fi
	# Without direct I/O the loop driver reads one request at a time and
	# the deep queue blkhydrate relies on never reaches the simulator.
	dio=$(losetup --list -n -O DIO "$SIMVOL_DEV" 2>/dev/null | tr -d ' ')
	if [ "$dio" != 1 ]; then
		echo "simvol_start: $SIMVOL_DEV: direct I/O could not be enabled" >&2
		simvol_stop
		return 1
	fi
	# A running udevd answers the new device by probing it (blkid reads
	# its first and last blocks): let that finish (without udevd this
	# returns at once), drop what it left in the page cache, and make the
	# volume cold again (SIGUSR1), so that the caller gets it as attached.
	udevadm settle -t 10 2>/dev/null
	blockdev --flushbufs "$SIMVOL_DEV" 2>/dev/null
	kill -USR1 "$SIMVOL_PID"
	for ((i = 0; i < 500; i++)); do
		[ "$(simvol_stat resets)" = 1 ] && return 0
		sleep 0.01
	done
	echo "simvol_start: lazysim did not reset its volume" >&2
	simvol_stop
	return 1
}

# simvol_stop: detach the loop device, stop lazysim, remove the mount point.
simvol_stop() {
	local i back status=0

	if [ -n "$SIMVOL_DEV" ]; then
		# only detach the device if it is still ours
		back=$(losetup -n -O BACK-FILE "$SIMVOL_DEV" 2>/dev/null)
		if [ -n "$back" ] && [[ "$back" == *disk.img* ]]; then
			for ((i = 0; i < 20; i++)); do
				losetup -d "$SIMVOL_DEV" 2>/dev/null && break
				sleep 0.1
			done
		fi
		SIMVOL_DEV=
	fi
	if [ -n "$SIMVOL_PID" ]; then
		kill -TERM "$SIMVOL_PID" 2>/dev/null
		for ((i = 0; i < 1000; i++)); do
			_simvol_alive "$SIMVOL_PID" || break
			sleep 0.01
		done
		if _simvol_alive "$SIMVOL_PID"; then
			echo "simvol_stop: lazysim ignored SIGTERM, killing it" >&2
			kill -KILL "$SIMVOL_PID" 2>/dev/null
		fi
		wait "$SIMVOL_PID" 2>/dev/null || status=$?
		if [ "$status" != 0 ] && [ "$status" != 127 ] &&
		   [ -s "$SIMVOL_LOG" ]; then
			echo "simvol_stop: lazysim exited with status $status:" >&2
			sed 's/^/  /' "$SIMVOL_LOG" >&2
		fi
		SIMVOL_PID=
	fi
	if [ -n "$SIMVOL_MNT" ]; then
		if _simvol_mounted "$SIMVOL_MNT"; then
			umount -l "$SIMVOL_MNT" 2>/dev/null ||
				fusermount3 -u -z "$SIMVOL_MNT" 2>/dev/null
		fi
		rmdir "$SIMVOL_MNT" 2>/dev/null
		SIMVOL_MNT=
	fi
	if [ -n "$SIMVOL_DIR" ]; then
		rm -f "$SIMVOL_DIR/lazysim.log" "$SIMVOL_DIR/losetup.err"
		rmdir "$SIMVOL_DIR" 2>/dev/null
		SIMVOL_DIR=
	fi
	SIMVOL_LOG=
	if [ -n "$SIMVOL_LOCKFD" ] && [ -z "${SIMVOL_LOCKED:-}" ]; then
		exec {SIMVOL_LOCKFD}>&-
		SIMVOL_LOCKFD=
	fi
	return 0
}

# simvol_stat KEY: print one value of MOUNTPOINT/stats.
simvol_stat() {
	[ -n "$SIMVOL_MNT" ] || return 1
	awk -v k="${1:-}" '$1 == k { print $2; f = 1 } END { exit !f }' \
		"$SIMVOL_MNT/stats"
}

# simvol_chunks: print the chunk warm record, "SEQ CHUNK START_US END_US".
simvol_chunks() {
	[ -n "$SIMVOL_MNT" ] || return 1
	cat "$SIMVOL_MNT/chunks"
}

# simvol_workdir: a scratch directory $tmp with a mount point $mnt, and $rw
# for a writable loop device the test may attach; all undone at exit, with
# the simulated volume.
simvol_workdir() {
	tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
	mnt=$tmp/mnt
	mkdir "$mnt"
	rw=
	trap simvol_workdir_cleanup EXIT
}

# simvol_ext4_random SIZE: $img in $tmp, random bytes everywhere first (so
# that free space is data the snapshot holds: a hole would be free in the
# simulator whatever was read), ext4 with 4 KiB blocks on it, mounted
# read-write at $mnt through the loop device $rw.
simvol_ext4_random() {
	img=$tmp/vol.img
	head -c "$1" /dev/urandom >"$img" &&
		mkfs.ext4 -q -F -E nodiscard -b 4096 "$img" &&
		rw=$(losetup -f --show "$img") &&
		mount "$rw" "$mnt"
}

simvol_workdir_cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	[ -n "$rw" ] && losetup -d "$rw"
	simvol_stop
	rm -rf "$tmp"
}
