# SPDX-License-Identifier: GPL-2.0-or-later
# Loop devices for shell tests. Source it from bash, call loop_attach for
# each device and loop_detach_all from the test's EXIT trap.

loop_devs=()

# loop_attach LOSETUP_ARGS...: a new loop device in $dev, detached by
# loop_detach_all.
loop_attach() {
	dev=$(losetup -f --show "$@") || return 1
	loop_devs+=("$dev")
}

loop_detach_all() {
	local l
	for l in "${loop_devs[@]}"; do losetup -d "$l" 2>/dev/null; done
	loop_devs=()
}

# loop_wait_part DISK N: partition N of DISK has its device node. The
# kernel's scan at attach does not always find the table; partx asks again.
loop_wait_part() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -b "${1}p$2" ] && return 0
		[ "$i" = 3 ] && partx -a "$1" 2>/dev/null
		sleep 0.2
	done
	return 1
}

# loop_detach DEV: detach one device now (and not again at the end, when
# its number may belong to someone else).
loop_detach() {
	local l keep=()
	losetup -d "$1" || return 1
	for l in "${loop_devs[@]}"; do [ "$l" = "$1" ] || keep+=("$l"); done
	loop_devs=("${keep[@]}")
}
