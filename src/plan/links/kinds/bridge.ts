// A per-port Linux bridge (the hybrid plug's qbr): STP off, no ageing.
import type { DesiredPortLink } from '../../../desired/spec.js';
import type { LinkKindPlanner } from './kind.js';

type Bridge = Extract<DesiredPortLink, { kind: 'bridge' }>;

export const bridgePlanner: LinkKindPlanner<Bridge> = {
  create: (port, desired, { group, alias }) => ({ op: 'create-bridge', key: port, name: desired.name, group, alias, perPort: true }),
  // Its MTU follows its ports.
  settings: () => ({}),
};
