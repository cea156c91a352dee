// A veth pair (the hybrid plug's qvb <-> qvo): the Linux-bridge end is the
// binding's link; the OVS-side end comes with it.
import type { DesiredPortLink } from '../../../desired/spec.js';
import type { LinkSettings } from '../../../model/actions.js';
import { mtuSetting, type LinkKindPlanner } from './kind.js';

type Veth = Extract<DesiredPortLink, { kind: 'veth' }>;

export const vethPlanner: LinkKindPlanner<Veth> = {
  // A new pair needs its peer's name free too: a device of the binding's
  // own by that name (say a plain-OVS tap named like the hybrid qvo) goes.
  freeNames: (r, port, desired, link) => {
    const peer = r.links.get(desired.peer);
    if (!peer || (peer.kind === 'veth' && peer.link === desired.name && link !== undefined)) return undefined;
    if (!r.own.isOurs(peer, port)) return r.own.foreignConflict(peer);
    const kept = r.deleteOnce(port, peer, `name needed for veth ${desired.name} <-> ${desired.peer}`);
    return kept ? { state: 'blocked', message: `device ${desired.peer} cannot be made: ${kept}` } : undefined;
  },
  create: (port, desired, { group, alias }) => ({ op: 'create-veth', key: port, name: desired.name, peer: desired.peer, group, alias, ...(desired.mtu !== undefined ? { mtu: desired.mtu } : {}) }),
  settings: (desired, current) => mtuSetting(desired.mtu, current),
  master: (desired) => desired.master,
  // The OVS-side end: owned, same MTU, up, enslaved to no Linux bridge.
  companions: (r, port, desired, current, { group, alias }) => {
    const peer = current ? r.links.get(desired.peer) : undefined;
    const settings: LinkSettings = {};
    if (!peer || peer.group !== group || peer.alias !== alias) Object.assign(settings, { group, alias });
    if (desired.mtu !== undefined && peer?.mtu !== desired.mtu) settings.mtu = desired.mtu;
    if (peer?.master && r.links.get(peer.master)?.kind === 'bridge') settings.master = null;
    if (!peer?.up) settings.up = true;
    r.setOnce(port, desired.peer, settings, peer ? 'repair' : 'new');
  },
};
