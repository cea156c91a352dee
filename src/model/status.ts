// Status of one binding (docs/design.md §5): the plain data the planner
// builds (plan/status.ts), the state directory stores and the API serves.
import type { Problem } from '../desired/problem.js';
import type { AssociationView } from './association.js';

/** `Detached`: plugged, but vifd had to recreate a device a hypervisor held,
 * so the VM's NIC is cut off until it is re-plugged (see attachment.ts). */
export type Phase = 'Pending' | 'Ready' | 'Detached' | 'Failed' | 'Invalid' | 'Conflict' | 'Removing';

export interface ObservedDevice {
  name: string;
  kind: string;
  ifindex: number;
  mtu: number;
  mac: string | undefined;
  up: boolean;
  master: string | undefined;
  /** A macvtap's character device, which QEMU opens (/dev/tap<ifindex>). */
  chardev?: string;
}

export interface BindingStatus {
  port: string;
  phase: Phase;
  message: string;
  attempts: number;
  lastTransitionTime: string;
  /** Where the binding came from: `file:<path>`, `api`, `etcd:<key>`. */
  source: string | undefined;
  type: string | undefined;
  devices: ObservedDevice[];
  libvirt: string | undefined;
  problems?: Problem[];
  /** Other sources that name the same port (they lost: first accepted wins). */
  conflicts?: string[];
  /** Port-profile bindings: the association with the switch. */
  association?: AssociationView;
  /** The desired generation this status describes (see DesiredBinding.generation). */
  observedGeneration?: number;
  /** The kind of document the binding came from (PortBinding, PortBindingList, NeutronPort). */
  documentKind?: string;
  /** A hypervisor holds the device: true, false, or null where vifd cannot tell (a macvtap). */
  attached?: boolean | null;
  /** When it was last seen attached (while attached: since when). */
  lastAttachedAt?: string;
  /** Since when vifd's part is done for this generation (devices, OVS port). */
  pluggedAt?: string;
  /** Since when it is Ready: plugged and its readiness gate holds. */
  readyAt?: string;
}
