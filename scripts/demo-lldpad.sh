#!/usr/bin/env bash
# An 802.1Qbg "switch" for the demo: two private lldpads joined by a veth.
#
#   scripts/demo-lldpad.sh start NETNS DIR   # NETNS: the namespace vifd manages
#   scripts/demo-lldpad.sh stop  NETNS DIR
#
# start: creates namespace NETNS-sw (the switch), the veth uplink0 (in NETNS)
# <-> sw0 (in NETNS-sw) unless uplink0 already exists, an lldpad in each
# namespace (station on uplink0, evbmode=bridge on sw0), and waits until EVB
# is negotiated both ways ("mode:bridge r/l:1"; a VSI associated before that
# is dropped by the bridge). Configs, logs and pid files go to DIR.
# stop: stops those two lldpads (by their recorded pids) and deletes NETNS-sw.
#
# Each lldpad gets a private tmpfs on /dev/shm (in the mount namespace that
# `ip netns exec` makes): lldpad refuses to start when another one recorded
# itself in /dev/shm/lldpad.state. Its control socket is an abstract unix
# socket, so it is per network namespace: vdptool under `ip netns exec NETNS`
# (what vifd runs) reaches the station lldpad only. The host's lldpad, if
# any, is never touched.
set -euo pipefail

usage() { echo "usage: $0 start|stop NETNS DIR" >&2; exit 2; }
[ $# -eq 3 ] || usage
cmd=$1 ns=$2 dir=$3
sw="${ns}-sw"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

start_lldpad() { # NETNS NAME
  local n=$1 name=$2
  ip netns exec "$n" sh -c 'mount -t tmpfs -o size=1m,mode=1777 vifd-demo-lldpad-shm /dev/shm && exec "$@"' sh \
    lldpad -p -t -V 6 -f "$dir/$name.conf" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
  for _ in $(seq 50); do
    if ip netns exec "$n" vdptool -p 2>/dev/null | grep -q '^[0-9]'; then return 0; fi
    kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || { echo "lldpad ($name) exited:" >&2; tail -5 "$dir/$name.log" >&2; return 1; }
    sleep 0.1
  done
  echo "lldpad ($name) did not answer within 5 s" >&2
  return 1
}

evb() { # NETNS IFNAME ROLE
  ip netns exec "$1" lldptool -L -i "$2" -g ncb adminStatus=rxtx >/dev/null
  ip netns exec "$1" lldptool -T -i "$2" -g ncb -V evb -c enableTx=yes >/dev/null
  ip netns exec "$1" lldptool -T -i "$2" -g ncb -V evb -c "evbmode=$3" >/dev/null
}

wait_evb() { # NETNS IFNAME PEER-MODE
  for _ in $(seq 120); do
    if ip netns exec "$1" lldptool -t -n -i "$2" -g ncb -V evb 2>/dev/null | grep -q "mode:$3 r/l:1"; then return 0; fi
    sleep 0.25
  done
  echo "no EVB neighbour ($3) on $2 in $1 after 30 s" >&2
  return 1
}

stop_lldpad() { # NAME
  local f="$dir/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

case $cmd in
  start)
    [ -e "/run/netns/$ns" ] || { echo "namespace $ns does not exist" >&2; exit 1; }
    [ -e "/run/netns/$sw" ] || { ip netns add "$sw"; ip -n "$sw" link set lo up; }
    if ! ip -n "$ns" link show uplink0 >/dev/null 2>&1; then
      ip -n "$ns" link add uplink0 type veth peer name sw0 netns "$sw"
    fi
    ip -n "$ns" link set uplink0 up
    ip -n "$sw" link set sw0 up
    start_lldpad "$sw" bridge
    start_lldpad "$ns" station
    evb "$sw" sw0 bridge
    evb "$ns" uplink0 station
    wait_evb "$ns" uplink0 bridge
    wait_evb "$sw" sw0 station
    echo "802.1Qbg ready: station lldpad on uplink0 in $ns, bridge lldpad on sw0 in $sw (logs in $dir)"
    ;;
  stop)
    stop_lldpad station
    stop_lldpad bridge
    ip netns del "$sw" 2>/dev/null || true
    ;;
  *) usage ;;
esac
