// One planning pass over kernel links: the actions planned so far, the
// outcomes and follow-up keys, and the rule that each device gets at most
// one deletion, one creation and one set-up per round.
import type { ObservedLink } from '../../observed/links.js';
import type { LinkAction, LinkSettings } from '../../model/actions.js';
import type { WorkKey } from '../../model/work-key.js';
import { LinkOwnership } from './ownership-view.js';
import type { KeyOutcome, LinkPlanInput } from './types.js';

export class LinkRound {
  readonly actions: LinkAction[] = [];
  readonly outcomes = new Map<WorkKey, KeyOutcome>();
  readonly followUps = new Set<WorkKey>();
  readonly own: LinkOwnership;
  /** Device names already given a deletion, creation or set-up this round (each at most once). */
  readonly planned = { del: new Set<string>(), create: new Set<string>(), set: new Set<string>() };

  constructor(readonly input: LinkPlanInput) {
    this.own = new LinkOwnership(input);
  }

  get links(): ReadonlyMap<string, ObservedLink> {
    return this.input.links.links;
  }

  push(action: LinkAction): void {
    this.actions.push(action);
  }

  /** Plans deleting one of vifd's links, once. The rule for a bridge vifd
   * made (shared or per-port) that holds a device vifd does not own: it is
   * kept (deleting it would release the operator's device), reported on the
   * binding, and removed once it is empty. Returns that report when kept. */
  deleteOnce(key: WorkKey, link: ObservedLink, why: string): string | undefined {
    const foreign = this.own.foreignPorts(link);
    if (foreign.length > 0) return keptMessage(link.name, foreign);
    if (this.planned.del.has(link.name)) return undefined;
    this.planned.del.add(link.name);
    // Deleting one end of a veth removes the other: plan it once.
    if (link.kind === 'veth' && link.link) this.planned.del.add(link.link);
    this.push({ op: 'delete-link', key, name: link.name, why });
    return undefined;
  }

  /** Plans creating the device `action` names, once. */
  createOnce(action: Extract<LinkAction, { op: `create-${string}` }>): void {
    if (this.planned.create.has(action.name)) return;
    this.planned.create.add(action.name);
    this.push(action);
  }

  /** Plans changing a device's settings (if any), once. */
  setOnce(key: WorkKey, name: string, settings: LinkSettings, why: string): void {
    if (Object.keys(settings).length === 0 || this.planned.set.has(name)) return;
    this.planned.set.add(name);
    this.push({ op: 'set-link', key, name, settings, why });
  }
}

function keptMessage(bridge: string, foreign: readonly ObservedLink[]): string {
  return `bridge ${bridge} kept: it holds devices vifd does not own (${foreign.map((s) => s.name).join(', ')}); vifd removes it once they leave`;
}
