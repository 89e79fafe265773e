#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the Auto Scaling lifecycle-hook example
# (contrib/asg/blkhydrate-lifecycle-hook.sh) against a stand-in systemctl
# that plays a sequence of unit states and a stand-in aws that records its
# calls. It completes the action with CONTINUE only once every unit is ready
# (active, or exited successfully), with ABANDON when a unit fails or the
# timeout passes, records heartbeats while it waits, and says so by its exit
# status.
. "$(dirname "$0")/../lib/tap.sh"

hook=$top_srcdir/contrib/asg/blkhydrate-lifecycle-hook.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/systemctl" <<'EOF'
#!/bin/bash
# Each call for a unit plays the next line of its state file; the last repeats.
unit=${!#}
f=$STATES/$unit
n=$(cat "$f.n" 2>/dev/null || echo 0)
total=$(wc -l <"$f")
echo $((n + 1)) >"$f.n"
sed -n "$((n < total ? n + 1 : total))p" "$f" | tr ' ' '\n'
EOF
cat >"$tmp/aws" <<'EOF'
#!/bin/bash
echo "$*" >>"$STATES/aws.log"
exit "${AWS_FAIL:-0}"
EOF
chmod +x "$tmp/systemctl" "$tmp/aws"

st() {	# st ACTIVE RESULT STARTED STATUS: one state line
	echo "ActiveState=$1 Result=$2 ExecMainStartTimestampMonotonic=$3 ExecMainStatus=$4"
}
activating=$(st activating success 0 0)
active=$(st active success 123 0)
failed=$(st failed exit-code 123 1)
never=$(st inactive success 0 0)
finished=$(st inactive success 123 0)

# play UNIT=STATE1,STATE2... [VAR=value...]: run the hook, print its status.
play() {
	rm -rf "$tmp/states"
	mkdir "$tmp/states"
	: >"$tmp/states/aws.log"
	local units=() a
	while [ $# -gt 0 ] && [[ $1 == *@* ]]; do
		units+=("${1%%=*}")
		IFS=, read -ra a <<<"${1#*=}"
		printf '%s\n' "${a[@]}" >"$tmp/states/${1%%=*}"
		shift
	done
	env STATES="$tmp/states" SYSTEMCTL="$tmp/systemctl" AWS="$tmp/aws" \
		ASG_NAME=asg-1 HOOK_NAME=hook-1 INSTANCE_ID=i-0123 AWS_REGION=eu-west-1 \
		POLL=0 HEARTBEAT=100000 UNITS="${units[*]}" "$@" \
		"$hook" >"$tmp/out" 2>&1
	echo $?
}
u=blkhydrate@nvme1n1.service
v=blkhydrate@nvme2n1.service
want_continue="autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name asg-1 --lifecycle-hook-name hook-1 --instance-id i-0123 --lifecycle-action-result CONTINUE"

is "waits while activating, then CONTINUE: exit 0" \
	"$(play "$u=$activating,$activating,$active")" 0
is "looked until the unit was active" "$(cat "$tmp/states/$u.n")" 3
is "one call: complete-lifecycle-action CONTINUE for this instance" \
	"$(cat "$tmp/states/aws.log")" "$want_continue"

is "a unit that ran and exited 0 is ready" "$(play "$u=$never,$finished")" 0
ok "and CONTINUE is sent" grep -q 'CONTINUE$' "$tmp/states/aws.log"

is "a unit that fails: exit 2" "$(play "$u=$activating,$failed")" 2
is "a unit that fails: ABANDON, nothing else" "$(cut -d' ' -f2 "$tmp/states/aws.log") $(
	grep -o 'ABANDON$' "$tmp/states/aws.log")" "complete-lifecycle-action ABANDON"
ok "a unit that fails: names it" grep -q "$u failed" "$tmp/out"

is "never ready before the timeout: exit 2" "$(play "$u=$never" TIMEOUT=0)" 2
ok "never ready: ABANDON" grep -q 'ABANDON$' "$tmp/states/aws.log"
ok "never ready: says which unit" grep -q "not ready after 0s: $u" "$tmp/out"

is "two units: exit 0" "$(play "$u=$active" "$v=$activating,$activating,$activating,$active")" 0
is "two units: waited for the slower one" "$(cat "$tmp/states/$v.n")" 4
is "two units: one CONTINUE" "$(grep -c 'CONTINUE$' "$tmp/states/aws.log")" 1

is "heartbeats while waiting: exit 0" "$(play "$u=$activating,$activating,$active" HEARTBEAT=0)" 0
is "heartbeats while waiting: one per look, then CONTINUE" \
	"$(cut -d' ' -f2 "$tmp/states/aws.log" | tr '\n' ' ')" \
	"record-lifecycle-action-heartbeat record-lifecycle-action-heartbeat complete-lifecycle-action "

is "aws fails: exit 1" "$(play "$u=$active" AWS_FAIL=1)" 1
ok "aws fails: says so" grep -q 'complete-lifecycle-action failed' "$tmp/out"
is "no ASG_NAME: exit 1" "$(play "$u=$active" ASG_NAME=)" 1
ok "no ASG_NAME: says so" grep -q 'ASG_NAME is not set' "$tmp/out"
is "no ASG_NAME: no call to aws" "$(wc -c <"$tmp/states/aws.log")" 0
tap_done
