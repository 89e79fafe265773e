# SPDX-License-Identifier: GPL-2.0-or-later
# Which simulator chunks a test's files and images occupy, found the way an
# outsider would (filefrag, SEEK_DATA), never by asking blkhydrate. Needs
# CHUNK (the simulator's chunk size).

# file_chunks FILE...: the chunks holding FILEs' blocks (filefrag, 4 KiB blocks), sorted.
file_chunks() {
	local f

	for f in "$@"; do
		filefrag -e -b4096 "$f"
	done | awk -v chunk="$CHUNK" -F: '$1 ~ /^ *[0-9]+$/ {
		split($3, p, /\.\./); a = p[1] + 0; b = p[2] + 0
		for (c = int(a * 4096 / chunk); c <= int((b * 4096 + 4095) / chunk); c++) print c
	}' | sort -un
}

# data_chunks IMAGE: the chunks of IMAGE holding data (holes are warm in the
# simulator from the start: nothing to fetch there), one a line.
data_chunks() {
	python3 - "$1" "$CHUNK" <<'PY'
import os, sys
chunk = int(sys.argv[2])
data = set()
fd = os.open(sys.argv[1], os.O_RDONLY)
size, off = os.fstat(fd).st_size, 0
while off < size:
    try:
        off = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    end = os.lseek(fd, off, os.SEEK_HOLE)
    data.update(range(off // chunk, (end - 1) // chunk + 1))
    off = end
print("\n".join(str(c) for c in sorted(data)))
PY
}
