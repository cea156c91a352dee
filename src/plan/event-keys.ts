// Host events name devices; the work queue wants keys. Which bindings (or
// owned devices) does a changed name concern? Pure.
import type { DesiredView } from '../desired/store.js';
import type { OvsSnapshot } from '../host/ovsdb/index.js';
import type { LinkSnapshot, ObservedLink } from '../observed/links.js';
import { linkKey, type WorkKey } from '../model/work-key.js';
import { ownerOf, type OwnershipConfig } from '../model/ownership.js';
import { ovsBridgeKey } from '../model/work-key.js';
import { OVS_PORT_KEY } from '../model/ownership.js';

/** Keys that want a name: the port claiming it, the users of a bridge by
 * that name (`withUsers` false: the bridge only changed, it did not come or
 * go; with hundreds of ports on one bridge, waking them all would make
 * every enslaving a round over all of them). */
function desiredKeys(name: string, view: DesiredView, out: Set<WorkKey>, withUsers = true): void {
  const claimant = view.claimedNames.get(name);
  if (claimant) out.add(claimant);
  if (withUsers) for (const user of view.bridgeUsers.get(name) ?? []) out.add(user);
}

/** What a link is now, when the host can tell at once (the event-fed link
 * model): `undefined` it does not exist; `null` the host cannot tell. */
export type LinkNow = (name: string) => ObservedLink | undefined | null;

/** A bridge's users need a look when it appeared, vanished or was recreated:
 * its slaves' own events cover everything else (a deleted bridge releases
 * every slave, and each release is an event of that slave). */
function cameOrWent(name: string, lastSeen: LinkSnapshot | undefined, now: LinkNow | undefined): boolean {
  const is = now?.(name);
  // Gone now: its users need a look, whatever the last snapshot says (it
  // may have been taken after the deletion, before its event came here).
  if (is === null || is === undefined) return true;
  const was = lastSeen?.links.get(name);
  return was?.ifindex !== is.ifindex;
}

/** vifd's shared bridge, not as its users set it up (up, marked). */
function needsRepair(link: ObservedLink, ownership: OwnershipConfig): boolean {
  if (link.kind !== 'bridge') return false;
  const owner = ownerOf(link, ownership);
  return owner.owned && owner.port === undefined && (!link.up || !owner.shared);
}

/** Kernel link events: the name's claimant, its bridge's users (when it came
 * or went), and its
 * owner as last seen (a deleted device is no longer in a new snapshot). */
export function keysForLinkNames(
  names: Iterable<string>,
  view: DesiredView,
  lastSeen: LinkSnapshot | undefined,
  ownership: OwnershipConfig,
  adoptable: ReadonlySet<string>,
  now?: LinkNow,
): Set<WorkKey> {
  const keys = new Set<WorkKey>();
  for (const name of names) {
    desiredKeys(name, view, keys, cameOrWent(name, lastSeen, now));
    const sharedNow = now?.(name);
    // vifd's shared bridge went down or lost its marks: its own key sets it right.
    if (sharedNow && needsRepair(sharedNow, ownership)) keys.add(linkKey(name));
    const link = lastSeen?.links.get(name);
    if (!link) continue;
    const owner = ownerOf(link, ownership, adoptable);
    if (owner.owned) keys.add(owner.port ?? linkKey(name));
    // A device (vifd's or not) leaving or joining one of vifd's bridges: the
    // bridge's key, since a bridge kept for a foreign port goes once it is empty.
    const master = link.master === undefined ? undefined : lastSeen?.links.get(link.master);
    const masterOwner = master ? ownerOf(master, ownership, adoptable) : undefined;
    if (master && masterOwner?.owned) keys.add(masterOwner.port ?? linkKey(master.name));
  }
  return keys;
}

/** OVSDB monitor changes: bridges, ports or interfaces by name. */
export function keysForOvsNames(names: Iterable<string>, view: DesiredView, lastSeen: OvsSnapshot | undefined): Set<WorkKey> {
  const keys = new Set<WorkKey>();
  for (const name of names) {
    desiredKeys(name, view, keys);
    const owner = lastSeen?.interfaces.get(name)?.externalIds[OVS_PORT_KEY] ?? lastSeen?.ports.get(name)?.externalIds[OVS_PORT_KEY];
    if (owner) keys.add(owner);
    if (lastSeen?.bridges.has(name)) keys.add(ovsBridgeKey(name));
  }
  return keys;
}
