#!/usr/bin/env bash
# The layers of README's "How it is built", kept: every file in src/ includes
# only headers of its own layer or of those below, and the subcommands
# (Face) reach the engine only through the device. So the engine never takes
# the config parser's types again, a transport never reaches into the
# engine, and the protocol core stays free of the daemon around it.
#
#   5 Face      main.c cmd_* quickstart.h sandbox.[ch]
#   4 Device    device* route keylog hooks
#   3 Control   uapi* config*
#   2 Protocol  core* session handshake noise cookie ratelimit replay timers
#               timerq peer allowedips icmp l2
#   1 IO        tun offload udp tcp* netlink linkwatch notify
#   0 Base      messages datamsg crypto chachapoly encoding sbuf secretfile
#               statefile netaddr pool drop csum log clock
#
# A file of a new name fails the test until it is given a layer here (and a
# line in the README).
set -u
cd "$(dirname "$0")/../.." || exit 1

layer_of() {
	case $1 in
	main | cmd | cmd_* | quickstart | sandbox) echo 5 ;;
	device | device_* | route | keylog | hooks) echo 4 ;;
	uapi | uapi_* | config | config_*) echo 3 ;;
	core | core_* | session | handshake | noise | cookie | ratelimit | replay | timers | timerq | peer | \
		allowedips | icmp | l2) echo 2 ;;
	tun | offload | udp | tcp | tcp_* | netlink | linkwatch | notify) echo 1 ;;
	messages | datamsg | crypto | chachapoly | encoding | sbuf | secretfile | statefile | netaddr | pool | drop | csum | log | \
		clock) echo 0 ;;
	*) echo "?" ;;
	esac
}
name=(Base IO Protocol Control Device Face)

failed=0
files=0
for f in src/*.[ch]; do
	base=${f##*/}
	base=${base%.?}
	lf=$(layer_of "$base")
	files=$((files + 1))
	if [ "$lf" = "?" ]; then
		echo "FAIL: $f has no layer: give it one in $0 and a line in the README"
		failed=1
		continue
	fi
	while read -r h; do
		[ "$h" = "$base" ] && continue
		lh=$(layer_of "$h")
		if [ "$lh" = "?" ]; then
			echo "FAIL: $f includes $h.h, which has no layer"
			failed=1
		elif [ "$lh" -gt "$lf" ] || { [ "$lf" -eq 5 ] && [ "$lh" -eq 2 ]; }; then
			echo "FAIL: $f (${name[$lf]}) includes $h.h (${name[$lh]})"
			failed=1
		fi
	done < <(sed -n 's/^#include "\([a-z0-9_]*\)\.h".*/\1/p' "$f")
done
[ "$files" -gt 0 ] || { echo "FAIL: no file in src/"; exit 1; }
[ $failed -eq 0 ] && echo "every one of $files files in src/ includes only its own layer and those below"
exit $failed
