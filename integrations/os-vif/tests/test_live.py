"""os-vif (Debian's python3-os-vif) through the vifd plugin against a real
vifd on a throwaway namespace and a private Open vSwitch.

Run by test/integration/osvif.test.ts, which starts everything and passes:
  VIFD_OSVIF_API     vifd's API (unix:PATH)
  VIFD_OSVIF_NETNS   the namespace vifd manages (and the OVS serves)
  VIFD_OSVIF_OVSDB   the private OVS's database (unix:PATH)
  VIFD_OSVIF_SOURCE  (optional) the directory vif_plug_vifd must load from
Without them these tests are skipped.
"""

import json
import os
import subprocess
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import os_vif  # noqa: E402
from os_vif import exception as osv_exception  # noqa: E402
from os_vif import objects  # noqa: E402
from oslo_config import cfg  # noqa: E402

from vif_plug_vifd import client as vifd_client  # noqa: E402

objects.register_all()

API = os.environ.get("VIFD_OSVIF_API")
NETNS = os.environ.get("VIFD_OSVIF_NETNS")
OVSDB = os.environ.get("VIFD_OSVIF_OVSDB")
SCHEMA = os.path.join(HERE, "..", "..", "..", "schema", "portbinding.v1.json")

INSTANCE = objects.instance_info.InstanceInfo(uuid="b1e2c3d4-0000-4000-8000-000000000001", name="vm1", project_id="p")


def tap_owner_in_schema():
    try:
        with open(SCHEMA, encoding="utf-8") as f:
            return '"tapOwner"' in f.read()
    except OSError:
        return False


def name(prefix, port):
    return (prefix + port)[:14]


def ip(*args, check=True):
    return subprocess.run(["ip", "-n", NETNS, *args], check=check, capture_output=True, text=True).stdout


def links():
    return {link["ifname"]: link for link in json.loads(ip("-j", "-d", "link", "show"))}


def vsctl(*args):
    return subprocess.run(["ovs-vsctl", "--db=" + OVSDB, "--timeout=20", *args], check=True, capture_output=True, text=True).stdout.strip()


def interface_ids(iface):
    out = json.loads(vsctl("--format=json", "--columns=name,external_ids", "list", "Interface"))
    for row_name, ids in out["data"]:
        if row_name == iface:
            return dict(ids[1])
    return None


def ovs_ports(bridge="br-int"):
    text = vsctl("list-ports", bridge)
    return text.split("\n") if text else []


def new_port():
    return str(uuid.uuid4())


def mac_of(port):
    return "fa:16:3e:%s:%s:%s" % (port[0:2], port[2:4], port[4:6])


def network(bridge="br-int", mtu=1450):
    return objects.network.Network(id="0f6a0c2e-1111-4222-8333-444455556666", bridge=bridge, mtu=mtu)


def ovs_vif(port, vif_name=None, create_port=False):
    profile = objects.vif.VIFPortProfileOpenVSwitch(interface_id=port, datapath_type="netdev", create_port=create_port)
    return objects.vif.VIFOpenVSwitch(id=port, address=mac_of(port), network=network(), plugin="vifd",
                                      port_profile=profile, vif_name=vif_name or name("tap", port), bridge_name="br-int")


def hybrid_vif(port):
    profile = objects.vif.VIFPortProfileOpenVSwitch(interface_id=port, datapath_type="netdev")
    return objects.vif.VIFBridge(id=port, address=mac_of(port), network=network(), plugin="vifd", port_profile=profile,
                                 vif_name=name("tap", port), bridge_name=name("qbr", port), has_traffic_filtering=True)


def api_get(path):
    return vifd_client.Client(API).request("GET", path)


class Recorder:
    """Counts what the plugin asks vifd: requests (with their answers) and watch streams."""

    def __init__(self):
        self.requests = []
        self.watches = 0

    def __enter__(self):
        self._request, self._watch = vifd_client.Client.request, vifd_client.Client.watch
        rec = self

        def request(client, method, path, body=None, timeout=None):
            answer = rec._request(client, method, path, body, timeout)
            rec.requests.append((method, path, answer))
            return answer

        def watch(client, since, deadline):
            rec.watches += 1
            return rec._watch(client, since, deadline)

        vifd_client.Client.request, vifd_client.Client.watch = request, watch
        return self

    def __exit__(self, *exc):
        vifd_client.Client.request, vifd_client.Client.watch = self._request, self._watch


def wait_until(check, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


@unittest.skipUnless(API and NETNS and OVSDB, "VIFD_OSVIF_API/NETNS/OVSDB not set: run through test/integration/osvif.test.ts")
class PlugThroughVifdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cfg.CONF([], project="vifd-osvif-test")
        os_vif.initialize()
        cfg.CONF.set_override("api", API, group="os_vif_vifd")
        cfg.CONF.set_override("plug_timeout", 90, group="os_vif_vifd")
        cfg.CONF.set_override("unplug_timeout", 90, group="os_vif_vifd")

    def unplug_later(self, vif):
        def cleanup():
            try:
                os_vif.unplug(vif, INSTANCE)
            except Exception:  # noqa: BLE001 (best effort: the test has failed already)
                pass
        self.addCleanup(cleanup)

    def test_initialize_lists_vifd(self):
        names = [p.plugin_name for p in os_vif.host_info().plugin_info]
        self.assertIn("vifd", names)
        info = [p for p in os_vif.host_info().plugin_info if p.plugin_name == "vifd"][0]
        self.assertEqual({v.vif_object_name for v in info.vif_info}, {"VIFOpenVSwitch", "VIFBridge", "VIFDirect"})
        source = os.environ.get("VIFD_OSVIF_SOURCE")
        if source:
            import vif_plug_vifd
            self.assertTrue(os.path.abspath(vif_plug_vifd.__file__).startswith(os.path.abspath(source) + os.sep), vif_plug_vifd.__file__)

    def test_plug_ovs_then_again_then_unplug(self):
        port = new_port()
        vif = ovs_vif(port)
        self.unplug_later(vif)
        tap = name("tap", port)
        with Recorder() as first:
            os_vif.plug(vif, INSTANCE)
        # When plug returns the tap is there, in OVS, with the ids agents look for.
        self.assertIn(tap, links())
        self.assertEqual(links()[tap]["mtu"], 1450)
        self.assertIn(tap, ovs_ports())
        ids = interface_ids(tap)
        self.assertEqual(ids["iface-id"], port)
        self.assertEqual(ids["attached-mac"], mac_of(port))
        self.assertEqual(ids["vm-uuid"], INSTANCE.uuid)
        self.assertEqual(ids["iface-status"], "active")
        code, status = api_get("/v1/status/%s" % port)
        self.assertEqual((code, status["phase"]), (200, "Ready"))
        put = [a for m, _, a in first.requests if m == "PUT"][0][1]
        self.assertTrue(put["changed"])
        self.assertGreaterEqual(status["observedGeneration"], put["generation"])

        # Nova re-plugs every VIF at start: what is Ready returns at once,
        # with no new generation and no wait on the watch stream.
        ifindex = links()[tap]["ifindex"]
        with Recorder() as again:
            os_vif.plug(vif, INSTANCE)
        put2 = [a for m, _, a in again.requests if m == "PUT"][0][1]
        self.assertFalse(put2["changed"])
        self.assertEqual(put2["generation"], put["generation"])
        self.assertEqual(again.watches, 0)
        self.assertEqual([m for m, _, _ in again.requests], ["PUT", "GET"])
        self.assertEqual(links()[tap]["ifindex"], ifindex)

        os_vif.unplug(vif, INSTANCE)
        # When unplug returns vifd has removed everything.
        self.assertNotIn(tap, links())
        self.assertNotIn(tap, ovs_ports())
        self.assertEqual(api_get("/v1/bindings/%s" % port)[0], 404)
        self.assertEqual(api_get("/v1/status/%s" % port)[0], 404)
        # Unplugging again is fine.
        os_vif.unplug(vif, INSTANCE)

    @unittest.skipUnless(tap_owner_in_schema(),
                         "vif.tapOwner is not in vifd's schema (schema/portbinding.v1.json) on this branch: "
                         "the hypervisor-owned tap (issue 12 item 2) is not merged yet")
    def test_plug_hybrid_with_a_hypervisor_owned_tap(self):
        port = new_port()
        vif = hybrid_vif(port)
        self.unplug_later(vif)
        tap, qbr, qvb, qvo = (name(p, port) for p in ("tap", "qbr", "qvb", "qvo"))
        self.addCleanup(lambda: ip("link", "del", tap, check=False))
        os_vif.plug(vif, INSTANCE)
        now = links()
        # vifd built everything but the tap: that is the hypervisor's.
        self.assertNotIn(tap, now)
        self.assertEqual(now[qbr]["linkinfo"]["info_kind"], "bridge")
        self.assertEqual(now[qvb].get("master"), qbr)
        self.assertEqual(now[qvb]["mtu"], 1450)
        self.assertIn(qvo, ovs_ports())
        ids = interface_ids(qvo)
        self.assertEqual((ids["iface-id"], ids["attached-mac"], ids["vm-uuid"], ids["iface-status"]),
                         (port, mac_of(port), INSTANCE.uuid, "active"))
        # libvirt (type='bridge') now creates the tap and enslaves it to the qbr.
        ip("tuntap", "add", "dev", tap, "mode", "tap")
        ip("link", "set", tap, "address", "fe" + mac_of(port)[2:], "mtu", "1450", "master", qbr, "up")
        # vifd takes it as expected, not foreign: still Ready, tap kept and enslaved.
        wait_until(lambda: (api_get("/v1/status/%s" % port)[1] or {}).get("phase") == "Ready", what="Ready with the tap")
        time.sleep(1.5)
        code, status = api_get("/v1/status/%s" % port)
        self.assertEqual((code, status["phase"]), (200, "Ready"), status)
        self.assertEqual(links()[tap].get("master"), qbr)
        # The VM goes away (libvirt deletes its tap), then Nova unplugs.
        ip("link", "del", tap)
        os_vif.unplug(vif, INSTANCE)
        now = links()
        for dev in (tap, qbr, qvb, qvo):
            self.assertNotIn(dev, now)
        self.assertNotIn(qvo, ovs_ports())

    @unittest.skipUnless(tap_owner_in_schema(),
                         "vif.tapOwner is not in vifd's schema (schema/portbinding.v1.json) on this branch: "
                         "the hypervisor-owned tap (issue 12 item 2) is not merged yet")
    def test_plug_linux_bridge_with_a_hypervisor_owned_tap(self):
        port = new_port()
        bridge = "brq" + uuid.uuid4().hex[:8]
        vif = objects.vif.VIFBridge(id=port, address=mac_of(port), network=network(bridge=bridge), plugin="vifd",
                                    vif_name=name("tap", port), bridge_name=bridge)
        self.unplug_later(vif)
        tap = name("tap", port)
        self.addCleanup(lambda: ip("link", "del", tap, check=False))
        os_vif.plug(vif, INSTANCE)
        now = links()
        self.assertEqual(now[bridge]["linkinfo"]["info_kind"], "bridge")
        self.assertNotIn(tap, now)
        # libvirt's type='bridge' tap
        ip("tuntap", "add", "dev", tap, "mode", "tap")
        ip("link", "set", tap, "mtu", "1450", "master", bridge, "up")
        time.sleep(1.5)
        code, status = api_get("/v1/status/%s" % port)
        self.assertEqual((code, status["phase"]), (200, "Ready"), status)
        self.assertEqual(links()[tap].get("master"), bridge)
        ip("link", "del", tap)
        os_vif.unplug(vif, INSTANCE)
        self.assertEqual(api_get("/v1/bindings/%s" % port)[0], 404)
        self.assertEqual(api_get("/v1/status/%s" % port)[0], 404)
        # vifd made the bridge and no binding uses it any more: it goes. With a
        # hypervisor-owned tap the port owned no device under it, so today this
        # waits for vifd's next full resync (--resync-seconds: 60 by default, 10 in osvif.test.ts).
        started = time.monotonic()
        wait_until(lambda: bridge not in links(), timeout=120, what="the unused bridge %s removed" % bridge)
        sys.stderr.write("(unused bridge %s removed %.1f s after unplug) " % (bridge, time.monotonic() - started))

    def test_a_newer_os_vif_s_multiqueue_profile_makes_a_multi_queue_tap(self):
        # VIFPortProfileOpenVSwitch 1.4 (create_tap, multiqueue) is newer than
        # Debian's os-vif 3.0: the objects are stand-ins with its fields.
        from test_translate import Duck
        port = new_port()
        profile = Duck("VIFPortProfileOpenVSwitch", interface_id=port, datapath_type="netdev", create_port=False,
                       create_tap=True, multiqueue=True)
        vif = Duck("VIFOpenVSwitch", id=port, address=mac_of(port), network=network(), plugin="vifd",
                   port_profile=profile, vif_name=name("tap", port), bridge_name="br-int")
        self.unplug_later(vif)
        os_vif.plug(vif, INSTANCE)
        info = links()[name("tap", port)]["linkinfo"]["info_data"]
        self.assertTrue(info.get("multi_queue"), info)
        self.assertIn("queues='256'", api_get("/v1/status/%s" % port)[1]["libvirt"])
        os_vif.unplug(vif, INSTANCE)
        self.assertNotIn(name("tap", port), links())

    @unittest.skipUnless(tap_owner_in_schema(),
                         "vif.tapOwner is not in vifd's schema (schema/portbinding.v1.json) on this branch: "
                         "the hypervisor-owned tap (issue 12 item 2) is not merged yet")
    def test_plug_ovs_as_nova_builds_it_libvirt_makes_the_tap(self):
        # Nova sets create_port on every Neutron port's profile; with os-vif
        # 3.0 its XML is type='ethernet' without managed='no': libvirt makes
        # the tap, vifd the OVS port for it (before the tap exists).
        port = new_port()
        vif = ovs_vif(port, create_port=True)
        self.unplug_later(vif)
        tap = name("tap", port)
        self.addCleanup(lambda: ip("link", "del", tap, check=False))
        os_vif.plug(vif, INSTANCE)
        self.assertNotIn(tap, links())
        self.assertIn(tap, ovs_ports())
        ids = interface_ids(tap)
        self.assertEqual((ids["iface-id"], ids["attached-mac"], ids["vm-uuid"], ids["iface-status"]),
                         (port, mac_of(port), INSTANCE.uuid, "active"))
        ip("tuntap", "add", "dev", tap, "mode", "tap")  # libvirt's tap
        ip("link", "set", tap, "mtu", "1450", "up")
        wait_until(lambda: (api_get("/v1/status/%s" % port)[1] or {}).get("phase") == "Ready", what="Ready with the tap")
        time.sleep(1.5)
        code, status = api_get("/v1/status/%s" % port)
        self.assertEqual((code, status["phase"]), (200, "Ready"), status)
        self.assertIn(tap, links())
        self.assertIn(tap, ovs_ports())
        ip("link", "del", tap)
        os_vif.unplug(vif, INSTANCE)
        self.assertNotIn(tap, ovs_ports())

    def test_a_tap_name_another_port_holds_raises_with_vifd_s_message(self):
        holder = new_port()
        vif = ovs_vif(holder)
        self.unplug_later(vif)
        os_vif.plug(vif, INSTANCE)
        other = new_port()
        thief = ovs_vif(other, vif_name=name("tap", holder))
        self.unplug_later(thief)
        with self.assertRaises(osv_exception.PlugException) as caught:
            os_vif.plug(thief, INSTANCE)
        text = str(caught.exception)
        self.assertIn("device name %s is already claimed by port %s" % (name("tap", holder), holder), text)
        self.assertEqual(api_get("/v1/bindings/%s" % other)[0], 404)

    def test_a_foreign_device_makes_the_plug_fail_with_the_status_message(self):
        foreign = "foreign%s" % uuid.uuid4().hex[:6]
        ip("tuntap", "add", "dev", foreign, "mode", "tap")
        self.addCleanup(lambda: ip("link", "del", foreign, check=False))
        port = new_port()
        vif = ovs_vif(port, vif_name=foreign)
        self.unplug_later(vif)
        with self.assertRaises(osv_exception.PlugException) as caught:
            os_vif.plug(vif, INSTANCE)
        code, status = api_get("/v1/status/%s" % port)
        self.assertEqual((code, status["phase"]), (200, "Conflict"))
        text = str(caught.exception)
        self.assertIn("Conflict", text)
        self.assertIn(status["message"], text)
        self.assertIn(foreign, links())  # not vifd's: untouched

    def test_a_binding_vifd_rejects_raises_with_the_problem(self):
        port = new_port()
        bad = objects.instance_info.InstanceInfo(uuid="vm-without-uuid", name="vm1", project_id="p")
        with self.assertRaises(osv_exception.PlugException) as caught:
            os_vif.plug(ovs_vif(port), bad)
        self.assertIn("INVALID", str(caught.exception))
        self.assertIn("instance: must be a UUID", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
