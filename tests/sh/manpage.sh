#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: blkhydrate(8) renders without warnings (groff -ww, man -l) and
# agrees with --help: the commands 'blkhydrate --help' lists are the
# subsections of COMMANDS, and for each command the options its --help lists
# are the options its subsection documents, short and long, neither more nor
# less. A command or option added to src/cli/ fails this test until the manual
# page documents it.
. "$(dirname "$0")/../lib/tap.sh"
command -v groff >/dev/null || skip_all "groff not found (groff-base)"

page=$top_builddir/man/blkhydrate.8
# A locale every Debian system has, so that nothing warns about the locale.
export LC_ALL=C.UTF-8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok "the manual page was built" test -s "$page"
ok "no @...@ placeholder is left" sh -c "! grep -n '@[A-Za-z_]*@' '$page'"

# The page as a package installs it (/etc), so that a long configured path
# cannot make a warning about breaking lines; the built page, with every
# warning but those, must be clean too.
sed -e 's|@sysconfdir@|/etc|g' -e 's|@PACKAGE_VERSION@|0|g' \
	"$top_srcdir/man/blkhydrate.8.in" >"$tmp/blkhydrate.8"
groff -man -Tutf8 -ww -z "$tmp/blkhydrate.8" 2>"$tmp/groff.err"
is "groff -man -ww renders it without warnings" "$(cat "$tmp/groff.err")" ""
groff -man -Tutf8 -ww -Wbreak -z "$page" 2>"$tmp/groff.err"
is "the built page renders without warnings (but on line breaks)" "$(cat "$tmp/groff.err")" ""
if command -v man >/dev/null; then
	MANWIDTH=80 man --warnings -l "$tmp/blkhydrate.8" >"$tmp/man.out" 2>"$tmp/man.err"
	tap_result $? "man -l renders it"
	is "man -l prints no warnings" "$(cat "$tmp/man.err")" ""
	ok "the rendered page has a NAME line for blkhydrate" grep -Eq '^ +blkhydrate +- ' "$tmp/man.out"
else
	skip "man -l renders it" "man not found (man-db)"
fi
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" FILES ENVIRONMENT \
	EXAMPLES "SEE ALSO"; do
	ok "section $s is there" grep -qx "\\.SH \"\\?$s\"\\?" "$page"
done

# Options in --help text: lines starting with spaces then "-x, --long" or
# "--long"; one option per line, the short and the long form each a word.
help_options() {
	sed -n 's/^ \{1,\}\(-[A-Za-z0-9]\), \(--[a-z0-9-]*\).*/\1\n\2/p
		s/^ \{1,\}\(--[a-z0-9-]*\).*/\1/p' | sort -u
}

# The troff source of one section (.SH NAME) or subsection (.SS NAME), up to
# the next .SS or .SH, with the escapes for '-' and for fonts undone.
man_section() {
	awk -v kind="$1" -v want="$2" '
		/^\.S[SH] / {
			name = $0
			sub(/^\.S[SH] +/, "", name)
			gsub(/"/, "", name)
			on = $1 == kind && name == want
			next
		}
		on' "$page" | sed 's/\\-/-/g; s/\\f[BIRP]//g; s/"//g'
}

# Options in a section: the tag line after each .TP.
man_options() {
	man_section "$@" | awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' |
		grep -oE '(^|[ ,])--?[A-Za-z0-9][a-z0-9-]*' | tr -d ' ,' | sort -u
}

# same_set WHAT FROM_HELP FROM_MAN: one check, naming what either side lacks.
same_set() {
	local only_help only_man
	only_help=$(comm -23 "$2" "$3" | tr '\n' ' ')
	only_man=$(comm -13 "$2" "$3" | tr '\n' ' ')
	if [ -z "$only_help$only_man" ] && [ -s "$2" ]; then
		tap_result 0 "$1"
		return
	fi
	tap_result 1 "$1"
	[ -s "$2" ] || diag "nothing parsed from --help"
	[ -z "$only_help" ] || diag "in --help, not in the manual page: $only_help"
	[ -z "$only_man" ] || diag "in the manual page, not in --help: $only_man"
}

"$BLKHYDRATE" --help >"$tmp/main.help"
# Commands: the indented words under "Commands:" up to the next blank line.
sed -n '/^Commands:/,/^$/s/^ \{1,\}\([a-z][a-z0-9-]*\)\( .*\)\{0,1\}$/\1/p' "$tmp/main.help" |
	sort -u >"$tmp/help.cmds"
grep '^\.SS ' "$page" | sed 's/^\.SS *//; s/"//g' | sort -u >"$tmp/man.cmds"
ok "blkhydrate --help lists at least one command" test -s "$tmp/help.cmds"
same_set "the commands in --help are the subsections of COMMANDS" "$tmp/help.cmds" "$tmp/man.cmds"

help_options <"$tmp/main.help" >"$tmp/main.hopts"
man_options .SH OPTIONS >"$tmp/main.mopts"
same_set "global options: --help and OPTIONS agree" "$tmp/main.hopts" "$tmp/main.mopts"

while read -r cmd; do
	"$BLKHYDRATE" "$cmd" --help >"$tmp/$cmd.help"
	help_options <"$tmp/$cmd.help" >"$tmp/$cmd.hopts"
	man_options .SS "$cmd" >"$tmp/$cmd.mopts"
	same_set "$cmd: --help and the manual page list the same options" \
		"$tmp/$cmd.hopts" "$tmp/$cmd.mopts"
	ok "$cmd: the SYNOPSIS shows it" grep -qx "\\.B blkhydrate $cmd" "$page"
done <"$tmp/help.cmds"

# Every exit status src/cli/cli.h defines is described.
man_section .SH "EXIT STATUS" >"$tmp/status"
for st in $(sed -n 's/^[[:space:]]*EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$top_srcdir/src/cli/cli.h"); do
	ok "exit status $st is described" grep -qx "\\.B $st" "$tmp/status"
done

# The parser itself: an option the page lacks, and one it has in excess, are both named.
printf -- '--help\n--new-option\n' >"$tmp/a"
printf -- '--help\n--old-option\n' >"$tmp/b"
(same_set "self-check: differing sets fail" "$tmp/a" "$tmp/b") >"$tmp/self.out"
ok "self-check: a difference is reported as not ok" grep -q '^not ok' "$tmp/self.out"
ok "self-check: the option only --help has is named" grep -q 'not in the manual page: --new-option' "$tmp/self.out"
ok "self-check: the option only the page has is named" grep -q 'not in --help: --old-option' "$tmp/self.out"
tap_done
