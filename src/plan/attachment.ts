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

/** The ports whose hypervisor lost its device (vifd had to recreate it). */
export class DetachedPorts {
  private readonly lastAttached = new Map<string, boolean>();
  private readonly detached = new Map<string, string>();

  /** What the latest status saw; an attach ends the Detached state. */
  observed(port: string, attached: boolean | null): void {
    if (attached === null) this.lastAttached.delete(port);
    else this.lastAttached.set(port, attached);
    if (attached === true) this.detached.delete(port);
  }

  /** vifd is about to recreate the port's tap: detached if a hypervisor held the old one. */
  recreating(port: string, tap: string, why: string): boolean {
    if (this.lastAttached.get(port) !== true) return false;
    this.detached.set(port, DETACHED_MESSAGE(tap, why));
    this.lastAttached.set(port, false);
    return true;
  }

  /** What the previous run recorded: a Detached VM is still detached after a restart. */
  restore(port: string, attached: boolean | null | undefined, detachedMessage: string | undefined): void {
    if (attached === true || attached === false) this.lastAttached.set(port, attached);
    if (detachedMessage) this.detached.set(port, detachedMessage);
  }

  message(port: string): string | undefined {
    return this.detached.get(port);
  }

  forget(port: string): void {
    this.lastAttached.delete(port);
    this.detached.delete(port);
  }

  get size(): number {
    return this.lastAttached.size + this.detached.size;
  }
}
