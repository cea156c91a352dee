#!/usr/bin/env bash
# usage: ovs-netns.sh start|stop NETNS DIR
# A private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath)
# whose devices live in network namespace NETNS and whose database, sockets,
# pids and logs live under DIR (socket: DIR/db.sock). Never touches the host's
# own OVS. Used by the demo, the tests and the benchmarks.
set -eu
cmd=${1:?start|stop} ns=${2:?NETNS} dir=${3:?DIR}
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir
stop() {
  for p in ovs-vswitchd ovsdb-server; do
    [ -f "$dir/$p.pid" ] || continue
    pid=$(cat "$dir/$p.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$p.pid"
  done
}
case $cmd in
start)
  ip netns list | grep -qw "$ns" || ip netns add "$ns"
  stop
  mkdir -p "$dir"
  rm -f "$dir/conf.db"
  ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ip netns exec "$ns" ovsdb-server "$dir/conf.db" --remote=punix:"$dir/db.sock" \
    --pidfile="$dir/ovsdb-server.pid" --detach --log-file="$dir/ovsdb-server.log" \
    --unixctl="$dir/ovsdb-server.ctl"
  ovs-vsctl --db=unix:"$dir/db.sock" --no-wait init
  ip netns exec "$ns" ovs-vswitchd unix:"$dir/db.sock" --pidfile="$dir/ovs-vswitchd.pid" \
    --detach --log-file="$dir/ovs-vswitchd.log" --unixctl="$dir/ovs-vswitchd.ctl"
  ovs-vsctl --db=unix:"$dir/db.sock" --timeout=10 show >/dev/null
  ;;
stop) stop ;;
*) echo "usage: $0 start|stop NETNS DIR" >&2; exit 2 ;;
esac
