// Who holds each observed link, as the link planner sees it: vifd's marks
// (model/ownership.ts) plus the desired state's claims on names. Reads only;
// lookups go through the snapshot's index (observed/links.ts).
import { linksWithAlias, slavesOf, type ObservedLink } from '../../observed/links.js';
import { ownerOf, portAlias, type LinkOwner } from '../../model/ownership.js';
import type { KeyOutcome, LinkPlanInput } from './types.js';

export class LinkOwnership {
  private readonly adoptable: ReadonlySet<string>;

  constructor(private readonly input: LinkPlanInput) {
    this.adoptable = input.adoptable ?? new Set();
  }

  owner(link: ObservedLink): LinkOwner {
    return ownerOf(link, this.input.ownership, this.adoptable);
  }

  /** Links vifd owns for `port`: those whose alias names it (from the
   * snapshot's index, not a walk over every link), in vifd's groups. */
  ownedBy(port: string): ObservedLink[] {
    return linksWithAlias(this.input.links, portAlias(port)).filter((link) => {
      const owner = this.owner(link);
      return owner.owned && owner.port === port;
    });
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
