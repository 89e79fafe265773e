#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs one C unit test, under $TEST_WRAPPER (valgrind) when given, for the
# TAP driver. The driver reads the unit tests' exit status (no --ignore-exit),
# since valgrind and LeakSanitizer report a leak only through it; 77 is a
# skip, which the test's "1..0 # SKIP why" plan already says.
"$@"
rc=$?
[ $rc -eq 77 ] && exit 0
exit $rc
