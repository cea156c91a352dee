// The shared Linux bridge a binding plugs into (vif.bridge): made by vifd
// when missing, used as it is when an operator's, never taken from another port.
import type { LinkSettings } from '../../model/actions.js';
import { SHARED_BRIDGE_ALIAS } from '../../model/ownership.js';
import type { LinkRound } from './round.js';
import type { KeyOutcome } from './types.js';

export function ensureSharedBridge(r: LinkRound, port: string, name: string): KeyOutcome | undefined {
  const link = r.links.get(name);
  const { group } = r.input.ownership;
  const create = () => r.createOnce({ op: 'create-bridge', key: port, name, group, alias: SHARED_BRIDGE_ALIAS, perPort: false });
  if (!link) {
    create();
    return undefined;
  }
  const owner = r.own.owner(link);
  // vifd's own device under that name that no desired binding holds (a
  // removed port's qbr or tap, a half-made device of another kind): freed
  // in this round and the shared bridge made in its place.
  const reusable = owner.owned && (owner.port === undefined
    ? !owner.shared && link.kind !== 'bridge'
    : !r.input.desired.bindings.has(owner.port) || r.input.desired.claimedNames.get(name) !== owner.port);
  if (reusable) {
    const kept = r.deleteOnce(port, link, `name needed for shared bridge ${name}`);
    if (kept) return { state: 'blocked', message: kept };
    create();
    return undefined;
  }
  if (link.kind !== 'bridge') {
    return { state: 'conflict', message: `bridge ${name} is taken on the host by a ${link.rawKind ?? link.kind} device` };
  }
  if (!owner.owned) return undefined; // an operator's bridge: used as it is, never changed
  if (owner.port !== undefined) return { state: 'conflict', message: `bridge ${name} belongs to vifd port ${owner.port} (a per-port bridge)` };
  const settings: LinkSettings = {};
  if (link.alias !== SHARED_BRIDGE_ALIAS || link.group !== group) Object.assign(settings, { group, alias: SHARED_BRIDGE_ALIAS });
  if (!link.up) settings.up = true;
  r.setOnce(port, name, settings, 'shared bridge');
  return undefined;
}
