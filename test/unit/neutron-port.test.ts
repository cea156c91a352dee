// Neutron's port description → PortBinding, on real port bodies (the shape
// of Neutron's `GET /v2.0/ports/{id}` with the port-binding extension), and
// every case vifd cannot plug.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { DesiredStore } from '../../src/desired/store.js';

const base = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/neutron-port-ovs.json'), 'utf8')) as Record<string, unknown>;
const PORT = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const port = (over: Record<string, unknown> = {}, details?: Record<string, unknown>) => ({
  ...base,
  ...(details ? { 'binding:vif_details': details } : {}),
  ...over,
});
const doc = (neutronPort: unknown, mtu: number | null = 1450) => ({ apiVersion: 'vifd/v1', kind: 'NeutronPort', neutronPort, ...(mtu === null ? {} : { mtu }) });
const bindingOf = (d: unknown) => {
  const r = parseDocumentValue(d);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  expect(r.documentKind).toBe('NeutronPort');
  return r.bindings[0]!;
};
const problemsOf = (d: unknown) => {
  const r = parseDocumentValue(d);
  if (r.ok) throw new Error('expected problems');
  return r;
};

describe('NeutronPort translation', () => {
  it('ovs (OVN-style, plain): br-int, Nova devname, interface id = port id, MTU from the network, instance = device_id', () => {
    expect(bindingOf(doc(port()))).toEqual({
      apiVersion: 'vifd/v1',
      kind: 'PortBinding',
      port: PORT,
      mac: 'fa:16:3e:5d:12:7a',
      instance: '9b1e2f4c-3d5a-4e6f-8a7b-0c1d2e3f4a5b',
      mtu: 1450,
      vif: { type: 'ovs', bridge: 'br-int', tap: 'tap3f2a8c71-5b', tapOwner: 'hypervisor', datapathType: 'system', profile: { interfaceId: PORT } },
    });
  });

  it('ovs with ovs_create_tap: vifd makes the tap (Nova: os-vif creates it, libvirt gets managed=no)', () => {
    const b = bindingOf(doc(port({}, { ovs_create_tap: true, bridge_name: 'br-int' })));
    expect(b.vif).toEqual({ type: 'ovs', bridge: 'br-int', tap: 'tap3f2a8c71-5b', profile: { interfaceId: PORT } });
  });

  it('ovs hybrid (ML2/OVS with the iptables firewall), no bridge_name: default br-int, netdev datapath', () => {
    const b = bindingOf(doc(port({}, { ovs_hybrid_plug: true, port_filter: true, datapath_type: 'netdev' })));
    expect(b.vif).toEqual({ type: 'ovs', bridge: 'br-int', tap: 'tap3f2a8c71-5b', hybrid: true, tapOwner: 'hypervisor', datapathType: 'netdev', profile: { interfaceId: PORT } });
    // A VIFBridge's tap is libvirt's whatever ovs_create_tap says.
    expect(bindingOf(doc(port({}, { ovs_hybrid_plug: true, ovs_create_tap: true }))).vif).toMatchObject({ tapOwner: 'hypervisor' });
  });

  it('ovs with a long bridge_name is cut to 14 characters, as Nova does', () => {
    expect(bindingOf(doc(port({}, { bridge_name: 'br-integration-long' }))).vif).toMatchObject({ bridge: 'br-integration' });
  });

  it('bridge (linuxbridge agent): brq + network id cut to 14, no MTU when the document gives none', () => {
    const b = bindingOf(doc(port({ 'binding:vif_type': 'bridge' }, { port_filter: true }), null));
    expect(b.vif).toEqual({ type: 'bridge', bridge: 'brq6a1c2b3d-4e', tap: 'tap3f2a8c71-5b', tapOwner: 'hypervisor' });
    expect(b.mtu).toBeUndefined();
    expect(bindingOf(doc(port({ 'binding:vif_type': 'bridge' }, { bridge_name: 'brq-custom' }))).vif).toMatchObject({ bridge: 'brq-custom' });
  });

  it('802.1qbh and 802.1qbg with their parameters in vif_details', () => {
    expect(bindingOf(doc(port({ 'binding:vif_type': '802.1qbh' }, { profileid: 'gold', physical_interface: 'eth1' }))).vif).toEqual({
      type: '802.1qbh', device: 'eth1', macvtap: 'mvt3f2a8c71-5b', profile: { profileId: 'gold' },
    });
    const qbg = { managerid: 12, typeid: 1193046, typeidversion: 1, instanceid: 'a7d7b3c4-0000-4000-8000-000000000001' };
    expect(bindingOf(doc(port({ 'binding:vif_type': '802.1qbg' }, { qbg_params: qbg, physical_interface: 'eth1' }))).vif).toEqual({
      type: '802.1qbg', device: 'eth1', macvtap: 'mvt3f2a8c71-5b', profile: { managerId: 12, typeId: 1193046, typeIdVersion: 1, instanceId: 'a7d7b3c4-0000-4000-8000-000000000001' },
    });
  });

  it('a device_id that is not an instance UUID (a router, DHCP) gives no instance', () => {
    expect(bindingOf(doc(port({ device_id: 'dhcp1ae8-compute-1' }))).instance).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown> | undefined, string, RegExp]>([
    ['unbound', { 'binding:vif_type': 'unbound' }, undefined, 'neutronPort.binding:vif_type', /not bound to a host \("unbound"\)/u],
    ['no vif_type at all', { 'binding:vif_type': undefined }, undefined, 'neutronPort.binding:vif_type', /not bound/u],
    ['binding_failed', { 'binding:vif_type': 'binding_failed' }, undefined, 'neutronPort.binding:vif_type', /"binding_failed": Neutron could not bind/u],
    ['vhostuser', { 'binding:vif_type': 'vhostuser' }, { vhostuser_socket: '/var/run/openvswitch/vhu3f2a8c71-5b' }, 'neutronPort.binding:vif_type', /"vhostuser" is not supported/u],
    ['hw_veb', { 'binding:vif_type': 'hw_veb', 'binding:vnic_type': 'normal' }, { vlan: '100' }, 'neutronPort.binding:vif_type', /"hw_veb" is not supported/u],
    ['hostdev_physical', { 'binding:vif_type': 'hostdev_physical' }, undefined, 'neutronPort.binding:vif_type', /"hostdev_physical" is not supported/u],
    ['macvtap (the macvtap agent)', { 'binding:vif_type': 'macvtap' }, { macvtap_source: 'eth1', macvtap_mode: 'bridge' }, 'neutronPort.binding:vif_type', /"macvtap" is not supported/u],
    ['vnic_type direct (SR-IOV)', { 'binding:vnic_type': 'direct' }, undefined, 'neutronPort.binding:vnic_type', /"direct" is not supported/u],
    ['vnic_type baremetal', { 'binding:vnic_type': 'baremetal' }, undefined, 'neutronPort.binding:vnic_type', /"baremetal" is not supported/u],
    ['id not a UUID', { id: 'port-1' }, undefined, 'neutronPort.id', /UUID/u],
    ['a bad MAC', { mac_address: 'fa:16:3e:zz:12:7a' }, undefined, 'neutronPort.mac_address', /MAC/u],
    ['qbh without profileid', { 'binding:vif_type': '802.1qbh' }, { physical_interface: 'eth1' }, 'neutronPort.binding:vif_details.profileid', /required/u],
    ['qbg without its parameters', { 'binding:vif_type': '802.1qbg' }, { physical_interface: 'eth1' }, 'neutronPort.binding:vif_details.qbg_params', /required/u],
    ['qbg with a bad manager id', { 'binding:vif_type': '802.1qbg' }, { physical_interface: 'eth1', qbg_params: { managerid: 0, typeid: 1, typeidversion: 1, instanceid: 'a7d7b3c4-0000-4000-8000-000000000001' } }, 'neutronPort.binding:vif_details.qbg_params.managerid', /./u],
    ['macvtap type without an uplink', { 'binding:vif_type': '802.1qbh' }, { profileid: 'gold' }, 'neutronPort.binding:vif_details.physical_interface', /uplink/u],
    ['an unknown datapath', {}, { datapath_type: 'dpdk' }, 'neutronPort.binding:vif_details.datapath_type', /"dpdk"/u],
    ['a bridge name that is not an interface name', {}, { bridge_name: 'br int' }, 'neutronPort.binding:vif_details.bridge_name', /interface name/u],
  ])('Invalid: %s', (_what, over, details, path, message) => {
    const r = problemsOf(doc(port(over, details)));
    expect(r.problems.map((p) => p.path)).toContain(path);
    expect(r.problems.find((p) => p.path === path)?.message).toMatch(message);
    if (over['id'] === undefined) expect(r.ports).toEqual([PORT]); // reported on the port it names
  });

  it('the envelope is strict; the port object is not (Neutron adds attributes)', () => {
    expect(problemsOf({ ...doc(port()), extra: 1 }).problems[0]?.message).toMatch(/Unrecognized key/u);
    expect(problemsOf(doc(port(), 40)).problems[0]?.path).toBe('mtu');
    expect(bindingOf(doc({ ...port(), 'some_new_attribute:xyz': [1, 2] })).port).toBe(PORT);
  });

  it('the status can tell which kind of document a binding came from', () => {
    const store = new DesiredStore();
    store.set('file:n.json', parseDocumentValue(doc(port())));
    expect(store.view().bindings.get(PORT)?.documentKind).toBe('NeutronPort');
    // An invalid edit keeps the kind of what stays applied.
    store.set('file:n.json', parseDocumentValue(doc(port({ 'binding:vif_type': 'binding_failed' }))));
    expect(store.view().bindings.get(PORT)?.documentKind).toBe('NeutronPort');
    expect(store.view().bindings.get(PORT)?.invalid?.problems[0]?.path).toBe('neutronPort.binding:vif_type');
  });
});
