"""Benchmark driver: N hybrid OVS VIFs through os_vif.plug/unplug, one at a
time as Nova calls it, with the vifd plugin or os-vif's own ovs plugin.

usage: bench_plug.py N vifd API_ADDRESS OPS [--no-tap-owner]
       bench_plug.py N ovs OVSDB_SOCK OPS [native|vsctl]
OPS: comma-separated, run in order in one process: plug, replug, unplug;
OP@T runs it from T threads at once (the N VIFs shared out among them), as
nova-compute does for instances built at the same time.
Prints one line per op: 'osvif-<plugin> <op> N=<n> seconds=<s>'.

The VIF objects are built exactly as bench/peer/osvif_plug.py (the
peer) builds them: VIFBridge, VIFPortProfileOpenVSwitch(datapath_type
netdev), network br-int MTU 1450, Nova's tap/qbr names. Run the ovs plugin
inside the namespace its OVS serves (it plugs in-process, privsep off).
--no-tap-owner: drop vif.tapOwner from the bindings (for a vifd whose schema
does not have it yet; vifd then creates the tap too: more work than os-vif,
which leaves the tap to libvirt).
"""

import concurrent.futures
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import os_vif  # noqa: E402
from os_vif import objects  # noqa: E402
from oslo_config import cfg  # noqa: E402

n = int(sys.argv[1])
plugin = sys.argv[2]
target = sys.argv[3]
ops = sys.argv[4].split(",")
extra = sys.argv[5:]

cfg.CONF([], project="osvif-bench")
if plugin == "ovs":
    from vif_plug_ovs import privsep as ovs_privsep
    from vif_plug_linux_bridge import privsep as lb_privsep
    ovs_privsep.vif_plug.set_client_mode(False)
    lb_privsep.vif_plug.set_client_mode(False)
os_vif.initialize()
if plugin == "ovs":
    cfg.CONF.set_override("ovsdb_connection", "unix:" + target, group="os_vif_ovs")
    cfg.CONF.set_override("ovsdb_interface", extra[0] if extra else "native", group="os_vif_ovs")
    os_vif.initialize(reset=True)
else:
    cfg.CONF.set_override("api", target, group="os_vif_vifd")
    cfg.CONF.set_override("plug_timeout", 300, group="os_vif_vifd")
    cfg.CONF.set_override("unplug_timeout", 300, group="os_vif_vifd")
    if "--no-tap-owner" in extra:
        from vif_plug_vifd import translate
        original = translate.port_binding

        def without_tap_owner(vif, instance_info, resolve_pci=translate._no_pci):
            doc = original(vif, instance_info, resolve_pci)
            doc["vif"].pop("tapOwner", None)
            return doc

        translate.port_binding = without_tap_owner

inst = objects.instance_info.InstanceInfo(uuid=str(uuid.UUID(int=1)), name="vm1", project_id="p")
net = objects.network.Network(id=str(uuid.UUID(int=2)), bridge="br-int", mtu=1450)
base = 0x10000000 if plugin == "ovs" else 0x30000000
vifs = []
for i in range(n):
    pid = str(uuid.UUID(int=((base + i) << 96) + i))
    prof = objects.vif.VIFPortProfileOpenVSwitch(interface_id=pid, datapath_type="netdev")
    vifs.append(objects.vif.VIFBridge(
        id=pid, address="fa:16:3e:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255),
        network=net, plugin=plugin, port_profile=prof,
        vif_name=("tap" + pid)[:14], bridge_name=("qbr" + pid)[:14], has_traffic_filtering=True))


def run(call, part):
    for v in part:
        call(v, inst)


for op in ops:
    name, _, threads = op.partition("@")
    threads = int(threads or 1)
    call = os_vif.unplug if name == "unplug" else os_vif.plug
    t = time.monotonic()
    if threads == 1:
        run(call, vifs)
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for f in [pool.submit(run, call, vifs[k::threads]) for k in range(threads)]:
                f.result()
    print("osvif-%s %s N=%d seconds=%.3f" % (plugin, op.replace("@", "_x"), n, time.monotonic() - t), flush=True)
