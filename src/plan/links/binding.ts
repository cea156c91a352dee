// One desired binding: its names free, its shared bridge, each of its own
// links, what it no longer needs, and whether its port profile holds.
import type { BindingSpec } from '../../desired/spec.js';
import { associatingMessage } from '../../model/association.js';
import { ensureLink } from './ensure-link.js';
import { removeUnneeded } from './removal.js';
import type { LinkRound } from './round.js';
import { ensureSharedBridge } from './shared-bridge.js';
import type { KeyOutcome } from './types.js';

export function planBinding(r: LinkRound, spec: BindingSpec): KeyOutcome {
  const port = spec.port;
  // A name held by something else: the binding is not plugged at all (no
  // half-built set of devices, no bridge made for it).
  const held = heldByOthers(r, spec);
  if (held) return held;
  const before = r.actions.length;
  const problems: KeyOutcome[] = [];
  if (spec.sharedBridge) {
    const problem = ensureSharedBridge(r, port, spec.sharedBridge);
    if (problem) return problem;
  }
  for (const desired of spec.links) {
    const problem = ensureLink(r, spec, desired);
    if (problem) problems.push(problem);
  }
  const kept = removeUnneeded(r, spec);
  const conflict = problems.find((p) => p.state === 'conflict');
  if (conflict) return conflict;
  const blocked = problems.find((p) => p.state === 'blocked');
  if (blocked) return blocked;
  if (r.actions.length > before) return { state: 'changing' };
  const outcome = associationOutcome(r, spec);
  // An old bridge of the binding kept for an operator's device: the binding
  // itself is plugged; the status says what is left behind and why.
  return kept.length > 0 && outcome.state === 'converged' ? { state: 'converged', message: kept.join('; ') } : outcome;
}

/** The first of the binding's own device names taken by a link that is not its. */
function heldByOthers(r: LinkRound, spec: BindingSpec): KeyOutcome | undefined {
  for (const desired of spec.links) {
    for (const name of desired.kind === 'veth' ? [desired.name, desired.peer] : [desired.name]) {
      const link = r.links.get(name);
      if (link && !r.own.isOurs(link, spec.port)) return r.own.foreignConflict(link);
    }
  }
  return undefined;
}

/** A port-profile binding is converged only once its association holds. */
function associationOutcome(r: LinkRound, spec: BindingSpec): KeyOutcome {
  const a = spec.association;
  if (!a || r.input.associated?.has(spec.port)) return { state: 'converged' };
  const view = r.input.associations?.get(spec.port);
  // Failed, or retrying after a failure: Failed until an attempt succeeds.
  if (view?.state === 'failed' || (view?.state === 'associating' && view.attempts > 0)) return { state: 'waiting', failed: true, message: view.message };
  return { state: 'waiting', message: view && view.state !== 'pending' && view.state !== 'associated' ? view.message : associatingMessage(a.kind, a.uplink) };
}
