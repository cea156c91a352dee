// The order link actions run in within one `ip -batch`.
import type { LinkAction } from '../../model/actions.js';

const PHASE: Record<LinkAction['op'], number> = {
  'undoom-link': -1,
  'delete-link': 0,
  'create-bridge': 1,
  'create-tap': 2,
  'create-veth': 2,
  'create-macvtap': 2,
  'set-link': 3,
};

/** Deletes first (frees names), then bridges, then their ports, then settings
 * (which enslave to the bridges just made). Stable within a phase. */
export function orderActions(actions: LinkAction[]): LinkAction[] {
  return actions
    .map((action, index) => ({ action, index }))
    .sort((a, b) => PHASE[a.action.op] - PHASE[b.action.op] || a.index - b.index)
    .map(({ action }) => action);
}
