// The kernel-link half of the planner: desired × observed links × ownership →
// ordered link actions, per work key. Pure. The parts live in links/: the
// round's bookkeeping (round.ts), who owns what (ownership-view.ts), one
// binding (binding.ts, ensure-link.ts, one planner per device kind in
// kinds/), removals (removal.ts), the order of the actions (order.ts).
import { linkNameOfKey, type WorkKey } from '../model/work-key.js';
import { planBinding } from './links/binding.js';
import { orderActions } from './links/order.js';
import { keepOutOfBulkDelete, planOwnedLink, planRemoval } from './links/removal.js';
import { LinkRound } from './links/round.js';
import type { KeyOutcome, LinkPlan, LinkPlanInput } from './links/types.js';

export type { KeyOutcome, KeyState, LinkPlan, LinkPlanInput } from './links/types.js';
export { orderActions } from './links/order.js';

/** Actions for one key; returns its outcome. */
function planKey(r: LinkRound, key: WorkKey): KeyOutcome {
  const linkName = linkNameOfKey(key);
  if (linkName !== undefined) return planOwnedLink(r, key, linkName);
  const desired = r.input.desired.bindings.get(key);
  if (!desired) return planRemoval(r, key);
  if (desired.conflict) return { state: 'conflict', message: desired.conflict };
  return planBinding(r, desired.spec);
}

export function planLinks(input: LinkPlanInput): LinkPlan {
  const r = new LinkRound(input);
  for (const key of input.keys) r.outcomes.set(key, planKey(r, key));
  // A bridge freed by this round's removals goes in the same batch (one bulk
  // delete instead of a second round).
  for (const key of [...r.followUps]) {
    if (!r.outcomes.has(key)) r.outcomes.set(key, planKey(r, key));
  }
  keepOutOfBulkDelete(r);
  return { actions: orderActions(r.actions), outcomes: r.outcomes, followUps: r.followUps };
}
