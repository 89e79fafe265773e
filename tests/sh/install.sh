#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: 'make install DESTDIR=...' puts the program and its manual
# page where configure said, the installed program runs and the installed
# page renders; the udev rule, the systemd unit and the sample configuration
# land too when the tree has them, with no template placeholder left and the
# unit pointing at the installed program. 'make uninstall' takes every file
# away again.
. "$(dirname "$0")/../lib/tap.sh"
command -v make >/dev/null || skip_all "make not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# The build's own make, not the one running the tests: no jobserver, no -j.
submake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$top_builddir" "$@"
}

cat >"$tmp/dirs.mk" <<'EOF'
print-dirs:
	@echo "bindir='$(bindir)'"
	@echo "man8dir='$(man8dir)'"
	@echo "sysconfdir='$(sysconfdir)'"
	@echo "udevdir='$(udevdir)'"
	@echo "systemdsystemunitdir='$(systemdsystemunitdir)'"
EOF
dirs=$(submake -f Makefile -f "$tmp/dirs.mk" print-dirs) || skip_all "cannot ask make for the install directories"
eval "$dirs"
diag "bindir=$bindir man8dir=$man8dir udevdir=$udevdir unitdir=$systemdsystemunitdir"

submake install DESTDIR="$root" >"$tmp/install.log" 2>&1
tap_result $? "make install DESTDIR=... succeeds"
[ $tap_failed -eq 0 ] || sed 's/^/# /' "$tmp/install.log"

bin=$root$bindir/blkhydrate
ok "the program is installed in bindir" test -x "$bin"
is "the installed program runs" "$("$bin" --version 2>&1)" "$("$BLKHYDRATE" --version)"
ok "the manual page is installed in man8dir" test -s "$root$man8dir/blkhydrate.8"
ok "the installed manual page is the built one" cmp -s "$root$man8dir/blkhydrate.8" \
	"$top_builddir/man/blkhydrate.8"
if command -v groff >/dev/null; then
	# Long configured paths may not fit a line: t-manpage checks the breaks.
	groff -man -Tutf8 -ww -Wbreak -z "$root$man8dir/blkhydrate.8" 2>"$tmp/groff.err"
	is "the installed manual page renders without warnings" "$(cat "$tmp/groff.err")" ""
fi
ok "the manual page names the configured configuration file" \
	grep -q "$sysconfdir/blkhydrate.conf" "$root$man8dir/blkhydrate.8"
ok "nothing is installed outside the prefix's directories" sh -c \
	"! find '$root' -type f | grep -v -e '^$root$bindir/' -e '^$root$man8dir/' \
	   -e '^$root$udevdir/' -e '^$root$systemdsystemunitdir/' -e '^$root$sysconfdir/' \
	   -e '^$root[^ ]*/share/doc/'"

# The udev integration is part of every tree: a missing file fails, not skips.
rule=$root$udevdir/rules.d/61-blkhydrate.rules
ok "the udev rule is installed in udevdir/rules.d" test -s "$rule"
ok "the udev rule has no placeholder left" sh -c "test -s '$rule' && ! grep -n '@[a-z_]*@' '$rule'"
unit=$root$systemdsystemunitdir/blkhydrate@.service
ok "the systemd unit is installed in systemdsystemunitdir" test -s "$unit"
ok "the systemd unit has no placeholder left" sh -c "test -s '$unit' && ! grep -n '@[a-z_]*@' '$unit'"
exe=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" 2>/dev/null | head -n 1)
ok "the unit runs the installed program ($exe)" test -n "$exe" -a -x "$root$exe"
if [ -e "$top_srcdir/contrib/blkhydrate.conf" ]; then
	conf=$(find "$root" -name 'blkhydrate.conf*' -type f | head -n 1)
	ok "the sample configuration is installed" test -n "$conf"
	# A sample naming paths this machine lacks gives 6, a bad one 1.
	head -c 1M /dev/zero >"$tmp/disk.img"
	"$bin" plan --config "$conf" "$tmp/disk.img" >/dev/null 2>"$tmp/conf.err"
	rc=$?
	ok "the installed program accepts the sample configuration (status $rc)" \
		test $rc -eq 0 -o $rc -eq 6
	[ $rc -eq 0 ] || [ $rc -eq 6 ] || sed 's/^/# /' "$tmp/conf.err"
else
	diag "no sample configuration in this tree"
fi

submake uninstall DESTDIR="$root" >"$tmp/uninstall.log" 2>&1
tap_result $? "make uninstall DESTDIR=... succeeds"
is "make uninstall leaves no file behind" "$(find "$root" -type f | sed "s|^$root||")" ""
tap_done
