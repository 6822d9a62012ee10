#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need,
# only those missing: `apt-get update`, then `apt-get install --no-install-recommends`.
# clang-format checks the layout of the C sources (tests/packaging/test_format.sh).
# python3 drives the UDP checks through the tunnel (tests/tools/udpcheck.py).
# curl scrapes `sluice metrics` (test_show.sh).
# libseccomp filters the running daemon's system calls (src/sandbox.c).
# nftables lets tests drop packets inside their own namespaces (test_replyping.sh).
# mandoc lints the man pages; systemd brings systemd-analyze, which checks the
# unit file (it works without systemd running as PID 1).
# tshark (with dumpcap) checks what goes on the wire (test_wireshark.sh); the
# tests capture as root, so wireshark-common's question about letting other
# users capture is answered "no" up front and never asked.
#
# `scripts/deps.sh bench` (what `make bench` runs) adds what only the
# benchmark uses, so `make check` never installs it: OpenVPN 2.6 and openssl
# (the OpenVPN rows, with a CA made at run time), gnuplot-nox
# (bench/results.png) and python3 (the 10,000-peer configuration).
# `scripts/deps.sh soak` (what `make soak` runs) adds valgrind (the soak's
# leak and memory-error check) and python3 (its analysis of the pings).
set -eu
pkgs=(
	build-essential clang clang-format libssl-dev libmnl-dev libcmocka-dev libseccomp-dev pkg-config
	iproute2 iputils-ping procps coreutils iperf3
	wireguard-tools wireguard-go netcat-openbsd jq nftables curl
	mandoc systemd tshark python3 qrencode zbar-tools
)
case ${1:-} in
'') ;;
bench) pkgs+=(openvpn openssl gnuplot-nox python3) ;;
soak) pkgs+=(valgrind python3) ;;
*) echo "usage: $0 [bench|soak]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (sudo make ...) so they can be installed" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
