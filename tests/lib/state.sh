# SPDX-License-Identifier: GPL-2.0-or-later
# Progress state files of a test's runs (under $BLKHYDRATE_STATE_DIR), read
# the way an outsider would: what a checkpoint says was read, and which of
# the simulator's fetches fall in it. Needs CHUNK and, for refetched,
# simvol.sh's SIMVOL_MNT.

state_file() {
	ls "$BLKHYDRATE_STATE_DIR"/progress/*.state 2>/dev/null | head -n 1
}

has_state() {
	[ -n "$(state_file)" ]
}

# Bytes the state file says were read.
state_bytes() {
	awk '$1 == "read" { s += $3 } END { print s + 0 }' "$1"
}

# Chunks of the simulator's record after line $1 that lie in a saved "read" range.
refetched() {
	awk -v skip="$1" -v chunk=$CHUNK '
		FNR == NR { if ($1 == "read") { off[++n] = $2; len[n] = $3 } next }
		FNR > skip {
			s = $2 * chunk; e = s + chunk
			for (i = 1; i <= n; i++)
				if (s < off[i] + len[i] && off[i] < e) { bad++; break }
		}
		END { print bad + 0 }' "$2" "$SIMVOL_MNT/chunks"
}
