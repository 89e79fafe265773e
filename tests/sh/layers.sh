#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the source keeps its rooms. (a) A file in src/lib/<layer>/
# includes only headers of its own layer or of layers below it (base <
# device < policy < plan < io < state < cli), never src/cli/; (b) no function
# in src/ is over 80 lines (from its opening brace to its closing one);
# (c) src/cli/main.c stays under 200 lines; (d) the library never talks to
# the user or ends the process: no printf, vprintf, puts, putchar, perror,
# exit, _exit, abort, err/warn calls and no mention of stdout or stderr in
# the code of src/lib (writing to a FILE * the caller passes in is fine).
# LAYERS_SRC points it at another tree (tests/MUTATIONS uses it).
. "$(dirname "$0")/../lib/tap.sh"

src=${LAYERS_SRC:-$top_srcdir/src}
layers="base device policy plan io state cli"
[ -d "$src/lib" ] || skip_all "no source tree at $src"

rank() {
	local i=0 l
	for l in $layers; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

# C code without its comments and string literals, so that a word in either
# is not taken for a call.
code_of() {
	sed -E 's/"([^"\\]|\\.)*"/""/g; '"s/'([^'\\]|\\.)*'/''/g" "$1" |
		awk '{
			out = ""
			while (length($0)) {
				if (incomment) {
					i = index($0, "*/")
					if (!i) { $0 = ""; break }
					$0 = substr($0, i + 2); incomment = 0
				} else {
					i = index($0, "/*")
					if (!i) { out = out $0; break }
					out = out substr($0, 1, i - 1); $0 = substr($0, i + 2); incomment = 1
				}
			}
			sub(/\/\/.*/, "", out)
			print out
		}'
}

# (a) includes that go up a layer, or into the command layer.
bad=
for dir in "$src"/lib/*/; do
	layer=$(basename "$dir")
	mine=$(rank "$layer")
	if [ "$mine" -lt 0 ]; then
		bad="$bad src/lib/$layer/ (not a known layer);"
		continue
	fi
	for f in "$dir"*.[ch]; do
		[ -e "$f" ] || continue
		while read -r inc; do
			folder=${inc%%/*}
			[ "$folder" = "$inc" ] && continue	# "config.h": the build's
			theirs=$(rank "$folder")
			if [ "$theirs" -lt 0 ] || [ "$theirs" -gt "$mine" ] || [ "$folder" = cli ]; then
				bad="$bad ${f#"$src"/} includes $inc;"
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
done
is "src/lib includes only its own layer and those below" "$bad" ""

# (b) functions over 80 lines: kernel style opens and closes a function's
# body with a brace alone at the start of a line.
long=$(for f in $(find "$src" -name '*.c' | sort); do
	awk -v file="${f#"$src"/}" '
		/^[A-Za-z_].*\(/ { name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name) }
		/^\{$/ { start = FNR }
		/^\}$/ && start {
			n = FNR - start + 1
			if (n > 80) printf "%s:%d %s() %d lines\n", file, start, name, n
			start = 0
		}' "$f"
done)
is "no function in src/ is over 80 lines" "$long" ""

# (c) main.c is the table of commands, not the commands.
lines=$(wc -l <"$src/cli/main.c")
ok "src/cli/main.c is under 200 lines ($lines)" test "$lines" -lt 200

# (d) the library returns errors; only src/cli prints or exits.
talk=$(for f in $(find "$src/lib" -name '*.[ch]' | sort); do
	code_of "$f" | grep -nE '(^|[^A-Za-z0-9_.>])(printf|vprintf|puts|putchar|perror|exit|_exit|abort|err|errx|warn|warnx)[[:space:]]*\(|(^|[^A-Za-z0-9_])(stdout|stderr)([^A-Za-z0-9_]|$)' |
		sed "s|^|${f#"$src"/}:|"
done)
is "src/lib never prints to the user or exits" "$talk" ""

tap_done
