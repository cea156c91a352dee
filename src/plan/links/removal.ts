// Removing what is no longer desired: the links of a port that is gone, the
// links a binding no longer needs, a link vifd owns that no port uses, and
// keeping the bulk delete to the devices this round deletes.
import { ensureSharedBridge } from './shared-bridge.js';
import type { BindingSpec } from '../../desired/spec.js';
import { linkKey, type WorkKey } from '../../model/work-key.js';
import { linksInGroup } from '../../observed/links.js';
import { kindLabel } from '../../model/association.js';
import type { LinkRound } from './round.js';
import type { KeyOutcome } from './types.js';

/** A port no longer desired: its links go (a bridge holding an operator's device stays). */
export function planRemoval(r: LinkRound, port: string): KeyOutcome {
  let changed = false;
  const kept: string[] = [];
  for (const link of r.own.ownedBy(port)) {
    if (r.own.claimedByOther(link, port)) continue; // the claimant takes it over this round
    const keptWhy = r.deleteOnce(port, link, `port ${port} is no longer desired`);
    if (keptWhy) {
      kept.push(keptWhy);
      continue;
    }
    if (link.master) r.followUps.add(linkKey(link.master));
    changed = true;
  }
  if (changed) return { state: 'changing' };
  if (kept.length > 0) return { state: 'blocked', message: kept.join('; ') };
  const association = r.input.associations?.get(port);
  if (association) return { state: 'waiting', message: `disassociating ${kindLabel(association.kind)} port profile (${association.message})` };
  return { state: 'converged' };
}

/** Owned links of a desired port that it no longer needs (renamed, type
 * changed). Returns the reports of bridges kept for an operator's device. */
export function removeUnneeded(r: LinkRound, spec: BindingSpec): string[] {
  const port = spec.port;
  const wanted = new Set(spec.exclusiveNames);
  const kept: string[] = [];
  for (const link of r.own.ownedBy(port)) {
    if (wanted.has(link.name) || r.own.claimedByOther(link, port)) continue;
    const keptWhy = r.deleteOnce(port, link, 'no longer part of the binding');
    if (keptWhy) kept.push(keptWhy);
    else if (link.master) r.followUps.add(linkKey(link.master));
  }
  return kept;
}

/** A link vifd owns that belongs to no port: keep it while a binding needs it. */
export function planOwnedLink(r: LinkRound, key: WorkKey, name: string): KeyOutcome {
  const link = r.links.get(name);
  if (!link) return { state: 'converged' };
  const owner = r.own.owner(link);
  if (!owner.owned || owner.port !== undefined) return { state: 'converged' };
  const { bridgeUsers, claimedNames } = r.input.desired;
  if (bridgeUsers.has(name) && link.kind === 'bridge') {
    // A shared bridge in use: set up and marked as its users would set it
    // (an event on the bridge itself wakes this key, not every user).
    const planned = r.actions.length;
    const outcome = ensureSharedBridge(r, key, name);
    return outcome ?? { state: r.actions.length > planned ? 'changing' : 'converged' };
  }
  if (bridgeUsers.has(name) || claimedNames.has(name)) return { state: 'converged' };
  const kept = r.deleteOnce(key, link, 'no binding uses it');
  if (kept) return { state: 'blocked', message: kept };
  return { state: 'changing' };
}

/** The bulk delete (`ip link del group <doomed>`) takes every device in
 * the doomed group: it must take only those this round deletes. A device a
 * killed run left there is moved back out first, whether or not its key is
 * in this round. */
export function keepOutOfBulkDelete(r: LinkRound): void {
  if (!r.actions.some((a) => a.op === 'delete-link')) return;
  const { doomedGroup, group } = r.input.ownership;
  for (const link of linksInGroup(r.input.links, doomedGroup)) {
    if (r.planned.del.has(link.name)) continue;
    const owner = r.own.owner(link);
    r.push({ op: 'undoom-link', key: (owner.owned ? owner.port : undefined) ?? linkKey(link.name), name: link.name, group });
  }
}
