# SPDX-License-Identifier: GPL-2.0-or-later
# TAP for the shell tests, read by automake's tap-driver.sh. Source it, call
# ok/is/... once per check, and finish with tap_done (it prints the plan).

tap_count=0
tap_failed=0

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$PWD}"
: "${BLKHYDRATE:=$top_builddir/blkhydrate}"
# Tests keep progress and locks in the build tree, never in /var/lib or /run.
: "${BLKHYDRATE_STATE_DIR:=$top_builddir/tests/state}"
: "${BLKHYDRATE_LOCK_DIR:=$top_builddir/tests/lock}"
export top_srcdir top_builddir BLKHYDRATE BLKHYDRATE_STATE_DIR BLKHYDRATE_LOCK_DIR

# The whole test cannot run here: say why, exit 77.
skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

# Set-up failed in a way no check can report: stop the test, say why.
bail() {
	echo "Bail out! $*"
	exit 1
}

# need_tools TOOL[:PACKAGE]...: skip the whole test unless every TOOL is on
# PATH, naming the first one missing (and the package that has it).
need_tools() {
	local t name pkg
	for t in "$@"; do
		name=${t%%:*} pkg=${t#"${t%%:*}"}
		pkg=${pkg#:}
		command -v "$name" >/dev/null || skip_all "$name not found${pkg:+ ($pkg)}"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (loop devices, FUSE)"
}

tap_result() {
	tap_count=$((tap_count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_count - $2"
	else
		echo "not ok $tap_count - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# ok DESC COMMAND...: passes when COMMAND exits 0.
ok() {
	local desc=$1
	shift
	"$@"
	tap_result $? "$desc"
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		tap_result 0 "$1"
	else
		tap_result 1 "$1"
		echo "# got:  '$2'"
		echo "# want: '$3'"
	fi
}

# skip DESC REASON: one check that cannot run here.
skip() {
	tap_count=$((tap_count + 1))
	echo "ok $tap_count - $1 # SKIP $2"
}

diag() {
	echo "# $*"
}

tap_done() {
	echo "1..$tap_count"
	[ "$tap_failed" -eq 0 ]
	exit $?
}

# json_get FILE KEY: the first value of KEY (a number, string or boolean) in a
# JSON summary; top-level keys come before the per-target ones.
json_get() {
	grep -o "\"$2\":\\(\"[^\"]*\"\\|[^,}]*\\)" "$1" | head -n 1 | sed 's/^[^:]*://' | tr -d '"'
}

# wait_for COMMAND...: poll up to 20 s for COMMAND to succeed.
wait_for() {
	local i

	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# reading PID: true once process PID has read something.
reading() {
	[ "$(awk '/^rchar/ { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0)" -gt 0 ]
}
