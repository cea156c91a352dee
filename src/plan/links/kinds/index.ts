// The planner for each kind of device a binding owns.
import type { DesiredPortLink } from '../../../desired/spec.js';
import { bridgePlanner } from './bridge.js';
import type { LinkKindPlanner } from './kind.js';
import { macvtapPlanner } from './macvtap.js';
import { tapPlanner } from './tap.js';
import { vethPlanner } from './veth.js';

const PLANNERS: { [K in DesiredPortLink['kind']]: LinkKindPlanner<Extract<DesiredPortLink, { kind: K }>> } = {
  bridge: bridgePlanner,
  tap: tapPlanner,
  veth: vethPlanner,
  macvtap: macvtapPlanner,
};

export function plannerFor<L extends DesiredPortLink>(desired: L): LinkKindPlanner<L> {
  return PLANNERS[desired.kind] as unknown as LinkKindPlanner<L>;
}
