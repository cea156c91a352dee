// The kernel-link half of the planner: desired × observed links × ownership →
// ordered link actions, per work key. Pure.
import type { DesiredView } from '../desired/store.js';
import { ipMacvtapMode, type BindingSpec, type DesiredPortLink } from '../desired/spec.js';
import { slavesOf, type LinkSnapshot, type ObservedLink } from '../observed/links.js';
import { linkKey, linkNameOfKey, type LinkAction, type LinkSettings, type WorkKey } from './actions.js';
import { ownerOf, portAlias, SHARED_BRIDGE_ALIAS, type OwnershipConfig } from './ownership.js';
import { associatingMessage, kindLabel, type AssociationView } from './association.js';

export interface LinkPlanInput {
  keys: Iterable<WorkKey>;
  desired: DesiredView;
  links: LinkSnapshot;
  ownership: OwnershipConfig;
  /** Names from the intent journal: unmarked links by these names are ours. */
  adoptable?: ReadonlySet<string>;
  /** Ports whose port-profile association holds: only their macvtaps go up. */
  associated?: ReadonlySet<string>;
  /** Port-profile association state per port (what is in progress, what failed). */
  associations?: ReadonlyMap<string, AssociationView>;
}

export type KeyState =
  /** Host matches the desired state for this key. */
  | 'converged'
  /** Actions planned. */
  | 'changing'
  /** Nothing can be done until something outside vifd changes (message says what). */
  | 'blocked'
  /** A device name vifd needs is held by something vifd does not own. */
  | 'conflict'
  /** Links done; waiting on work that runs outside the rounds (a port-profile
   * association), which queues the key again when it finishes. */
  | 'waiting';

export interface KeyOutcome {
  state: KeyState;
  message?: string;
  /** waiting: the last attempt failed (it is retried with backoff). */
  failed?: boolean;
}

export interface LinkPlan {
  actions: LinkAction[];
  outcomes: Map<WorkKey, KeyOutcome>;
  /** Keys worth reconciling after this round (e.g. a bridge a removed tap used). */
  followUps: Set<WorkKey>;
}

class LinkPlanner {
  readonly actions: LinkAction[] = [];
  readonly outcomes = new Map<WorkKey, KeyOutcome>();
  readonly followUps = new Set<WorkKey>();
  private readonly planned = new Set<string>();
  private readonly adoptable: ReadonlySet<string>;

  constructor(private readonly input: LinkPlanInput) {
    this.adoptable = input.adoptable ?? new Set();
  }

  private owner(link: ObservedLink) {
    return ownerOf(link, this.input.ownership, this.adoptable);
  }

  private ownedIndex: Map<string, ObservedLink[]> | undefined;

  /** Links vifd owns for `port`, from an index built once per plan. */
  private ownedBy(port: string): ObservedLink[] {
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

  /** Actions for one key; returns its outcome. */
  planKey(key: WorkKey): KeyOutcome {
    const linkName = linkNameOfKey(key);
    if (linkName !== undefined) return this.planOwnedLink(key, linkName);
    const desired = this.input.desired.bindings.get(key);
    if (!desired) return this.planRemoval(key);
    if (desired.conflict) return { state: 'conflict', message: desired.conflict };
    return this.planBinding(desired.spec);
  }

  private push(action: LinkAction): void {
    this.actions.push(action);
  }

  private planRemoval(port: string): KeyOutcome {
    let changed = false;
    for (const link of this.ownedBy(port)) {
      this.deleteOnce(port, link, `port ${port} is no longer desired`);
      if (link.master) this.followUps.add(linkKey(link.master));
      changed = true;
    }
    if (changed) return { state: 'changing' };
    const association = this.input.associations?.get(port);
    if (association) return { state: 'waiting', message: `disassociating ${kindLabel(association.kind)} port profile (${association.message})` };
    return { state: 'converged' };
  }

  /** A link vifd owns that belongs to no port: keep it while a binding needs it. */
  private planOwnedLink(key: WorkKey, name: string): KeyOutcome {
    const link = this.input.links.links.get(name);
    if (!link) return { state: 'converged' };
    const owner = this.owner(link);
    if (!owner.owned || owner.port !== undefined) return { state: 'converged' };
    const { bridgeUsers, claimedNames } = this.input.desired;
    if (bridgeUsers.has(name) || claimedNames.has(name)) return { state: 'converged' };
    const foreign = slavesOf(this.input.links, name).filter((s) => !this.owner(s).owned);
    if (foreign.length > 0) {
      return { state: 'blocked', message: `unused bridge ${name} kept: it has ports vifd does not own (${foreign.map((s) => s.name).join(', ')})` };
    }
    this.deleteOnce(key, link, 'no binding uses it');
    return { state: 'changing' };
  }

  private deleteOnce(key: WorkKey, link: ObservedLink, why: string): void {
    if (this.planned.has(`del:${link.name}`)) return;
    this.planned.add(`del:${link.name}`);
    // Deleting one end of a veth removes the other: plan it once.
    if (link.kind === 'veth' && link.link) this.planned.add(`del:${link.link}`);
    this.push({ op: 'delete-link', key, name: link.name, why });
  }

  private planBinding(spec: BindingSpec): KeyOutcome {
    const port = spec.port;
    // A name held by something else: the binding is not plugged at all (no
    // half-built set of devices, no bridge made for it).
    const held = this.heldByOthers(spec);
    if (held) return held;
    const before = this.actions.length;
    const problems: KeyOutcome[] = [];
    if (spec.sharedBridge) {
      const problem = this.ensureSharedBridge(port, spec.sharedBridge);
      if (problem) return problem;
    }
    for (const desired of spec.links) {
      const problem = this.ensureLink(spec, desired);
      if (problem) problems.push(problem);
    }
    // Owned links of this port that it no longer needs (renamed, type changed).
    const wanted = new Set(spec.exclusiveNames);
    for (const link of this.ownedBy(port)) {
      if (wanted.has(link.name)) continue;
      this.deleteOnce(port, link, 'no longer part of the binding');
      if (link.master) this.followUps.add(linkKey(link.master));
    }
    const conflict = problems.find((p) => p.state === 'conflict');
    if (conflict) return conflict;
    const blocked = problems.find((p) => p.state === 'blocked');
    if (blocked) return blocked;
    if (this.actions.length > before) return { state: 'changing' };
    return this.associationOutcome(spec);
  }

  /** A port-profile binding is converged only once its association holds. */
  private associationOutcome(spec: BindingSpec): KeyOutcome {
    const a = spec.association;
    if (!a || this.input.associated?.has(spec.port)) return { state: 'converged' };
    const view = this.input.associations?.get(spec.port);
    // Failed, or retrying after a failure: Failed until an attempt succeeds.
    if (view?.state === 'failed' || (view?.state === 'associating' && view.attempts > 0)) return { state: 'waiting', failed: true, message: view.message };
    return { state: 'waiting', message: view && view.state !== 'pending' && view.state !== 'associated' ? view.message : associatingMessage(a.kind, a.uplink) };
  }

  /** The first of the binding's own device names taken by a link that is not its. */
  private heldByOthers(spec: BindingSpec): KeyOutcome | undefined {
    for (const desired of spec.links) {
      for (const name of desired.kind === 'veth' ? [desired.name, desired.peer] : [desired.name]) {
        const link = this.input.links.links.get(name);
        if (link && !this.isOurs(link, spec.port)) return this.foreignConflict(spec.port, link);
      }
    }
    return undefined;
  }

  /** Ours to use for `port`: marked for it, half-made, or left by a port no longer desired. */
  private isOurs(link: ObservedLink, port: string): boolean {
    const owner = this.owner(link);
    return owner.owned && (owner.port === port || owner.port === undefined || !this.input.desired.bindings.has(owner.port));
  }

  private foreignConflict(port: string, link: ObservedLink): KeyOutcome {
    const holder = this.owner(link);
    const by = holder.owned && holder.port ? `vifd port ${holder.port}` : 'something vifd does not own';
    void port;
    return { state: 'conflict', message: `device ${link.name} (${link.rawKind ?? link.kind}) already exists on the host, held by ${by}; vifd leaves it alone` };
  }

  private ensureSharedBridge(port: string, name: string): KeyOutcome | undefined {
    const link = this.input.links.links.get(name);
    const { group } = this.input.ownership;
    if (!link) {
      if (!this.planned.has(`create:${name}`)) {
        this.planned.add(`create:${name}`);
        this.push({ op: 'create-bridge', key: port, name, group, alias: SHARED_BRIDGE_ALIAS, perPort: false });
      }
      return undefined;
    }
    if (link.kind !== 'bridge') {
      return { state: 'conflict', message: `bridge ${name} is taken on the host by a ${link.rawKind ?? link.kind} device` };
    }
    const owner = this.owner(link);
    if (!owner.owned) return undefined; // an operator's bridge: used as it is, never changed
    if (owner.port !== undefined) return { state: 'conflict', message: `bridge ${name} belongs to vifd port ${owner.port} (a per-port bridge)` };
    const settings: LinkSettings = {};
    if (link.alias !== SHARED_BRIDGE_ALIAS || link.group !== group) Object.assign(settings, { group, alias: SHARED_BRIDGE_ALIAS });
    if (!link.up) settings.up = true;
    this.setOnce(port, name, settings, 'shared bridge');
    return undefined;
  }

  private setOnce(key: WorkKey, name: string, settings: LinkSettings, why: string): void {
    if (Object.keys(settings).length === 0 || this.planned.has(`set:${name}`)) return;
    this.planned.add(`set:${name}`);
    this.push({ op: 'set-link', key, name, settings, why });
  }

  /** Plans create-or-fix for one of the binding's own links. */
  private ensureLink(spec: BindingSpec, desired: DesiredPortLink): KeyOutcome | undefined {
    const port = spec.port;
    const links = this.input.links.links;
    const link = links.get(desired.name);
    const { group } = this.input.ownership;
    const alias = portAlias(port);
    if (link) {
      if (!this.isOurs(link, port)) return this.foreignConflict(port, link);
    }
    if (desired.kind === 'macvtap' && !links.has(desired.lower)) {
      return { state: 'blocked', message: `uplink device ${desired.lower} does not exist` };
    }
    const recreate = link !== undefined && !sameKind(desired, link);
    if (link && recreate) this.deleteOnce(port, link, `is a ${link.kind}, must be a ${desired.kind}`);
    const current = link && !recreate ? link : undefined;
    if (!current) this.pushCreate(port, desired, group, alias);

    const settings: LinkSettings = {};
    if (!current || current.group !== group || current.alias !== alias) Object.assign(settings, { group, alias });
    const mac = desired.kind === 'tap' || desired.kind === 'macvtap' ? desired.mac : undefined;
    // A new macvtap gets its MAC at creation, except in passthru mode, where
    // the kernel gives it the uplink's; set then, it becomes the uplink's MAC
    // too (as libvirt does for passthrough: the VM owns the device).
    const macAtCreation = desired.kind === 'macvtap' && !current && desired.mode !== 'passthrough';
    if (mac && current?.mac !== mac && !macAtCreation) settings.mac = mac;
    if (desired.kind !== 'bridge' && desired.mtu !== undefined && current?.mtu !== desired.mtu && !(desired.kind === 'macvtap' && !current)) {
      settings.mtu = desired.mtu;
    }
    if (desired.kind === 'macvtap' && current && current.macvtapMode !== ipMacvtapMode(desired.mode)) {
      settings.macvtapMode = ipMacvtapMode(desired.mode);
    }
    const master = desired.kind === 'tap' || desired.kind === 'veth' ? desired.master : undefined;
    if (master !== undefined && current?.master !== master) settings.master = master;
    if (master === undefined && current?.master && links.get(current.master)?.kind === 'bridge') settings.master = null;
    // Leaving a bridge may leave it unused: have it looked at after this round.
    if (settings.master !== undefined && current?.master) this.followUps.add(linkKey(current.master));
    const wantUp = desired.kind === 'macvtap' ? (this.input.associated?.has(port) ?? false) : true;
    if ((current?.up ?? false) !== wantUp) settings.up = wantUp;
    this.setOnce(port, desired.name, settings, current ? 'repair' : 'new');

    if (desired.kind === 'veth') {
      // The OVS-side end: owned, same MTU, up, enslaved to no Linux bridge.
      const peer = current ? links.get(desired.peer) : undefined;
      const peerSettings: LinkSettings = {};
      if (!peer || peer.group !== group || peer.alias !== alias) Object.assign(peerSettings, { group, alias });
      if (desired.mtu !== undefined && peer?.mtu !== desired.mtu) peerSettings.mtu = desired.mtu;
      if (peer?.master && links.get(peer.master)?.kind === 'bridge') peerSettings.master = null;
      if (!peer?.up) peerSettings.up = true;
      this.setOnce(port, desired.peer, peerSettings, peer ? 'repair' : 'new');
    }
    return undefined;
  }

  private pushCreate(port: string, desired: DesiredPortLink, group: number, alias: string): void {
    const m = 'mtu' in desired && desired.mtu !== undefined ? { mtu: desired.mtu } : {};
    switch (desired.kind) {
      case 'tap':
        this.push({
          op: 'create-tap',
          key: port,
          name: desired.name,
          ...(desired.queues !== undefined ? { multiQueue: true } : {}),
          ...(desired.user !== undefined ? { user: desired.user } : {}),
          ...(desired.group !== undefined ? { group: desired.group } : {}),
        });
        return;
      case 'bridge':
        this.push({ op: 'create-bridge', key: port, name: desired.name, group, alias, perPort: true });
        return;
      case 'veth':
        this.push({ op: 'create-veth', key: port, name: desired.name, peer: desired.peer, group, alias, ...m });
        return;
      case 'macvtap':
        this.push({ op: 'create-macvtap', key: port, name: desired.name, lower: desired.lower, mode: ipMacvtapMode(desired.mode), mac: desired.mac, group, alias, ...m });
        return;
    }
  }
}

function sameKind(desired: DesiredPortLink, link: ObservedLink): boolean {
  if (desired.kind === 'veth') return link.kind === 'veth' && link.link === desired.peer;
  if (desired.kind === 'macvtap') return link.kind === 'macvtap' && link.link === desired.lower;
  // A tap cannot become multi-queue (or stop being one) while it lives: a new one is made.
  if (desired.kind === 'tap' && link.kind === 'tap' && link.multiQueue !== undefined) return link.multiQueue === (desired.queues !== undefined);
  return link.kind === desired.kind;
}

export function planLinks(input: LinkPlanInput): LinkPlan {
  const planner = new LinkPlanner(input);
  for (const key of input.keys) planner.outcomes.set(key, planner.planKey(key));
  // A bridge freed by this round's removals goes in the same batch (one bulk
  // delete instead of a second round).
  for (const key of [...planner.followUps]) {
    if (!planner.outcomes.has(key)) planner.outcomes.set(key, planner.planKey(key));
  }
  return { actions: orderActions(planner.actions), outcomes: planner.outcomes, followUps: planner.followUps };
}

const PHASE: Record<LinkAction['op'], number> = {
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
