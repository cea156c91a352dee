// A PortBinding resolved into the devices it needs on the host: names filled
// in with their defaults, per-type defaults applied. Pure.
import { defaultDeviceName, tapMacFor } from './names.js';
import type { OvsVif, PortBinding, QbgVif, QbhVif, ReadyWhen } from './schema.js';

/** A kernel link that belongs to exactly one binding. */
export type DesiredPortLink =
  | { kind: 'tap'; name: string; mac: string; mtu?: number; master?: string; /** > 1: multi_queue */ queues?: number; user?: number; group?: number }
  | { kind: 'bridge'; name: string; mtu?: number; /** per-port qbr: STP off, no ageing */ perPort: true }
  | { kind: 'veth'; name: string; peer: string; mtu?: number; master?: string }
  | { kind: 'macvtap'; name: string; lower: string; mode: string; mac: string; mtu?: number; /** up only once associated */ upWhenAssociated: true };

export interface DesiredOvsPort {
  bridge: string;
  /** Port and Interface name (the tap, or qvo in the hybrid form). */
  name: string;
  datapathType?: 'system' | 'netdev';
  /** Interface external_ids that OVS-based agents read. */
  externalIds: Record<string, string>;
  /** The binding's readiness gate (undefined: the daemon's default). */
  readyWhen?: ReadyWhen;
  /** A new port is created in VLAN 4095 (tag, trunks [4095], vlan_mode trunk); an agent owns the VLAN. */
  isolate?: true;
  /** VLAN columns vifd owns (applied and repaired) for this port. */
  vlan?: DesiredVlan;
}

/** Port tag/trunks/vlan_mode as vifd writes them for a `vlan` binding. */
export interface DesiredVlan {
  tag: number | null;
  trunks: number[];
  mode: 'access' | 'trunk' | 'native-tagged' | 'native-untagged';
}

export function desiredVlan(vlan: NonNullable<OvsVif['vlan']>): DesiredVlan {
  return {
    tag: vlan.tag ?? null,
    trunks: [...new Set(vlan.trunks ?? [])].sort((a, b) => a - b),
    mode: vlan.mode ?? (vlan.tag !== undefined ? 'access' : 'trunk'),
  };
}

function ovsPortExtras(vif: OvsVif): Pick<DesiredOvsPort, 'readyWhen' | 'isolate' | 'vlan'> {
  return {
    ...(vif.readyWhen ? { readyWhen: vif.readyWhen } : {}),
    ...(vif.isolate ? { isolate: true as const } : {}),
    ...(vif.vlan ? { vlan: desiredVlan(vif.vlan) } : {}),
  };
}

export type DesiredAssociation =
  | { kind: '802.1qbg'; uplink: string; macvtap: string; mac: string; profile: QbgVif['profile'] }
  | { kind: '802.1qbh'; uplink: string; macvtap: string; mac: string; instance?: string; profile: QbhVif['profile'] };

export interface BindingSpec {
  port: string;
  binding: PortBinding;
  /** Per-port links, in creation order. */
  links: DesiredPortLink[];
  /** A shared Linux bridge the binding plugs into (bridge type). */
  sharedBridge?: string;
  ovsPort?: DesiredOvsPort;
  association?: DesiredAssociation;
  /** The device the hypervisor opens (libvirt <target dev>). */
  targetDev: string;
  /** Set when the hypervisor creates the tap (tapOwner "hypervisor"): its
   * name; vifd never creates, changes or deletes it (it is not in `links`). */
  hypervisorTap?: string;
  /** Names this binding claims for itself alone. */
  exclusiveNames: string[];
  /** Names it shares with other bindings (bridges). */
  sharedNames: string[];
}

function ovsExternalIds(binding: PortBinding, interfaceId: string, profileId: string | undefined): Record<string, string> {
  const ids: Record<string, string> = {
    'iface-id': interfaceId,
    'iface-status': 'active',
    'attached-mac': binding.mac,
  };
  if (binding.instance) ids['vm-uuid'] = binding.instance;
  if (profileId) ids['vifd-profile-id'] = profileId;
  return ids;
}

function tapOptionsOf(vif: { queues?: number | undefined; tapUser?: number | undefined; tapGroup?: number | undefined }): { queues?: number; user?: number; group?: number } {
  return {
    ...(vif.queues !== undefined && vif.queues > 1 ? { queues: vif.queues } : {}),
    ...(vif.tapUser !== undefined ? { user: vif.tapUser } : {}),
    ...(vif.tapGroup !== undefined ? { group: vif.tapGroup } : {}),
  };
}

export function resolveSpec(binding: PortBinding): BindingSpec {
  const { port, mac, mtu, vif } = binding;
  const m = mtu === undefined ? {} : { mtu };
  const t = vif.type === 'bridge' || vif.type === 'ovs' ? tapOptionsOf(vif) : {};
  switch (vif.type) {
    case 'bridge': {
      const tap = vif.tap ?? defaultDeviceName('tap', port);
      const byHypervisor = vif.tapOwner === 'hypervisor';
      return {
        port,
        binding,
        links: byHypervisor ? [] : [{ kind: 'tap', name: tap, mac: tapMacFor(mac), ...m, master: vif.bridge, ...t }],
        sharedBridge: vif.bridge,
        targetDev: tap,
        ...(byHypervisor ? { hypervisorTap: tap } : {}),
        exclusiveNames: [tap],
        sharedNames: [vif.bridge],
      };
    }
    case 'ovs': {
      const tap = vif.tap ?? defaultDeviceName('tap', port);
      const externalIds = ovsExternalIds(binding, vif.profile.interfaceId ?? port, vif.profile.profileId);
      const dp = { ...(vif.datapathType === undefined ? {} : { datapathType: vif.datapathType }), ...ovsPortExtras(vif) };
      const byHypervisor = vif.tapOwner === 'hypervisor';
      const h = byHypervisor ? { hypervisorTap: tap } : {};
      if (!vif.hybrid) {
        return {
          port,
          binding,
          // A hypervisor's tap: the OVS port is made for it before it exists (os-vif's create_port).
          links: byHypervisor ? [] : [{ kind: 'tap', name: tap, mac: tapMacFor(mac), ...m, ...t }],
          ovsPort: { bridge: vif.bridge, name: tap, ...dp, externalIds },
          targetDev: tap,
          ...h,
          exclusiveNames: [tap],
          sharedNames: [vif.bridge],
        };
      }
      const qbr = defaultDeviceName('qbr', port);
      const qvb = defaultDeviceName('qvb', port);
      const qvo = defaultDeviceName('qvo', port);
      return {
        port,
        binding,
        links: [
          { kind: 'bridge', name: qbr, perPort: true },
          { kind: 'veth', name: qvb, peer: qvo, ...m, master: qbr },
          ...(byHypervisor ? [] : [{ kind: 'tap' as const, name: tap, mac: tapMacFor(mac), ...m, master: qbr, ...t }]),
        ],
        ovsPort: { bridge: vif.bridge, name: qvo, ...dp, externalIds },
        targetDev: tap,
        ...h,
        exclusiveNames: [tap, qbr, qvb, qvo],
        sharedNames: [vif.bridge],
      };
    }
    case '802.1qbg':
    case '802.1qbh': {
      const name = vif.macvtap ?? defaultDeviceName('mvt', port);
      const mode = vif.mode ?? (vif.type === '802.1qbg' ? 'vepa' : 'passthrough');
      const association: DesiredAssociation =
        vif.type === '802.1qbg'
          ? { kind: '802.1qbg', uplink: vif.device, macvtap: name, mac, profile: vif.profile }
          : { kind: '802.1qbh', uplink: vif.device, macvtap: name, mac, ...(binding.instance ? { instance: binding.instance } : {}), profile: vif.profile };
      return {
        port,
        binding,
        links: [{ kind: 'macvtap', name, lower: vif.device, mode, mac, ...m, upWhenAssociated: true }],
        association,
        targetDev: name,
        exclusiveNames: [name],
        sharedNames: [],
      };
    }
  }
}

/** ip prints macvtap passthrough mode as "passthru". */
export function ipMacvtapMode(mode: string): string {
  return mode === 'passthrough' ? 'passthru' : mode;
}
