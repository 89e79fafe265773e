#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the VM test needs beyond quickstart's packages, installed the way
# quickstart installs its own (as root, from Debian's archive, only what is
# missing). Not root: say what is missing; the test then skips.
set -euo pipefail

packages=(qemu-system-x86 qemu-utils debootstrap python3 xfsprogs e2fsprogs fuse3)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "check-vm: missing packages (${missing[*]}): run as root to install them" >&2
	exit 0
fi
echo "check-vm: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
