#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: hostile input. As root, a configuration file that root does
# not own, or that group or others can write, is refused (exit 1, one line)
# and one that is root's and 0644 is used; an oversized configuration is
# refused. Target and priority paths full of shell syntax are only ever
# names: nothing is run, and the binary links no shell-running function. A
# state file that is a symlink is not followed. The targets are unchanged.
. "$(dirname "$0")/../lib/tap.sh"
need_root

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

img=$tmp/good.img
head -c 1048576 /dev/urandom >"$img"
sum_before=$(sha256sum <"$img")
conf=$tmp/blkhydrate.conf
printf 'queue-depth = 8\n' >"$conf"

# config DESC WANT_STATUS WANT_FIRST_LINE: hydrate with -c "$conf".
config() {
	"$BLKHYDRATE" hydrate --progress=never -c "$conf" "$img" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	is "$1: exit status $2" "$rc" "$2"
	if [ -n "$3" ]; then
		is "$1: says why, in one line" "$(cat "$tmp/err")" "$3"
	fi
}

refused="blkhydrate: $conf: refused: not owned by root, or writable by group or others"
chown 0:0 "$conf"
chmod 0644 "$conf"
config "root's 0644 configuration" 0 ""
chown 65534:0 "$conf"
config "configuration owned by nobody" 1 "$refused"
chown 0:0 "$conf"
chmod 0664 "$conf"
config "group-writable configuration" 1 "$refused"
chmod 0646 "$conf"
config "world-writable configuration" 1 "$refused"
chmod 0644 "$conf"
head -c 2097152 /dev/zero | tr '\0' '#' >"$conf"
config "a 2 MiB configuration" 1 "blkhydrate: $conf: larger than 1 MiB"
printf 'queue-depth = 8\n\001\377\000garbage = ;rm -rf /\n' >"$conf"
"$BLKHYDRATE" hydrate --progress=never -c "$conf" "$img" >"$tmp/out" 2>"$tmp/err"
is "binary garbage in the configuration: exit status 1" "$?" 1
is "binary garbage: one line naming the file and line" "$(grep -c "^blkhydrate: $conf:2: " "$tmp/err")" 1

# Paths are names, never shell text.
cd "$tmp" || exit 1
: >"$tmp/empty.conf"
evil="$tmp/a;touch pwned1;\$(touch pwned2)\`touch pwned3\`|x&.img"
cp "$img" "$evil"
"$BLKHYDRATE" hydrate --json --progress=never -c "$tmp/empty.conf" "$evil" >"$tmp/evil.json" 2>"$tmp/evil.err"
is "a target named with shell syntax is hydrated" "$?" 0
is "and named as given in the JSON" "$(json_get "$tmp/evil.json" target)" "$evil"
"$BLKHYDRATE" plan -c "$tmp/empty.conf" -p "$tmp/*;touch pwned4" -p "\$(touch pwned5)" "$img" >/dev/null 2>&1
# Each file on its own: one command run by a shell is enough to fail.
for f in pwned1 pwned2 pwned3 pwned4 pwned5; do
	ok "nothing was run: no $f" test ! -e "$tmp/$f"
done
# The real binary, not the wrapper check-valgrind puts in front of it.
bin=$BLKHYDRATE
[ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" = '177ELF' ] || bin=$top_builddir/blkhydrate
if command -v nm >/dev/null; then
	nm -D "$bin" >"$tmp/syms" 2>"$tmp/nm.err"
	ok "nm reads the binary's dynamic symbols ($bin)" grep -q ' U open' "$tmp/syms"
	is "the binary links no system(), popen() or exec*()" \
		"$(grep -cE ' U (system|popen|exec[lv]p?e?)(@|$)' "$tmp/syms")" 0
else
	skip "the binary links no system(), popen() or exec*()" "no nm"
fi

# A state file that is a symlink (to a secret) is not followed.
mkdir -p "$BLKHYDRATE_STATE_DIR/progress"
"$BLKHYDRATE" hydrate --progress=never -r 1M "$img" 2>/dev/null &
pid=$!
wait_for eval 'grep -qsx "$pid" "$BLKHYDRATE_LOCK_DIR"/*.lock'
kill -TERM $pid
wait $pid
state=$(ls "$BLKHYDRATE_STATE_DIR"/progress/*.state)
rm -f "$state"
ln -s /etc/shadow "$state"
"$BLKHYDRATE" hydrate --resume --json --progress=never "$img" >"$tmp/sym.json" 2>"$tmp/sym.err"
is "a symlinked state file: exit status 0" "$?" 0
ok "a symlinked state file: ignored with a warning" \
	grep -q "^blkhydrate: $img: warning: ignoring $state: Too many levels of symbolic links; reading everything$" "$tmp/sym.err"
is "a symlinked state file: everything is read" "$(json_get "$tmp/sym.json" bytes)" 1048576
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
is "the oddly named image is unchanged" "$(sha256sum <"$evil")" "$sum_before"
tap_done
