#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the AMI build step contrib/ami/verify-model-volume.sh, on a
# demo-like volume (ext4 on a loop device holding a model directory). It
# passes when every model path maps onto the volume, finding the volume by
# itself or told, and writes a configuration blkhydrate accepts that lists
# the paths and keeps the file's other settings. It fails (status 2), names
# the problem and leaves the configuration as it was when a path is missing
# or lies on another volume. It asks for 'plan --save' exactly when the
# program offers it. The volume's bytes never change.
. "$(dirname "$0")/../lib/tap.sh"
need_root
need_tools mkfs.ext4 findmnt

verify=$top_srcdir/contrib/ami/verify-model-volume.sh
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt" "$tmp/etc"
loop=
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$tmp"
}
trap cleanup EXIT

img=$tmp/vol.img
truncate -s 96M "$img"
mkfs.ext4 -q -F -E nodiscard "$img"
loop=$(losetup -f --show "$img")
mount "$loop" "$mnt"
mkdir -p "$mnt/opt/models/llm" "$mnt/usr"
head -c 8M /dev/urandom >"$mnt/usr/system-files"
head -c 12M /dev/urandom >"$mnt/opt/models/llm/model.safetensors"
head -c 64K /dev/urandom >"$mnt/opt/models/llm/tokenizer.json"
umount "$mnt"
# Read-only from here: whatever the script does, the image must not change.
mount -o ro,noload "$loop" "$mnt"
sum_before=$(sha256sum <"$img")
conf=$tmp/etc/blkhydrate.conf

run() {
	"$verify" -b "$BLKHYDRATE" -c "$conf" "$@" >"$tmp/out" 2>"$tmp/err"
	echo $?
}

is "passes on the model directory, device given" "$(run -d "$loop" "$mnt/opt/models")" 0
ok "says it verified" grep -q "verified: every model path maps onto $loop" "$tmp/out"
ok "shows the plan with the model file" grep -q "model.safetensors: " "$tmp/out"
ok "the configuration lists the model path" grep -qx "priority = $mnt/opt/models" "$conf"
is "the configuration is root's and 0644" "$(stat -c '%U %a' "$conf")" "root 644"
"$BLKHYDRATE" plan -c "$conf" "$loop" >/dev/null 2>&1
is "blkhydrate plan accepts the written configuration" $? 0

printf 'queue-depth = 32\npriority = /old/path\nmode = whole\n' >"$conf"
is "passes with the volume found from the path, and a glob" \
	"$(run --mode used "$mnt/opt/models/**/*.safetensors" "$mnt/opt/models/llm/tokenizer.json")" 0
ok "finds the volume holding the path" grep -q "maps onto $loop" "$tmp/out"
ok "keeps the other settings" grep -qx 'queue-depth = 32' "$conf"
ok "drops the old priority paths" sh -c "! grep -q /old/path '$conf'"
is "writes the mode once" "$(grep -c '^mode' "$conf")" 1
ok "writes the mode given" grep -qx 'mode = used' "$conf"
is "lists every path, in order" "$(sed -n 's/^priority = //p' "$conf")" \
	"$mnt/opt/models/**/*.safetensors
$mnt/opt/models/llm/tokenizer.json"
good=$(sha256sum <"$conf")

is "fails on a missing model path" "$(run -d "$loop" "$mnt/opt/models" "$mnt/opt/models/llm/missing.bin")" 2
ok "names the missing path" grep -q "missing.bin: matches no file" "$tmp/err"
ok "says the build fails for it" grep -q "missing or cannot be mapped to $loop" "$tmp/err"
is "leaves the configuration as it was" "$(sha256sum <"$conf")" "$good"
is "leaves no temporary file" "$(find "$tmp/etc" -name '.blkhydrate.conf.*' | wc -l)" 0

head -c 1M /dev/urandom >"$tmp/elsewhere.bin"
is "fails on a model file on another volume" "$(run -d "$loop" "$tmp/elsewhere.bin")" 2
ok "says why the file cannot be mapped" grep -q "elsewhere.bin: .*not on the target $loop" "$tmp/err"
is "still leaves the configuration as it was" "$(sha256sum <"$conf")" "$good"

is "bad usage: no model path" "$(run -d "$loop")" 1
ok "bad usage: one line and a hint" grep -q "^Try 'verify-model-volume.sh --help'" "$tmp/err"
is "bad usage: a relative path" "$(run -d "$loop" models)" 1
is "bad usage: a bad mode" "$(run -d "$loop" -m most "$mnt/opt/models")" 1
is "not a block device" "$(run -d "$img" "$mnt/opt/models")" 1

# plan --save: asked for after the check, only when plan's --help offers it.
state=$tmp/state
BLKHYDRATE_STATE_DIR=$state "$verify" -b "$BLKHYDRATE" -c "$conf" -d "$loop" "$mnt/opt/models" >"$tmp/out" 2>&1
is "with a plan that has --save: passes" "$?" 0
ok "with a plan that has --save: saves it, with the final configuration" \
	grep -q "plan --save --config $conf $loop" "$tmp/out"
ok "... and the saved plan is there, keyed by the file system's UUID" \
	test -f "$state/plans/$(blkid -s UUID -o value "$loop").plan"
# A blkhydrate whose plan has no --save (an older one).
cat >"$tmp/fake" <<EOF
#!/bin/bash
echo "\$*" >>"$tmp/fake.log"
if [ "\$1 \$2" = "plan --help" ]; then
	"$BLKHYDRATE" plan --help | grep -v -- --save
	exit 0
fi
exec "$BLKHYDRATE" "\$@"
EOF
chmod +x "$tmp/fake"
: >"$tmp/fake.log"
"$verify" -b "$tmp/fake" -c "$conf" -d "$loop" "$mnt/opt/models" >/dev/null 2>&1
is "with a plan without --save: passes" $? 0
ok "with a plan without --save: does not ask for it" sh -c "! grep -q -- --save '$tmp/fake.log'"

is "the volume's bytes are unchanged" "$(sha256sum <"$img")" "$sum_before"
tap_done
