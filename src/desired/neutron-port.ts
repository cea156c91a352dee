// Neutron's description of a port → a PortBinding. Pure.
//
// A `NeutronPort` document carries the port object exactly as Neutron's API
// returns it (`GET /v2.0/ports/{id}`, with the port-binding extension's
// `binding:*` attributes) and the network's MTU (ports carry none). The
// translation follows what Nova does with the same port:
// - `binding:vif_type` ovs: the bridge is `vif_details.bridge_name` (default
//   br-int), `vif_details.ovs_hybrid_plug` asks for the hybrid form,
//   `vif_details.datapath_type` is the OVS datapath, the OVS interface id is
//   the port id; who makes the tap follows Nova: `ovs_create_tap` true: vifd
//   (libvirt gets managed='no'), otherwise the hypervisor (hybrid: libvirt's
//   tap on the qbr; plain: libvirt's tap on the OVS port vifd made for it,
//   os-vif's create_port);
// - bridge: `vif_details.bridge_name`, else `brq` + network id (the tap is
//   libvirt's, as with Nova);
// - 802.1qbh: `vif_details.profileid` and the uplink in
//   `vif_details.physical_interface`; 802.1qbg: `vif_details.qbg_params`
//   (managerid, typeid, typeidversion, instanceid) and the uplink;
// - names are cut to 14 characters (Nova's NIC_NAME_LEN); the tap is Nova's
//   devname, `tap` + port id.
// Whatever vifd cannot plug (an unbound port, a failed binding, a vnic_type
// other than normal, vhostuser, hw_veb, hostdev_physical...) is a problem
// naming the field and its value.
import type { Problem } from './problem.js';
import { portIdOf } from './port-id.js';

export const NIC_NAME_LEN = 14;
const DEFAULT_OVS_BRIDGE = 'br-int';
const SUPPORTED = ['ovs', 'bridge', '802.1qbg', '802.1qbh'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const cut = (name: string): string => name.slice(0, NIC_NAME_LEN);

export type NeutronTranslation = { ok: true; binding: Json } | { ok: false; problems: Problem[]; port: string | undefined };

/** `at` is the path of the port object in the document (`neutronPort`). */
export function translateNeutronPort(port: unknown, mtu: unknown, at = 'neutronPort'): NeutronTranslation {
  const problems: Problem[] = [];
  const bad = (field: string, message: string) => problems.push({ path: `${at}.${field}`, message });
  if (!isObject(port)) return { ok: false, problems: [{ path: at, message: 'must be the port object as Neutron returns it' }], port: undefined };
  const id = portIdOf(port['id']);
  if (!id) bad('id', 'must be the port UUID');
  const mac = port['mac_address'];
  if (typeof mac !== 'string') bad('mac_address', 'is required');
  const vnicType = port['binding:vnic_type'] ?? 'normal';
  if (vnicType !== 'normal') bad('binding:vnic_type', `${JSON.stringify(vnicType)} is not supported: vifd plugs vnic_type "normal" ports only`);
  const vifType = port['binding:vif_type'];
  const details = port['binding:vif_details'] ?? {};
  if (!isObject(details)) bad('binding:vif_details', 'must be an object');
  const d = isObject(details) ? details : {};
  if (vifType === 'unbound' || vifType === undefined || vifType === null) bad('binding:vif_type', `the port is not bound to a host (${JSON.stringify(vifType ?? null)}): nothing to plug yet`);
  else if (vifType === 'binding_failed') bad('binding:vif_type', '"binding_failed": Neutron could not bind the port (see the Neutron server log)');
  else if (typeof vifType !== 'string' || !SUPPORTED.includes(vifType)) bad('binding:vif_type', `${JSON.stringify(vifType)} is not supported: vifd plugs ${SUPPORTED.map((t) => JSON.stringify(t)).join(', ')}`);
  const device = port['device_id'];
  const instance = typeof device === 'string' ? portIdOf(device) : undefined;

  let vif: Json | undefined;
  if (problems.length === 0 && id) {
    const tap = cut(`tap${id}`);
    const bridgeName = typeof d['bridge_name'] === 'string' ? d['bridge_name'] : undefined;
    const uplink = () => {
      const name = d['physical_interface'];
      if (typeof name !== 'string') bad('binding:vif_details.physical_interface', 'is required: the uplink the macvtap goes on');
      return typeof name === 'string' ? name : '';
    };
    switch (vifType) {
      case 'ovs': {
        const datapath = d['datapath_type'];
        if (datapath !== undefined && datapath !== 'system' && datapath !== 'netdev') bad('binding:vif_details.datapath_type', `${JSON.stringify(datapath)} is not an OVS datapath vifd knows ("system" or "netdev")`);
        const hybrid = d['ovs_hybrid_plug'] === true;
        // Nova: a VIFBridge (hybrid) tap is always libvirt's; a plain one is os-vif's only with ovs_create_tap.
        const vifdTap = !hybrid && d['ovs_create_tap'] === true;
        vif = {
          type: 'ovs',
          bridge: cut(bridgeName ?? DEFAULT_OVS_BRIDGE),
          tap,
          ...(hybrid ? { hybrid: true } : {}),
          ...(vifdTap ? {} : { tapOwner: 'hypervisor' }),
          ...(datapath === 'system' || datapath === 'netdev' ? { datapathType: datapath } : {}),
          profile: { interfaceId: id },
        };
        break;
      }
      case 'bridge': {
        const network = port['network_id'];
        if (bridgeName === undefined && typeof network !== 'string') bad('network_id', 'is required when binding:vif_details has no bridge_name');
        // Nova's Linux bridge VIF: libvirt makes the tap on the bridge.
        vif = { type: 'bridge', bridge: cut(bridgeName ?? `brq${String(network)}`), tap, tapOwner: 'hypervisor' };
        break;
      }
      case '802.1qbh': {
        const profileId = d['profileid'];
        if (typeof profileId !== 'string') bad('binding:vif_details.profileid', 'is required for 802.1qbh');
        vif = { type: '802.1qbh', device: uplink(), macvtap: cut(`mvt${id}`), profile: { profileId } };
        break;
      }
      case '802.1qbg': {
        const q = d['qbg_params'];
        if (!isObject(q)) bad('binding:vif_details.qbg_params', 'is required for 802.1qbg (managerid, typeid, typeidversion, instanceid)');
        const p = isObject(q) ? q : {};
        vif = {
          type: '802.1qbg',
          device: uplink(),
          macvtap: cut(`mvt${id}`),
          profile: { managerId: p['managerid'], typeId: p['typeid'], typeIdVersion: p['typeidversion'], instanceId: p['instanceid'] },
        };
        break;
      }
    }
  }
  if (problems.length > 0 || !vif) return { ok: false, problems, port: id };
  return {
    ok: true,
    binding: {
      apiVersion: 'vifd/v1',
      kind: 'PortBinding',
      port: id,
      mac,
      ...(instance ? { instance } : {}),
      ...(mtu === undefined ? {} : { mtu }),
      vif,
    },
  };
}
