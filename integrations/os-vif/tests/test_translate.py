"""Pure tests of the VIF -> PortBinding translation, on real os-vif objects
built the way Nova's os_vif_util builds them."""

import os
import sys
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import os_vif  # noqa: E402
from os_vif import objects  # noqa: E402

from vif_plug_vifd import translate  # noqa: E402

objects.register_all()

PORT = "3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f"
INSTANCE = "b1e2c3d4-0000-4000-8000-000000000001"
MAC = "fa:16:3e:5d:12:7a"


def instance(uuid=INSTANCE):
    return objects.instance_info.InstanceInfo(uuid=uuid, name="vm1", project_id="p")


def network(**kw):
    args = {"id": "0f6a0c2e-1111-4222-8333-444455556666", "bridge": "br-int", "mtu": 1450}
    args.update(kw)
    return objects.network.Network(**{k: v for k, v in args.items() if v is not None})


def ovs_profile(**kw):
    args = {"interface_id": PORT, "datapath_type": "netdev"}
    args.update(kw)
    return objects.vif.VIFPortProfileOpenVSwitch(**{k: v for k, v in args.items() if v is not None})


def vif_ovs(**kw):
    args = {"id": PORT, "address": MAC, "network": network(), "plugin": "vifd",
            "port_profile": ovs_profile(), "vif_name": ("tap" + PORT)[:14], "bridge_name": "br-int"}
    args.update(kw)
    return objects.vif.VIFOpenVSwitch(**{k: v for k, v in args.items() if v is not None})


def vif_hybrid(**kw):
    args = {"id": PORT, "address": MAC, "network": network(), "plugin": "vifd",
            "port_profile": ovs_profile(), "vif_name": ("tap" + PORT)[:14],
            "bridge_name": ("qbr" + PORT)[:14], "has_traffic_filtering": True}
    args.update(kw)
    return objects.vif.VIFBridge(**{k: v for k, v in args.items() if v is not None})


class OpenVSwitchTest(unittest.TestCase):
    def test_plain_ovs(self):
        doc = translate.port_binding(vif_ovs(), instance())
        self.assertEqual(doc, {
            "apiVersion": "vifd/v1", "kind": "PortBinding", "port": PORT, "mac": MAC,
            "instance": INSTANCE, "mtu": 1450,
            "vif": {"type": "ovs", "bridge": "br-int", "tap": "tap3f2a8c71-5b",
                    "datapathType": "netdev", "profile": {"interfaceId": PORT}},
        })

    def test_interface_id_and_profile_id_come_from_the_profile(self):
        other = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
        doc = translate.port_binding(vif_ovs(port_profile=ovs_profile(interface_id=other, profile_id="gold")), instance())
        self.assertEqual(doc["vif"]["profile"], {"interfaceId": other, "profileId": "gold"})

    def test_bridge_from_network_else_bridge_name(self):
        self.assertEqual(translate.port_binding(vif_ovs(network=network(bridge="br-x"), bridge_name="br-y"), instance())["vif"]["bridge"], "br-x")
        self.assertEqual(translate.port_binding(vif_ovs(network=network(bridge=None), bridge_name="br-y"), instance())["vif"]["bridge"], "br-y")

    def test_no_bridge_at_all(self):
        with self.assertRaisesRegex(translate.TranslationError, "OVS bridge"):
            translate.port_binding(vif_ovs(network=network(bridge=None), bridge_name=None), instance())

    def test_create_port_means_libvirt_makes_the_tap(self):
        # Nova sets create_port (delegate_create) for every Neutron port; without
        # create_tap (os-vif 3.0 has no such field) its XML is type='ethernet'
        # without managed='no': libvirt creates the tap, vifd the OVS port.
        doc = translate.port_binding(vif_ovs(port_profile=ovs_profile(create_port=True)), instance())
        self.assertEqual(doc["vif"]["tapOwner"], "hypervisor")
        self.assertEqual(doc["vif"]["tap"], "tap3f2a8c71-5b")

    def test_unset_optional_fields_are_left_out(self):
        doc = translate.port_binding(vif_ovs(network=network(mtu=None), port_profile=ovs_profile(datapath_type=None), vif_name=None),
                                     objects.instance_info.InstanceInfo(name="vm1"))
        self.assertNotIn("mtu", doc)
        self.assertNotIn("instance", doc)
        self.assertNotIn("tap", doc["vif"])
        self.assertNotIn("datapathType", doc["vif"])

    def test_datapath_type_vifd_does_not_do(self):
        with self.assertRaisesRegex(translate.TranslationError, "datapath_type 'dpdk'"):
            translate.port_binding(vif_ovs(port_profile=ovs_profile(datapath_type="dpdk")), instance())

    def test_needs_an_ovs_port_profile(self):
        with self.assertRaisesRegex(translate.TranslationError, "not no port profile"):
            translate.port_binding(vif_ovs(port_profile=None), instance())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)  # os-vif deprecates the class itself
            representor = objects.vif.VIFPortProfileOVSRepresentor(interface_id=PORT)
        with self.assertRaisesRegex(translate.TranslationError, "not VIFPortProfileOVSRepresentor"):
            translate.port_binding(vif_ovs(port_profile=representor), instance())

    def test_no_mac(self):
        with self.assertRaisesRegex(translate.TranslationError, "no address"):
            translate.port_binding(vif_ovs(address=None), instance())


class Duck:
    """An os-vif-like object of a newer os-vif than Debian's 3.0 (duck-typed:
    what translate reads is fields, obj_attr_is_set and obj_name)."""

    def __init__(self, name, **values):
        self._name = name
        self.fields = dict.fromkeys(values)
        self.__dict__.update(values)

    def obj_name(self):
        return self._name

    def obj_attr_is_set(self, attr):
        return attr in self.fields and attr in self.__dict__


class NewerOsVifTest(unittest.TestCase):
    """VIFPortProfileOpenVSwitch 1.4 (create_tap, multiqueue), as Nova sets it from ovs_create_tap."""

    def vif(self, create_tap, multiqueue=False):
        profile = Duck("VIFPortProfileOpenVSwitch", interface_id=PORT, datapath_type="netdev", create_port=False,
                       create_tap=create_tap, multiqueue=multiqueue)
        return Duck("VIFOpenVSwitch", id=PORT, address=MAC, network=network(), plugin="vifd", port_profile=profile,
                    vif_name=("tap" + PORT)[:14], bridge_name="br-int")

    def test_create_tap_true_is_what_vifd_does(self):
        doc = translate.port_binding(self.vif(True), instance())
        self.assertEqual(doc["vif"]["tap"], "tap3f2a8c71-5b")
        self.assertNotIn("tapOwner", doc["vif"])
        self.assertNotIn("queues", doc["vif"])

    def test_multiqueue_makes_a_multi_queue_tap(self):
        doc = translate.port_binding(self.vif(True, multiqueue=True), instance())
        self.assertEqual(doc["vif"]["queues"], 256)

    def test_create_tap_and_create_port_false_means_libvirt_plugs_ovs_itself_and_is_refused(self):
        with self.assertRaisesRegex(translate.TranslationError, "create_tap and create_port are false.*openvswitch virtualport"):
            translate.port_binding(self.vif(False), instance())

    def test_create_port_without_create_tap_is_the_hypervisor_s_tap(self):
        vif = self.vif(False)
        vif.port_profile.create_port = True
        self.assertEqual(translate.port_binding(vif, instance())["vif"]["tapOwner"], "hypervisor")


class HybridTest(unittest.TestCase):
    def test_hybrid_with_a_hypervisor_owned_tap(self):
        doc = translate.port_binding(vif_hybrid(), instance())
        self.assertEqual(doc["vif"], {
            "type": "ovs", "bridge": "br-int", "hybrid": True, "tap": "tap3f2a8c71-5b",
            "tapOwner": "hypervisor", "datapathType": "netdev", "profile": {"interfaceId": PORT},
        })
        self.assertEqual(doc["mtu"], 1450)

    def test_a_qbr_name_vifd_would_not_build(self):
        with self.assertRaisesRegex(translate.TranslationError, "bridge_name 'qbr-other'.*'qbr3f2a8c71-5b'"):
            translate.port_binding(vif_hybrid(bridge_name="qbr-other"), instance())

    def test_hybrid_needs_the_ovs_bridge(self):
        with self.assertRaisesRegex(translate.TranslationError, "network.bridge"):
            translate.port_binding(vif_hybrid(network=network(bridge=None)), instance())


class LinuxBridgeTest(unittest.TestCase):
    def vif(self, **kw):
        args = {"id": PORT, "address": MAC, "network": network(bridge="brq0f6a0c2e-11"), "plugin": "vifd",
                "vif_name": ("tap" + PORT)[:14], "bridge_name": "brq0f6a0c2e-11"}
        args.update(kw)
        return objects.vif.VIFBridge(**{k: v for k, v in args.items() if v is not None})

    def test_bridge(self):
        doc = translate.port_binding(self.vif(), instance())
        self.assertEqual(doc["vif"], {"type": "bridge", "bridge": "brq0f6a0c2e-11", "tap": "tap3f2a8c71-5b", "tapOwner": "hypervisor"})

    def test_vlan_and_uplink_networks_are_refused(self):
        with self.assertRaisesRegex(translate.TranslationError, "should_provide_vlan"):
            translate.port_binding(self.vif(network=network(bridge="brq1", should_provide_vlan=True, vlan=100)), instance())
        with self.assertRaisesRegex(translate.TranslationError, "bridge_interface 'eth1'"):
            translate.port_binding(self.vif(network=network(bridge="brq1", should_provide_bridge=True, bridge_interface="eth1")), instance())

    def test_another_profile(self):
        with self.assertRaisesRegex(translate.TranslationError, "VIFPortProfile8021Qbh is not one vifd plugs"):
            translate.port_binding(self.vif(port_profile=objects.vif.VIFPortProfile8021Qbh(profile_id="p")), instance())


class DirectTest(unittest.TestCase):
    def vif(self, profile, mode="vepa", **kw):
        args = {"id": PORT, "address": MAC, "network": network(bridge=None), "plugin": "vifd",
                "vif_name": ("mvt" + PORT)[:14], "dev_address": "0000:3b:00.1", "mode": mode, "port_profile": profile}
        args.update(kw)
        return objects.vif.VIFDirect(**{k: v for k, v in args.items() if v is not None})

    def resolve(self, address):
        self.assertEqual(address, "0000:3b:00.1")
        return "enp59s0f1"

    def test_qbg(self):
        profile = objects.vif.VIFPortProfile8021Qbg(manager_id=12, type_id=1193046, type_id_version=1, instance_id=INSTANCE)
        doc = translate.port_binding(self.vif(profile), instance(), resolve_pci=self.resolve)
        self.assertEqual(doc["vif"], {"type": "802.1qbg", "device": "enp59s0f1", "macvtap": "mvt3f2a8c71-5b", "mode": "vepa",
                                      "profile": {"managerId": 12, "typeId": 1193046, "typeIdVersion": 1, "instanceId": INSTANCE}})

    def test_qbh(self):
        profile = objects.vif.VIFPortProfile8021Qbh(profile_id="finance")
        doc = translate.port_binding(self.vif(profile, mode="passthrough"), instance(), resolve_pci=self.resolve)
        self.assertEqual(doc["vif"], {"type": "802.1qbh", "device": "enp59s0f1", "macvtap": "mvt3f2a8c71-5b", "mode": "passthrough",
                                      "profile": {"profileId": "finance"}})

    def test_qbg_has_no_passthrough(self):
        profile = objects.vif.VIFPortProfile8021Qbg(manager_id=12, type_id=1, type_id_version=1, instance_id=INSTANCE)
        with self.assertRaisesRegex(translate.TranslationError, "mode 'passthrough'"):
            translate.port_binding(self.vif(profile, mode="passthrough"), instance(), resolve_pci=self.resolve)

    def test_incomplete_qbg_profile(self):
        profile = objects.vif.VIFPortProfile8021Qbg(manager_id=12, type_id=1)
        with self.assertRaisesRegex(translate.TranslationError, "lacks typeIdVersion, instanceId"):
            translate.port_binding(self.vif(profile), instance(), resolve_pci=self.resolve)

    def test_direct_without_a_port_profile_vifd_does(self):
        with self.assertRaisesRegex(translate.TranslationError, "not VIFPortProfileOpenVSwitch"):
            translate.port_binding(self.vif(ovs_profile()), instance(), resolve_pci=self.resolve)

    def test_vlan_name(self):
        profile = objects.vif.VIFPortProfile8021Qbh(profile_id="finance")
        with self.assertRaisesRegex(translate.TranslationError, "vlan_name 'eth1.100'"):
            translate.port_binding(self.vif(profile, vlan_name="eth1.100"), instance(), resolve_pci=self.resolve)


class OtherVifsTest(unittest.TestCase):
    def test_vhostuser_is_not_vifd_s(self):
        vif = objects.vif.VIFVHostUser(id=PORT, address=MAC, network=network(), plugin="vifd", path="/tmp/x", mode="client")
        with self.assertRaisesRegex(translate.TranslationError, "VIFVHostUser .*VIFOpenVSwitch, VIFBridge and VIFDirect"):
            translate.port_binding(vif, instance())


if __name__ == "__main__":
    unittest.main()
