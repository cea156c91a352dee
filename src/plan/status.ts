// Builds the status of one binding (model/status.ts), purely from what the
// reconciler learned.
import type { Problem } from '../desired/problem.js';
import type { BindingStatus, ObservedDevice, Phase } from '../model/status.js';
import type { DesiredView } from '../desired/store.js';
import type { LinkSnapshot, ObservedLink } from '../observed/links.js';
import { libvirtInterfaceXml } from './libvirt-xml.js';
import type { AssociationView } from '../model/association.js';
import { attachmentOf } from './attachment.js';

export function observedDevice(link: ObservedLink): ObservedDevice {
  const device: ObservedDevice = { name: link.name, kind: link.kind, ifindex: link.ifindex, mtu: link.mtu, mac: link.mac, up: link.up, master: link.master };
  if (link.kind === 'macvtap') device.chardev = `/dev/tap${link.ifindex}`;
  return device;
}

export interface StatusInput {
  port: string;
  phase: Phase;
  message: string;
  attempts: number;
  now: string;
  previous: BindingStatus | undefined;
  desired: DesiredView;
  links: LinkSnapshot;
  association?: AssociationView | undefined;
  times?: { pluggedAt?: string; readyAt?: string };
}

export function buildStatus(input: StatusInput): BindingStatus {
  const { port, desired, links } = input;
  const binding = desired.bindings.get(port);
  const invalid = binding?.invalid ?? desired.invalidOnly.get(port);
  let phase = input.phase;
  let message = input.message;
  // An invalid edit is reported even while the last valid version stays applied.
  if (invalid && phase !== 'Conflict' && phase !== 'Removing') {
    const applied = binding ? `; the last valid version stays applied (${input.phase}${input.message ? `: ${input.message}` : ''})` : '';
    phase = 'Invalid';
    message = `${invalid.source}: ${invalid.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}${applied}`;
  }
  const names = binding && !binding.conflict ? binding.spec.exclusiveNames : [];
  const devices = names.flatMap((name) => {
    const link = links.links.get(name);
    return link ? [observedDevice(link)] : [];
  });
  const status: BindingStatus = {
    port,
    phase,
    message,
    attempts: input.attempts,
    lastTransitionTime:
      input.previous && input.previous.phase === phase ? input.previous.lastTransitionTime : input.now,
    source: binding?.source ?? invalid?.source,
    type: binding?.spec.binding.vif.type,
    devices,
    libvirt: binding && !binding.conflict ? libvirtInterfaceXml(binding.spec) : undefined,
  };
  if (invalid) status.problems = invalid.problems;
  const generation = binding?.generation ?? desired.invalidOnly.get(port)?.generation;
  if (generation !== undefined) status.observedGeneration = generation;
  if (binding) status.documentKind = binding.documentKind;
  if (binding && !binding.conflict) {
    const attached = attachmentOf(binding.spec, links);
    status.attached = attached;
    const was = input.previous?.attached === true;
    const since = input.previous?.lastAttachedAt;
    // Stable while nothing changes: the time of the last attach, or of the detach.
    const at = attached === true ? (was ? since : input.now) : was ? input.now : since;
    if (at) status.lastAttachedAt = at;
  }
  if (binding && binding.shadowed.length > 0) status.conflicts = binding.shadowed;
  if (input.association) status.association = input.association;
  if (input.times?.pluggedAt) status.pluggedAt = input.times.pluggedAt;
  if (input.times?.readyAt) status.readyAt = input.times.readyAt;
  return status;
}

/** Equal apart from the timestamp: no need to rewrite the file. */
export function sameStatus(a: BindingStatus | undefined, b: BindingStatus): boolean {
  if (!a) return false;
  return JSON.stringify({ ...a, lastTransitionTime: '' }) === JSON.stringify({ ...b, lastTransitionTime: '' });
}
