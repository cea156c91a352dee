#!/usr/bin/env bash
# The demo: vifd in its own network namespace (never the host's), with a
# private Open vSwitch, a veth "uplink" pair for the macvtaps, a station and a
# switch-side lldpad for 802.1Qbg, and example bindings of all four VIF types
# (examples/demo). Shows the status, the devices, a repair, a real VM getting
# its address on a vifd port, then cleans up.
#   npm run demo            (after bash scripts/setup.sh)
#   KEEP=1 npm run demo     leaves it running until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
NS=vifd-demo
WORK=$(mktemp -d /tmp/vifd-demo.XXXXXX)
VIFD_PID=
VM_PID=
DHCP_PID=
cleanup() {
  set +e
  [ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null && wait "$VM_PID" 2>/dev/null
  [ -n "$DHCP_PID" ] && kill "$DHCP_PID" 2>/dev/null && wait "$DHCP_PID" 2>/dev/null
  [ -n "$VIFD_PID" ] && kill -TERM "$VIFD_PID" 2>/dev/null && wait "$VIFD_PID" 2>/dev/null
  bash scripts/demo-lldpad.sh stop "$NS" "$WORK/lldpad" >/dev/null 2>&1
  bash scripts/ovs-netns.sh stop "$NS" "$WORK/ovs" >/dev/null 2>&1
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
say "namespace $NS: private OVS (userspace datapath), operator bridge br-int, uplinks for macvtap"
bash scripts/ovs-netns.sh start "$NS" "$WORK/ovs" >/dev/null 2>&1
ovs-vsctl --db="unix:$WORK/ovs/db.sock" add-br br-int -- set bridge br-int datapath_type=netdev
# uplink1: a veth (no port-profile support: 802.1Qbh answers EOPNOTSUPP, as it would on any non-enic NIC)
ip -n "$NS" link add uplink1 type veth peer name uplink1-sw
for l in uplink1 uplink1-sw; do ip -n "$NS" link set "$l" up; done
say "802.1Qbg switch: uplink0 <-> a second namespace, station and evbmode=bridge lldpads (waits for EVB)"
bash scripts/demo-lldpad.sh start "$NS" "$WORK/lldpad"

mkdir -p "$WORK/desired" "$WORK/state"
cp examples/demo/*.json "$WORK/desired/"
say "bindings (vifd validate)"
node bin/vifd.js validate "$WORK"/desired/*.json

say "vifd plan: what run would do"
node bin/vifd.js plan --desired-dir "$WORK/desired" --netns "$NS" --ovsdb "unix:$WORK/ovs/db.sock"

say "vifd run (logs: $WORK/vifd.log)"
node bin/vifd.js run --desired-dir "$WORK/desired" --state-dir "$WORK/state" --netns "$NS" \
  --ovsdb "unix:$WORK/ovs/db.sock" >"$WORK/vifd.log" 2>&1 &
VIFD_PID=$!
# Wait until nothing is Pending any more (association may take a few seconds).
for _ in $(seq 150); do
  if [ -f "$WORK/state/summary.json" ] && node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(s.total >= 5 && !s.Pending && !s.Removing ? 0 : 1)' "$WORK/state/summary.json"; then break; fi
  sleep 0.2
done
node bin/vifd.js status --state-dir "$WORK/state"

say "devices in $NS"
ip -n "$NS" -br link
ovs-vsctl --db="unix:$WORK/ovs/db.sock" show

say "libvirt <interface> for the Linux bridge binding"
node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(s.libvirt)' \
  "$WORK/state/status/3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f.json"

say "repair: someone deletes tap3f2a8c71-5b and removes an OVS port"
before=$(ip -n "$NS" -j link show tap3f2a8c71-5b | node -e 'console.log(JSON.parse(require("fs").readFileSync(0))[0].ifindex)')
ip -n "$NS" link del tap3f2a8c71-5b
ovs-vsctl --db="unix:$WORK/ovs/db.sock" del-port br-int tap7c1d9e20-3a
sleep 1
ip -n "$NS" -br link show tap3f2a8c71-5b
echo "ifindex before: $before, after: $(ip -n "$NS" -j link show tap3f2a8c71-5b | node -e 'console.log(JSON.parse(require("fs").readFileSync(0))[0].ifindex)')"
ovs-vsctl --db="unix:$WORK/ovs/db.sock" list-ports br-int

say "a real VM on the bridge port: QEMU (TCG) boots iPXE, which asks dnsmasq for an address"
ip -n "$NS" addr add 10.90.0.1/24 dev brq6a1c2b3d-4e
ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null --interface=brq6a1c2b3d-4e --bind-interfaces \
  --except-interface=lo --port=0 --dhcp-range=10.90.0.10,10.90.0.50,1h --dhcp-option=175 --enable-ra \
  --dhcp-range=fd00:90::,ra-only --log-dhcp --dhcp-leasefile="$WORK/leases" >"$WORK/dnsmasq.log" 2>&1 &
DHCP_PID=$!
ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 64 -nographic -nodefaults -no-user-config -display none \
  -serial none -monitor none -boot n -netdev tap,id=n0,ifname=tap3f2a8c71-5b,script=no,downscript=no \
  -device virtio-net-pci,netdev=n0,mac=fa:16:3e:5d:12:7a >"$WORK/qemu.log" 2>&1 &
VM_PID=$!
lease=
for _ in $(seq 120); do
  lease=$(grep -oE 'DHCPACK\(brq6a1c2b3d-4e\) [0-9.]+ fa:16:3e:5d:12:7a' "$WORK/dnsmasq.log" | head -1 | awk '{print $2}') || true
  [ -n "$lease" ] && break
  sleep 0.5
done
echo "the VM (fa:16:3e:5d:12:7a) got ${lease:-no address}"
node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(`status: ${s.phase}, attached: ${s.attached}`)' \
  "$WORK/state/status/3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f.json"
kill "$VM_PID"; wait "$VM_PID" 2>/dev/null || true; VM_PID=
kill "$DHCP_PID"; wait "$DHCP_PID" 2>/dev/null || true; DHCP_PID=

if [ "${KEEP:-}" = 1 ]; then
  say "running; state in $WORK/state; Ctrl-C to stop and clean up"
  wait "$VIFD_PID"
fi
say "done: stopping vifd (nothing is torn down on exit) and removing the demo namespace"
