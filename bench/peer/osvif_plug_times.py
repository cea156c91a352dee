"""Peer benchmark with per-port times: plug N hybrid OVS VIFs with os-vif,
in-process as root, one after the other (as Nova's compute does).

usage: python3 osvif_plug_times.py N OVSDB_SOCK [native|vsctl]
Run inside the network namespace that the OVS under OVSDB_SOCK serves.
Prints 'start <epoch ms>' just before the first plug, then
'plugged <interface id> <epoch ms>' as each plug returns.
Interface ids: UUID(int=((0x10000000 + i) << 96) + i), as osvif_plug.py.
"""
import sys, time, uuid
import os_vif
from os_vif import objects
from oslo_config import cfg

n = int(sys.argv[1]); sock = sys.argv[2]
iface = sys.argv[3] if len(sys.argv) > 3 else "native"

from vif_plug_ovs import privsep as ovs_privsep
from vif_plug_linux_bridge import privsep as lb_privsep
ovs_privsep.vif_plug.set_client_mode(False)
lb_privsep.vif_plug.set_client_mode(False)
cfg.CONF([], project="osvif-bench")
os_vif.initialize()
cfg.CONF.set_override("ovsdb_connection", "unix:" + sock, group="os_vif_ovs")
cfg.CONF.set_override("ovsdb_interface", iface, group="os_vif_ovs")
os_vif.initialize(reset=True)

inst = objects.instance_info.InstanceInfo(uuid=str(uuid.UUID(int=1)), name="vm1", project_id="p")
net = objects.network.Network(id=str(uuid.UUID(int=2)), bridge="br-int", mtu=1450)
vifs = []
for i in range(n):
    pid = str(uuid.UUID(int=((0x10000000 + i) << 96) + i))
    prof = objects.vif.VIFPortProfileOpenVSwitch(interface_id=pid, datapath_type="netdev")
    vifs.append(objects.vif.VIFBridge(
        id=pid, address="fa:16:3e:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255),
        network=net, plugin="ovs", port_profile=prof,
        vif_name=("tap" + pid)[:14], bridge_name=("qbr" + pid)[:14], has_traffic_filtering=True))
print("start %d" % int(time.time() * 1000), flush=True)
for v in vifs:
    os_vif.plug(v, inst)
    print("plugged %s %d" % (v.id, int(time.time() * 1000)), flush=True)
