#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# EC2 Auto Scaling lifecycle hook: keep a launching instance in Pending:Wait
# (out of service, out of the load balancer) until the hydration units of
# its model volumes are ready, then complete the lifecycle action with
# CONTINUE. A unit that fails, or no readiness before TIMEOUT, completes it
# with ABANDON, and Auto Scaling replaces the instance. While waiting it
# records heartbeats so that the hook's own timeout does not run out first.
#
# A unit is ready when it is active (a notify unit that has said READY, the
# model's extents read), or when it ran and exited successfully (the whole
# volume read). Settings come from the environment; the unit beside this
# script reads them from /etc/default/blkhydrate-lifecycle-hook:
#   ASG_NAME     the Auto Scaling group (required)
#   HOOK_NAME    the launch lifecycle hook (required)
#   UNITS        units to wait for (default blkhydrate@nvme1n1.service)
#   TIMEOUT      seconds to wait before giving up (default 3600)
#   POLL         seconds between looks (default 5)
#   HEARTBEAT    seconds between heartbeats (default 300)
#   INSTANCE_ID, AWS_REGION   default: from the instance metadata (IMDSv2)
#   AWS, SYSTEMCTL            the commands to run (default aws, systemctl)
# Exit status: 0 CONTINUE sent; 2 ABANDON sent; 1 could not run or tell.
set -euo pipefail

prog=$(basename "$0")
: "${UNITS:=blkhydrate@nvme1n1.service}"
: "${TIMEOUT:=3600}" "${POLL:=5}" "${HEARTBEAT:=300}"
: "${AWS:=aws}" "${SYSTEMCTL:=systemctl}"

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ -n "${ASG_NAME:-}" ] || die "ASG_NAME is not set"
[ -n "${HOOK_NAME:-}" ] || die "HOOK_NAME is not set"

imds() {
	local token
	token=$(curl -sf -m 5 -X PUT http://169.254.169.254/latest/api/token \
		-H 'X-aws-ec2-metadata-token-ttl-seconds: 300') &&
		curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" \
			"http://169.254.169.254/latest/meta-data/$1"
}
[ -n "${INSTANCE_ID:-}" ] || INSTANCE_ID=$(imds instance-id) || die "no instance id from IMDS"
[ -n "${AWS_REGION:-}" ] || AWS_REGION=$(imds placement/region) || die "no region from IMDS"

hook() {
	"$AWS" autoscaling "$1" --region "$AWS_REGION" --auto-scaling-group-name "$ASG_NAME" \
		--lifecycle-hook-name "$HOOK_NAME" --instance-id "$INSTANCE_ID" "${@:2}"
}

# complete RESULT WHY: tell Auto Scaling and exit, 0 for CONTINUE, 2 for ABANDON.
complete() {
	echo "$prog: $2: completing lifecycle action with $1"
	hook complete-lifecycle-action --lifecycle-action-result "$1" ||
		die "aws autoscaling complete-lifecycle-action failed"
	[ "$1" = CONTINUE ] && exit 0
	exit 2
}

# unit_state UNIT: prints ready, failed or waiting.
unit_state() {
	local active='' result='' started=0 status=''
	while IFS='=' read -r key value; do
		case $key in
		ActiveState) active=$value ;;
		Result) result=$value ;;
		ExecMainStartTimestampMonotonic) started=$value ;;
		ExecMainStatus) status=$value ;;
		esac
	done < <("$SYSTEMCTL" show -p ActiveState -p Result -p ExecMainStartTimestampMonotonic \
		-p ExecMainStatus "$1" 2>/dev/null)
	case $active in
	active) echo ready ;;
	failed) echo failed ;;
	inactive)
		# Inactive after a run that exited 0: hydration finished.
		if [ "${started:-0}" != 0 ] && [ "$result" = success ] && [ "${status:-0}" = 0 ]; then
			echo ready
		else
			echo waiting
		fi
		;;
	*) echo waiting ;;
	esac
}

start=$SECONDS
beat=$SECONDS
while :; do
	pending=()
	for unit in $UNITS; do
		case $(unit_state "$unit") in
		ready) ;;
		failed) complete ABANDON "$unit failed" ;;
		*) pending+=("$unit") ;;
		esac
	done
	[ ${#pending[@]} -gt 0 ] || complete CONTINUE "ready: $UNITS"
	if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
		complete ABANDON "not ready after ${TIMEOUT}s: ${pending[*]}"
	fi
	if [ $((SECONDS - beat)) -ge "$HEARTBEAT" ]; then
		hook record-lifecycle-action-heartbeat || echo "$prog: heartbeat failed" >&2
		beat=$SECONDS
	fi
	sleep "$POLL"
done
