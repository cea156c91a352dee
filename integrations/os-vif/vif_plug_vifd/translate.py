"""os-vif VIF objects -> vifd PortBinding documents. Pure: no I/O.

The one host lookup a translation may need (the network device of a PCI
address, for VIFDirect) is passed in as a function.

Which os-vif object becomes which binding:

* VIFOpenVSwitch + VIFPortProfileOpenVSwitch -> ``ovs`` binding; vifd creates
  the OVS port, and the tap unless the profile says ``create_port`` without
  ``create_tap`` (Nova's libvirt XML is then ``type='ethernet'`` without
  ``managed='no'``: libvirt makes the tap, ``tapOwner: "hypervisor"``).
* VIFBridge + VIFPortProfileOpenVSwitch (Nova's hybrid plug) -> ``ovs``
  binding with ``hybrid: true`` and ``tapOwner: "hypervisor"``: vifd builds
  qbr, the qvb/qvo veth and the OVS port; libvirt (``type='bridge'``)
  creates the tap and enslaves it to the qbr.
* VIFBridge without a port profile (Nova's ``bridge`` vif_type) -> ``bridge``
  binding with ``tapOwner: "hypervisor"``.
* VIFDirect + VIFPortProfile8021Qbg / VIFPortProfile8021Qbh -> ``802.1qbg`` /
  ``802.1qbh`` binding (macvtap on the device at ``dev_address``).
"""

API_VERSION = "vifd/v1"
NIC_NAME_LEN = 14

# Multiqueue: os-vif >= the 1.4 VIFPortProfileOpenVSwitch carries
# ``multiqueue`` (a bool Nova sets from hw:vif_multiqueue_enabled, with
# ``create_tap``); Debian's os-vif 3.0 has no such field and no other object
# carries queues. os-vif gives no count: the tap itself only carries the
# multi_queue flag (QEMU opens as many queues as Nova's own XML says, up to
# the kernel's 256), so a multiqueue profile asks vifd for MULTIQUEUE_QUEUES.
# (vifd's reported XML then says queues='256'; Nova writes its own XML.)
MULTIQUEUE_QUEUES = 256


class TranslationError(ValueError):
    """The VIF cannot be expressed as a vifd binding; the message says why."""


def field(obj, name):
    """The value of an os-vif object field, or None when unset or unknown.

    os-vif objects raise on reading an unset field, and older os-vif versions
    lack newer fields altogether.
    """
    if obj is None:
        return None
    fields = getattr(obj, "fields", None)
    if fields is not None and name not in fields:
        return None
    is_set = getattr(obj, "obj_attr_is_set", None)
    if is_set is not None and not is_set(name):
        return None
    return getattr(obj, name, None)


def obj_name(obj):
    name = getattr(obj, "obj_name", None)
    return name() if callable(name) else type(obj).__name__


def default_name(prefix, port):
    return (prefix + port)[:NIC_NAME_LEN]


def _base(vif, instance_info):
    port = field(vif, "id")
    if not port:
        raise TranslationError("the VIF has no id (the port UUID)")
    mac = field(vif, "address")
    if not mac:
        raise TranslationError("VIF %s has no address (MAC): vifd needs one" % port)
    doc = {"apiVersion": API_VERSION, "kind": "PortBinding", "port": str(port), "mac": str(mac)}
    instance = field(instance_info, "uuid")
    if instance:
        doc["instance"] = str(instance)
    mtu = field(field(vif, "network"), "mtu")
    if mtu:
        doc["mtu"] = int(mtu)
    return doc


def _ovs_profile(vif, port):
    profile = field(vif, "port_profile")
    name = obj_name(profile) if profile is not None else None
    if name != "VIFPortProfileOpenVSwitch":
        raise TranslationError(
            "%s %s: vifd plugs OVS ports with a VIFPortProfileOpenVSwitch, not %s"
            % (obj_name(vif), port, name or "no port profile"))
    out = {}
    interface_id = field(profile, "interface_id")
    if interface_id:
        out["interfaceId"] = str(interface_id)
    profile_id = field(profile, "profile_id")
    if profile_id:
        out["profileId"] = str(profile_id)
    datapath = field(profile, "datapath_type")
    if datapath and datapath not in ("system", "netdev"):
        raise TranslationError(
            "%s %s: port_profile.datapath_type %r: vifd plugs OVS ports on 'system' or 'netdev' bridges only"
            % (obj_name(vif), port, datapath))
    return profile, out, datapath


def _ovs_bridge(vif, port):
    bridge = field(field(vif, "network"), "bridge") or field(vif, "bridge_name")
    if not bridge:
        raise TranslationError("%s %s: neither network.bridge nor bridge_name names the OVS bridge" % (obj_name(vif), port))
    return str(bridge)


def _tap(vif, vifd_vif):
    name = field(vif, "vif_name")
    if name:
        vifd_vif["tap"] = str(name)


def _open_vswitch(vif, instance_info, resolve_pci):
    doc = _base(vif, instance_info)
    port = doc["port"]
    profile, ids, datapath = _ovs_profile(vif, port)
    # Who makes the tap follows what Nova's libvirt driver writes
    # (_set_config_VIFOpenVSwitch): create_tap -> type='ethernet'
    # managed='no' (vifd's tap); else create_port (Nova sets it for every
    # Neutron port: delegate_create) -> type='ethernet' without managed='no',
    # libvirt makes the tap and vifd the OVS port for it; neither -> vifd's tap
    # (for callers that write the managed='no' XML themselves), except when
    # the profile says create_tap=false outright: then Nova writes type='bridge'
    # with an openvswitch virtualport and libvirt adds the port to OVS itself.
    create_tap = field(profile, "create_tap")
    hypervisor_tap = not create_tap and bool(field(profile, "create_port"))
    if create_tap is False and not hypervisor_tap:
        raise TranslationError(
            "VIFOpenVSwitch %s: port_profile.create_tap and create_port are false, so Nova will give libvirt "
            "type='bridge' with an openvswitch virtualport and libvirt adds the tap to OVS itself; vifd plugs a "
            "VIFOpenVSwitch with its own tap (create_tap, Neutron's vif_details ovs_create_tap=true) or with the "
            "hypervisor's (create_port)" % port)
    out = {"type": "ovs", "bridge": _ovs_bridge(vif, port)}
    _tap(vif, out)
    if hypervisor_tap:
        out["tapOwner"] = "hypervisor"
    elif field(profile, "multiqueue"):
        out["queues"] = MULTIQUEUE_QUEUES
    if datapath:
        out["datapathType"] = datapath
    out["profile"] = ids
    doc["vif"] = out
    return doc


def _bridge(vif, instance_info, resolve_pci):
    doc = _base(vif, instance_info)
    port = doc["port"]
    profile = field(vif, "port_profile")
    if profile is not None and obj_name(profile) == "VIFPortProfileOpenVSwitch":
        # Nova's OVS hybrid plug: vif.bridge_name is the per-port qbr,
        # network.bridge the OVS integration bridge.
        _, ids, datapath = _ovs_profile(vif, port)
        qbr = field(vif, "bridge_name")
        if qbr and qbr != default_name("qbr", port):
            raise TranslationError(
                "VIFBridge %s: bridge_name %r: vifd names the hybrid bridge %r (qbr + port id, as Nova does)"
                % (port, qbr, default_name("qbr", port)))
        bridge = field(field(vif, "network"), "bridge")
        if not bridge:
            raise TranslationError("VIFBridge %s: network.bridge (the OVS bridge of the hybrid plug) is not set" % port)
        out = {"type": "ovs", "bridge": str(bridge), "hybrid": True}
        _tap(vif, out)
        out["tapOwner"] = "hypervisor"
        if datapath:
            out["datapathType"] = datapath
        out["profile"] = ids
        doc["vif"] = out
        return doc
    if profile is not None:
        raise TranslationError("VIFBridge %s: port profile %s is not one vifd plugs" % (port, obj_name(profile)))
    network = field(vif, "network")
    if field(network, "should_provide_vlan"):
        raise TranslationError("VIFBridge %s: network.should_provide_vlan: vifd does not create VLAN interfaces" % port)
    if field(network, "should_provide_bridge") and field(network, "bridge_interface"):
        raise TranslationError(
            "VIFBridge %s: network.bridge_interface %r: vifd does not add uplinks to bridges"
            % (port, field(network, "bridge_interface")))
    bridge = field(vif, "bridge_name") or field(network, "bridge")
    if not bridge:
        raise TranslationError("VIFBridge %s: neither bridge_name nor network.bridge names the bridge" % port)
    out = {"type": "bridge", "bridge": str(bridge)}
    _tap(vif, out)
    out["tapOwner"] = "hypervisor"
    doc["vif"] = out
    return doc


_QBG_MODES = ("vepa", "bridge")
_QBH_MODES = ("passthrough", "vepa", "bridge")


def _direct(vif, instance_info, resolve_pci):
    doc = _base(vif, instance_info)
    port = doc["port"]
    profile = field(vif, "port_profile")
    kind = obj_name(profile) if profile is not None else None
    if kind not in ("VIFPortProfile8021Qbg", "VIFPortProfile8021Qbh"):
        raise TranslationError(
            "VIFDirect %s: vifd plugs macvtap ports with an 802.1Qbg or 802.1Qbh port profile, not %s"
            % (port, kind or "no port profile"))
    if field(vif, "vlan_name"):
        raise TranslationError("VIFDirect %s: vlan_name %r: vifd does not create VLAN interfaces" % (port, field(vif, "vlan_name")))
    address = field(vif, "dev_address")
    if not address:
        raise TranslationError("VIFDirect %s: dev_address (the PCI address of the uplink) is not set" % port)
    device = resolve_pci(str(address))
    mode = field(vif, "mode")
    out = {"type": "802.1qbg" if kind == "VIFPortProfile8021Qbg" else "802.1qbh", "device": device}
    name = field(vif, "vif_name")
    if name:
        out["macvtap"] = str(name)
    if kind == "VIFPortProfile8021Qbg":
        if mode and mode not in _QBG_MODES:
            raise TranslationError("VIFDirect %s: mode %r: an 802.1Qbg macvtap is vepa or bridge" % (port, mode))
        out["profile"] = {
            "managerId": field(profile, "manager_id"),
            "typeId": field(profile, "type_id"),
            "typeIdVersion": field(profile, "type_id_version"),
            "instanceId": None if field(profile, "instance_id") is None else str(field(profile, "instance_id")),
        }
        missing = [k for k, v in out["profile"].items() if v is None]
        if missing:
            raise TranslationError("VIFDirect %s: the 802.1Qbg port profile lacks %s" % (port, ", ".join(missing)))
    else:
        if mode and mode not in _QBH_MODES:
            raise TranslationError("VIFDirect %s: mode %r: an 802.1Qbh macvtap is passthrough, vepa or bridge" % (port, mode))
        profile_id = field(profile, "profile_id")
        if not profile_id:
            raise TranslationError("VIFDirect %s: the 802.1Qbh port profile has no profile_id" % port)
        out["profile"] = {"profileId": str(profile_id)}
    if mode:
        out["mode"] = str(mode)
    doc["vif"] = out
    return doc


def _no_pci(address):
    raise TranslationError("no lookup for PCI address %s was given" % address)


_BY_CLASS = {"VIFOpenVSwitch": _open_vswitch, "VIFBridge": _bridge, "VIFDirect": _direct}


def port_binding(vif, instance_info, resolve_pci=_no_pci):
    """The vifd PortBinding document (a dict, ready for JSON) for an os-vif VIF.

    :raises TranslationError: the VIF is not one vifd can plug (the message
        names the field and value).
    """
    build = _BY_CLASS.get(obj_name(vif))
    if build is None:
        raise TranslationError(
            "%s %s: vifd plugs VIFOpenVSwitch, VIFBridge and VIFDirect (802.1Qbg/Qbh) VIFs only"
            % (obj_name(vif), field(vif, "id")))
    return build(vif, instance_info, resolve_pci)
