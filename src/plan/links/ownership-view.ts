// Who holds each observed link, as the link planner sees it: vifd's marks
// (model/ownership.ts) plus the desired state's claims on names. Reads only;
// one index of vifd's links per port, built once per plan.
import { slavesOf, type ObservedLink } from '../../observed/links.js';
import { ownerOf, type LinkOwner } from '../../model/ownership.js';
import type { KeyOutcome, LinkPlanInput } from './types.js';

export class LinkOwnership {
  private readonly adoptable: ReadonlySet<string>;
  private ownedIndex: Map<string, ObservedLink[]> | undefined;

  constructor(private readonly input: LinkPlanInput) {
    this.adoptable = input.adoptable ?? new Set();
  }

  owner(link: ObservedLink): LinkOwner {
    return ownerOf(link, this.input.ownership, this.adoptable);
  }

  /** Links vifd owns for `port`. */
  ownedBy(port: string): ObservedLink[] {
    if (!this.ownedIndex) {
      this.ownedIndex = new Map();
      for (const link of this.input.links.links.values()) {
        const owner = this.owner(link);
        if (!owner.owned || owner.port === undefined) continue;
        const list = this.ownedIndex.get(owner.port) ?? [];
        list.push(link);
        this.ownedIndex.set(owner.port, list);
      }
    }
    return this.ownedIndex.get(port) ?? [];
  }

  /** Ours to use for `port`: marked for it, half-made, or left by a port no longer desired. */
  isOurs(link: ObservedLink, port: string): boolean {
    const owner = this.owner(link);
    // A name this port won in the desired state is its to take even from
    // another binding of vifd's that still exists but no longer claims it.
    return owner.owned && (owner.port === port || owner.port === undefined || !this.input.desired.bindings.has(owner.port) || this.input.desired.claimedNames.get(link.name) === port);
  }

  /** Another desired binding claims this device (or, for a veth, its other
   * end, which goes with it): that binding re-marks or replaces it. */
  claimedByOther(link: ObservedLink, port: string): boolean {
    const { claimedNames } = this.input.desired;
    const names = link.kind === 'veth' && link.link ? [link.name, link.link] : [link.name];
    return names.some((n) => {
      const claimant = claimedNames.get(n);
      return claimant !== undefined && claimant !== port;
    });
  }

  /** Devices enslaved to `link` (a bridge) that vifd does not own. */
  foreignPorts(link: ObservedLink): ObservedLink[] {
    if (link.kind !== 'bridge') return [];
    return slavesOf(this.input.links, link.name).filter((s) => !this.owner(s).owned);
  }

  /** The Conflict of a binding that needs a name `link` holds. */
  foreignConflict(link: ObservedLink): KeyOutcome {
    const holder = this.owner(link);
    const by = holder.owned && holder.port ? `vifd port ${holder.port}` : 'something vifd does not own';
    return { state: 'conflict', message: `device ${link.name} (${link.rawKind ?? link.kind}) already exists on the host, held by ${by}; vifd leaves it alone` };
  }
}
