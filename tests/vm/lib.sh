# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers shared by the VM test's image builders. Source it from bash.

# The simulator's chunk size (lazysim's default): fetch counts are in these.
VM_CHUNK=524288

# vm_chunks_of FILE...: the chunk numbers holding the files' blocks, one a
# line, sorted, from filefrag (the file system's own map, not blkhydrate's).
vm_chunks_of() {
	local f bs
	for f in "$@"; do
		bs=$(stat -f -c %S "$f")
		filefrag -e -v "$f" | awk -v bs="$bs" -v c=$VM_CHUNK '
			$1 ~ /^[0-9]+:$/ {
				split($0, p, ":"); split(p[3], r, /\.\./)
				for (b = r[1] + 0; b <= r[2] + 0; b++) print int(b * bs / c)
			}'
	done | sort -un
}
