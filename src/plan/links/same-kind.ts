// Whether an observed device can be the desired one as it is, or must be
// made anew (the kernel cannot change what it is).
import { ipMacvtapMode, type DesiredPortLink } from '../../desired/spec.js';
import type { ObservedLink } from '../../observed/links.js';

export function sameKind(desired: DesiredPortLink, link: ObservedLink): boolean {
  if (desired.kind === 'veth') return link.kind === 'veth' && link.link === desired.peer;
  // The kernel cannot change a macvtap into or out of passthru mode (EBUSY): that is a new device.
  if (desired.kind === 'macvtap') return link.kind === 'macvtap' && link.link === desired.lower && (link.macvtapMode === 'passthru') === (ipMacvtapMode(desired.mode) === 'passthru');
  // A tap cannot become multi-queue (or stop being one) while it lives: a new one is made.
  if (desired.kind === 'tap' && link.kind === 'tap' && link.multiQueue !== undefined) return link.multiQueue === (desired.queues !== undefined);
  return link.kind === desired.kind;
}
