// Whether a hypervisor holds a binding's device, and the "recreated under a
// VM" state.
//
// A tap says how many file descriptors are attached to it (numqueues in the
// kernel's tun info): more than zero means a hypervisor has it open. A
// macvtap's character device gives no such count, so vifd cannot tell (null).
//
// When vifd has to recreate a tap that a hypervisor held (someone deleted it
// behind vifd's back, or a change of `queues` needs a new one), the VM's NIC
// is left attached to a device that no longer exists: it is cut off until
// the NIC is unplugged and plugged again (or the VM restarted). Such a
// binding is never reported as a plain Ready: it is `Detached`, with a
// message saying so, until a hypervisor attaches to the new device.
import type { BindingSpec } from '../desired/spec.js';
import type { LinkSnapshot } from '../observed/links.js';

/** true: a hypervisor holds the device; false: nobody does; null: vifd cannot tell. */
export function attachmentOf(spec: BindingSpec | undefined, links: LinkSnapshot): boolean | null {
  if (!spec) return null;
  const dev = links.links.get(spec.targetDev);
  // The hypervisor's own tap exists only while it holds it (libvirt's taps are not persistent).
  if (spec.hypervisorTap !== undefined) return dev !== undefined && (dev.tunQueues === undefined ? dev.carrier !== false : dev.tunQueues > 0);
  const isTap = spec.links.some((l) => l.name === spec.targetDev && l.kind === 'tap');
  if (!isTap) return null;
  if (!dev) return false;
  if (dev.tunQueues !== undefined) return dev.tunQueues > 0;
  return dev.up && dev.carrier !== undefined ? dev.carrier : null;
}

export const DETACHED_MESSAGE = (tap: string, why: string) =>
  `${why}: the tap ${tap} was recreated, so the VM's NIC is detached from the network. ` +
  'Hot-unplug and plug the NIC again (or restart the VM); the binding turns Ready once a hypervisor attaches to the new tap.';

export const TAP_DELETED = `the tap a hypervisor held was deleted behind vifd's back`;

/** The device of a binding that vifd creates and a hypervisor opens: its vifd-made tap. */
export function heldTapOf(spec: BindingSpec | undefined, links: LinkSnapshot): { name: string; ifindex: number | undefined } | undefined {
  if (!spec || spec.hypervisorTap !== undefined) return undefined;
  if (!spec.links.some((l) => l.name === spec.targetDev && l.kind === 'tap')) return undefined;
  return { name: spec.targetDev, ifindex: links.links.get(spec.targetDev)?.ifindex };
}

/**
 * The ports whose hypervisor lost its device. Level-based: a port remembers
 * which tap (by ifindex) a hypervisor was last seen holding; once that tap is
 * gone or another one has its name, and nobody holds the new one, the VM is
 * cut off. A delete reaches vifd as a "down" (a single-queue tap then shows
 * no carrier, so whether it is held cannot be told) and a "gone" a moment
 * apart; a round woken by the first may observe either, and neither makes
 * it forget that a VM held the device.
 */
export class DetachedPorts {
  /** The ifindex of the tap a hypervisor holds (`unknown`: restored from a status, before any observation). */
  private readonly held = new Map<string, number | 'unknown'>();
  private readonly detached = new Map<string, string>();

  /** What a round saw of the port: whether a hypervisor holds it, and which tap is there now.
   * true: this observation is the one that found the held tap gone. */
  observed(port: string, attached: boolean | null, tap: { name: string; ifindex: number | undefined } | undefined): boolean {
    if (attached === true) {
      this.detached.delete(port);
      if (tap?.ifindex === undefined) this.held.delete(port);
      else this.held.set(port, tap.ifindex);
      return false;
    }
    const held = this.held.get(port);
    if (held === undefined) return false;
    if (!tap) {
      this.held.delete(port);
      return false;
    }
    const gone = tap.ifindex === undefined || (held !== 'unknown' && tap.ifindex !== held);
    if (!gone) {
      // The same tap. Released (false): the VM stopped or unplugged its NIC,
      // which is no detachment. Cannot tell (null: a single-queue tap that is
      // down shows no carrier, as a tap being deleted does on its way out): still held.
      if (attached === false) this.held.delete(port);
      return false;
    }
    this.held.delete(port);
    if (this.detached.has(port)) return false;
    this.detached.set(port, DETACHED_MESSAGE(tap.name, TAP_DELETED));
    return true;
  }

  /** vifd is about to recreate the port's tap: detached if a hypervisor held the old one. */
  recreating(port: string, tap: string, why: string): boolean {
    if (!this.held.has(port)) return false;
    this.detached.set(port, DETACHED_MESSAGE(tap, why));
    this.held.delete(port);
    return true;
  }

  /** What the previous run recorded: a Detached VM is still detached after a restart. */
  restore(port: string, attached: boolean | null | undefined, detachedMessage: string | undefined): void {
    if (attached === true) this.held.set(port, 'unknown');
    if (detachedMessage) this.detached.set(port, detachedMessage);
  }

  message(port: string): string | undefined {
    return this.detached.get(port);
  }

  forget(port: string): void {
    this.held.delete(port);
    this.detached.delete(port);
  }

  get size(): number {
    return this.held.size + this.detached.size;
  }
}
