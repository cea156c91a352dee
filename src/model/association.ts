// What the planner and the status need to know about a port's port-profile
// association (802.1Qbg VDP / 802.1Qbh). The associations themselves run in
// src/actuators/associator.ts, outside the batched rounds. Pure.
import type { DesiredAssociation } from '../desired/spec.js';
import type { DesiredView } from '../desired/store.js';
import type { LinkSnapshot } from '../observed/links.js';

export type AssociationState =
  /** Desired, not started yet (e.g. the first round of a new binding). */
  | 'pending'
  | 'associating'
  | 'associated'
  | 'failed'
  /** Unplugged (or no longer a port-profile binding): being disassociated. */
  | 'disassociating';

export interface AssociationView {
  kind: DesiredAssociation['kind'];
  state: AssociationState;
  message: string;
  /** Failed attempts since the last success. */
  attempts: number;
  /** Stable error code of the last failure (e.g. VDP_TIMEOUT). */
  code?: string;
}

/** The request an association is made with: the binding's association plus
 * the instance UUID (802.1Qbh: binding.instance, else the port). */
export interface AssociationRequest {
  kind: DesiredAssociation['kind'];
  uplink: string;
  mac: string;
  instance: string;
  profile: DesiredAssociation['profile'];
}

export function associationRequest(port: string, a: DesiredAssociation): AssociationRequest {
  const instance = a.kind === '802.1qbh' ? (a.instance ?? port) : a.profile.instanceId;
  return { kind: a.kind, uplink: a.uplink, mac: a.mac.toLowerCase(), instance: instance.toLowerCase(), profile: a.profile };
}

/** Equal signatures: the association made for one is valid for the other. */
export function associationSignature(r: AssociationRequest): string {
  const profile = Object.fromEntries(Object.entries(r.profile).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify([r.kind, r.uplink, r.mac, profile, r.instance]);
}

export function kindLabel(kind: DesiredAssociation['kind']): string {
  return kind === '802.1qbg' ? '802.1Qbg' : '802.1Qbh';
}

/** The message while an association is under way. */
export function associatingMessage(kind: DesiredAssociation['kind'], uplink: string): string {
  return kind === '802.1qbg'
    ? `associating 802.1Qbg VSI with the switch via lldpad on ${uplink}`
    : `associating 802.1Qbh port profile through the driver of ${uplink}`;
}

/** What the reconciler asks of the associator (src/actuators/associator.ts). */
export interface AssociationControl {
  /** Starts or releases the associations of this round's keys, per the
   * desired state and the snapshot; never waits for them. */
  sync(keys: readonly string[], desired: DesiredView, links: LinkSnapshot): void;
  /** The association of `port` as the planner and the status see it. */
  view(port: string, desired: DesiredView): AssociationView | undefined;
  /** Ports with an association vifd made or is making (desired or not). */
  ports(): string[];
  /** Queries every held association; lost ones are redone. */
  recheck(): Promise<void>;
  /** Called with ports whose association changed (to be reconciled again). */
  onSettled(listener: (ports: string[]) => void): void;
  stop(): Promise<void>;
}
