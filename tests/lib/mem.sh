# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Peak memory of a command, by its own /proc status, sampled while it runs.
#
# GNU time's %M is the whole process's peak RSS: the libraries' pages count,
# and how many of them a kernel maps at once differs by kernel and machine
# (CI saw 23 MiB where this machine sees 3.5 for the same run). What a test
# of blkhydrate's own memory wants is the anonymous part: its buffers, its
# heap, its stack. Sampling every 10 ms cannot miss buffers that live as
# long as the run.

# mem_run FILE CMD...: run CMD (its redirections are the caller's) and
# return its status; FILE gets "ANON FILE PIN HWM", in KiB: the largest
# RssAnon, RssFile and VmPin seen and the last VmHWM (the whole process's
# peak). FILE.smaps holds /proc/PID/smaps at the largest VmRSS seen.
mem_run() {
	local out=$1 pid k v st rss top=0 anon=0 file=0 pin=0 hwm=0

	shift
	"$@" &
	pid=$!
	while :; do
		st='' rss=0
		while read -r k v _; do
			case $k in
			State:) st=$v ;;
			VmRSS:) rss=$v ;;
			VmHWM:) hwm=$v ;;
			VmPin:) [ "$v" -gt "$pin" ] && pin=$v ;;
			RssAnon:) [ "$v" -gt "$anon" ] && anon=$v ;;
			RssFile:) [ "$v" -gt "$file" ] && file=$v ;;
			esac
		done <"/proc/$pid/status" 2>/dev/null
		if [ -z "$st" ] || [ "$st" = Z ]; then
			break
		fi
		if [ "$rss" -gt $((top + 1024)) ]; then
			top=$rss
			cat "/proc/$pid/smaps" >"$out.smaps" 2>/dev/null
		fi
		sleep 0.01
	done
	echo "$anon $file $pin $hwm" >"$out"
	wait "$pid"
}

# mem_top FILE: the five largest mappings (Rss KiB and name) at the peak mem_run saw.
mem_top() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anon]" }
	     /^Rss:/ { rss[name] += $2 }
	     END { for (n in rss) print rss[n], n }' "$1.smaps" 2>/dev/null |
		sort -rn | head -n 5 | tr '\n' ',' | sed 's/,$//'
}
