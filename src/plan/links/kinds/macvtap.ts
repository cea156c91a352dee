// A macvtap on an uplink (direct plugs, port profiles): the uplink must
// exist and have room (passthrough takes it alone); it goes up only once
// its port-profile association holds.
import { ipMacvtapMode, type DesiredPortLink } from '../../../desired/spec.js';
import { linksOn, type ObservedLink } from '../../../observed/links.js';
import type { LinkSettings } from '../../../model/actions.js';
import type { LinkRound } from '../round.js';
import { sameKind } from '../same-kind.js';
import { mtuSetting, type LinkKindPlanner } from './kind.js';

type Macvtap = Extract<DesiredPortLink, { kind: 'macvtap' }>;

export const macvtapPlanner: LinkKindPlanner<Macvtap> = {
  prerequisites: (r, port, desired) => {
    const links = r.links;
    if (!links.has(desired.lower)) return { state: 'blocked', message: `uplink device ${desired.lower} does not exist` };
    // Passthrough takes the uplink alone: another agent's macvtap on it (or
    // its passthrough one) leaves no room.
    const passthru = ipMacvtapMode(desired.mode) === 'passthru';
    const others = linksOn(r.input.links, desired.lower).filter((l) => l.kind === 'macvtap' && l.name !== desired.name && (passthru || l.macvtapMode === 'passthru'));
    const blocking: ObservedLink[] = [];
    for (const other of others) {
      // vifd's own that no desired binding keeps as it is goes now (its own
      // key's round would delete or replace it anyway).
      if (r.own.owner(other).owned && !survives(r, other)) r.deleteOnce(port, other, `uplink ${desired.lower} needed by port ${port}`);
      else blocking.push(other);
    }
    if (blocking.length > 0) return { state: 'conflict', message: `uplink ${desired.lower} is taken by macvtap ${blocking.map((l) => l.name).join(', ')}${passthru ? '; passthrough needs it alone' : ' in passthrough mode'}` };
    return undefined;
  },
  create: (port, desired, { group, alias }) => ({ op: 'create-macvtap', key: port, name: desired.name, lower: desired.lower, mode: ipMacvtapMode(desired.mode), mac: desired.mac, group, alias, ...(desired.mtu !== undefined ? { mtu: desired.mtu } : {}) }),
  settings: (desired, current) => {
    // A new macvtap gets its MAC and MTU at creation, except the MAC in
    // passthru mode, where the kernel gives it the uplink's; set then, it
    // becomes the uplink's MAC too (as libvirt does for passthrough: the VM
    // owns the device).
    const settings: LinkSettings = {};
    const macAtCreation = !current && desired.mode !== 'passthrough';
    if (desired.mac && current?.mac !== desired.mac && !macAtCreation) settings.mac = desired.mac;
    if (current) Object.assign(settings, mtuSetting(desired.mtu, current));
    if (current && current.macvtapMode !== ipMacvtapMode(desired.mode)) settings.macvtapMode = ipMacvtapMode(desired.mode);
    return settings;
  },
  up: (r, port) => r.input.associated?.has(port) ?? false,
};

/** A desired binding (not in conflict) keeps this device as it is. */
function survives(r: LinkRound, link: ObservedLink): boolean {
  const claimant = r.input.desired.claimedNames.get(link.name);
  const wanted = claimant === undefined ? undefined : r.input.desired.bindings.get(claimant)?.spec.links.find((l) => l.name === link.name);
  return wanted !== undefined && sameKind(wanted, link);
}
