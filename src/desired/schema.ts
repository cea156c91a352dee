// PortBinding v1 (docs/design.md §3) as zod schemas. Strict objects everywhere, so
// a typo in a field name is an error rather than a silently ignored field.
import { z } from 'zod';
import { UUID_ANY_CASE } from '../lib/uuid.js';
import { ifnameProblem } from './names.js';

export const API_VERSION = 'vifd/v1';

const uuid = z
  .string()
  .regex(UUID_ANY_CASE, 'must be a UUID')
  .transform((s) => s.toLowerCase());

const ifname = z.string().superRefine((value, ctx) => {
  const problem = ifnameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid interface name: ${problem}` });
});

const mac = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/u, 'must be a MAC address like fa:16:3e:5d:12:7a')
  .transform((s) => s.toLowerCase())
  .refine((s) => (parseInt(s.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC (multicast bit set)')
  .refine((s) => s !== '00:00:00:00:00:00', 'must not be all zeros');

/** Options of the tap vifd creates (bridge and ovs bindings). */
const tapOptions = {
  /** 1 (default) .. 256; > 1 makes a multi_queue tap (libvirt <driver queues='N'/>). */
  queues: z.number().int().min(1).max(256).optional(),
  /** The tap's owner and group (uid, gid), for hypervisors that open it unprivileged. */
  tapUser: z.number().int().min(0).max(4294967294).optional(),
  tapGroup: z.number().int().min(0).max(4294967294).optional(),
  /** Who creates the tap: vifd (default), or the hypervisor (libvirt with
   * type='bridge', or type='ethernet' without managed='no', makes the tap
   * itself and refuses one that exists). With "hypervisor" vifd builds all
   * the rest and never creates, changes or deletes the tap. */
  tapOwner: z.enum(['vifd', 'hypervisor']).optional(),
};

export const BridgeVifSchema = z.strictObject({
  type: z.literal('bridge'),
  bridge: ifname,
  tap: ifname.optional(),
  ...tapOptions,
});

/** When an OVS binding counts as Ready (docs/design.md §5, readiness gates). */
export const ReadyWhenSchema = z.enum(['plugged', 'ovn-installed', 'ofport']);
export type ReadyWhen = z.output<typeof ReadyWhenSchema>;
export const READY_WHEN_VALUES: readonly ReadyWhen[] = ReadyWhenSchema.options;

const vlanId = z.number().int().min(1).max(4094);

/** VLAN columns vifd owns for a port only when the binding says so. */
export const OvsVlanSchema = z
  .strictObject({
    tag: vlanId.optional(),
    trunks: z.array(vlanId).min(1).max(4094).optional(),
    mode: z.enum(['trunk', 'native-tagged', 'native-untagged']).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.tag === undefined && v.trunks === undefined) ctx.addIssue({ code: 'custom', message: 'needs tag and/or trunks' });
    if (v.mode === 'trunk' && v.tag !== undefined) ctx.addIssue({ code: 'custom', path: ['tag'], message: 'trunk mode carries no native VLAN: drop tag or use mode native-tagged/native-untagged' });
    if ((v.mode === 'native-tagged' || v.mode === 'native-untagged') && v.tag === undefined) ctx.addIssue({ code: 'custom', path: ['tag'], message: `mode ${v.mode} needs tag (the native VLAN)` });
    if (v.mode === undefined && v.tag !== undefined && v.trunks !== undefined) ctx.addIssue({ code: 'custom', path: ['mode'], message: 'with both tag and trunks, mode must be native-tagged or native-untagged' });
  });

export const OvsVifSchema = z
  .strictObject({
    type: z.literal('ovs'),
    bridge: ifname,
    tap: ifname.optional(),
    hybrid: z.boolean().optional(),
    datapathType: z.enum(['system', 'netdev']).optional(),
    ...tapOptions,
    profile: z.strictObject({
      interfaceId: uuid.optional(),
      profileId: z.string().min(1).max(255).optional(),
    }),
    /** Default: the daemon's --ready-when (itself "plugged" by default). */
    readyWhen: ReadyWhenSchema.optional(),
    /** A new port starts in Neutron's dead VLAN 4095; an agent owns the VLAN. */
    isolate: z.boolean().optional(),
    vlan: OvsVlanSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.isolate && v.vlan) ctx.addIssue({ code: 'custom', path: ['vlan'], message: 'cannot be combined with isolate: isolate leaves the VLAN to an agent, vlan makes vifd own it' });
  });

export const QbgVifSchema = z.strictObject({
  type: z.literal('802.1qbg'),
  device: ifname,
  macvtap: ifname.optional(),
  mode: z.enum(['vepa', 'bridge', 'private']).optional(),
  profile: z.strictObject({
    managerId: z.number().int().min(1).max(255),
    typeId: z.number().int().min(0).max(16777215),
    typeIdVersion: z.number().int().min(0).max(255),
    instanceId: uuid,
  }),
});

export const QbhVifSchema = z.strictObject({
  type: z.literal('802.1qbh'),
  device: ifname,
  macvtap: ifname.optional(),
  mode: z.enum(['passthrough', 'private', 'vepa', 'bridge']).optional(),
  profile: z.strictObject({
    profileId: z.string().min(1).max(39),
  }),
});

export const VifSchema = z.discriminatedUnion('type', [BridgeVifSchema, OvsVifSchema, QbgVifSchema, QbhVifSchema]);

export const PortBindingSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('PortBinding'),
  port: uuid,
  instance: uuid.optional(),
  mac,
  mtu: z.number().int().min(68).max(65535).optional(),
  vif: VifSchema,
});

export const PortBindingListSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('PortBindingList'),
  items: z.array(PortBindingSchema),
});

/** Neutron's port object as its API returns it, plus the network's MTU
 * (see neutron-port.ts for the translation). Only the envelope is strict:
 * the port carries many attributes vifd does not need. */
export const NeutronPortDocumentSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('NeutronPort'),
  neutronPort: z.looseObject({
    id: z.string(),
    mac_address: z.string(),
    network_id: z.string().optional(),
    device_id: z.string().optional(),
    'binding:vif_type': z.string().optional(),
    'binding:vnic_type': z.string().optional(),
    'binding:vif_details': z.record(z.string(), z.unknown()).optional(),
    'binding:host_id': z.string().optional(),
    'binding:profile': z.record(z.string(), z.unknown()).optional(),
  }),
  mtu: z.number().int().min(68).max(65535).optional(),
});

export const DocumentSchema = z.discriminatedUnion('kind', [PortBindingSchema, PortBindingListSchema, NeutronPortDocumentSchema]);
export type DocumentKind = 'PortBinding' | 'PortBindingList' | 'NeutronPort';

export type PortBinding = z.output<typeof PortBindingSchema>;
export type Vif = PortBinding['vif'];
export type BridgeVif = z.output<typeof BridgeVifSchema>;
export type OvsVif = z.output<typeof OvsVifSchema>;
export type QbgVif = z.output<typeof QbgVifSchema>;
export type QbhVif = z.output<typeof QbhVifSchema>;
export type VifType = Vif['type'];
