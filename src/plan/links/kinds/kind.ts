// The common shape of the planner for one kind of device a binding owns
// (bridge, tap, veth pair, macvtap): ensure-link.ts runs the steps every kind
// shares (ownership, recreate, marks, master, up) and asks the kind for the rest.
import type { DesiredPortLink } from '../../../desired/spec.js';
import type { ObservedLink } from '../../../observed/links.js';
import type { LinkAction, LinkSettings } from '../../../model/actions.js';
import type { LinkRound } from '../round.js';
import type { KeyOutcome } from '../types.js';

/** vifd's marks on a device it makes for a port. */
export interface PortMarks {
  group: number;
  alias: string;
}

export interface LinkKindPlanner<L extends DesiredPortLink> {
  /** What must hold on the host before the device can be made or fixed
   * (an uplink that exists and has room). */
  prerequisites?(r: LinkRound, port: string, desired: L): KeyOutcome | undefined;
  /** Before the device is made (or made anew): other names it needs free
   * (a veth's peer). `link`: the device by its name, if any. */
  freeNames?(r: LinkRound, port: string, desired: L, link: ObservedLink | undefined): KeyOutcome | undefined;
  create(port: string, desired: L, marks: PortMarks): LinkAction;
  /** The kind's own settings (MAC, MTU, mode) for the device as it is
   * (`current`), or as just created (undefined). */
  settings(desired: L, current: ObservedLink | undefined): LinkSettings;
  /** The Linux bridge it is enslaved to (none: released from any). */
  master?(desired: L): string | undefined;
  /** Whether it should be up (default: yes). */
  up?(r: LinkRound, port: string): boolean;
  /** After its own settings: the devices that come with it (a veth's other end). */
  companions?(r: LinkRound, port: string, desired: L, current: ObservedLink | undefined, marks: PortMarks): void;
}

/** MTU, when desired and not what the device has. */
export function mtuSetting(mtu: number | undefined, current: ObservedLink | undefined): LinkSettings {
  return mtu !== undefined && current?.mtu !== mtu ? { mtu } : {};
}
