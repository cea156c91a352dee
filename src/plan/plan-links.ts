// The kernel-link half of the planner: desired × observed links × ownership →
// ordered link actions, per work key. Pure.
import type { DesiredView } from '../desired/store.js';
import { ipMacvtapMode, type BindingSpec, type DesiredPortLink } from '../desired/spec.js';
import { slavesOf, type LinkSnapshot, type ObservedLink } from '../observed/links.js';
import { type LinkAction, type LinkSettings } from '../model/actions.js';
import { linkKey, linkNameOfKey, type WorkKey } from '../model/work-key.js';
import { ownerOf, portAlias, SHARED_BRIDGE_ALIAS, type OwnershipConfig } from '../model/ownership.js';
import { associatingMessage, kindLabel, type AssociationView } from '../model/association.js';

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
  /** Device names already given a deletion, creation or set-up this round (each at most once). */
  private readonly planned = { del: new Set<string>(), create: new Set<string>(), set: new Set<string>() };
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

  /** The bulk delete (`ip link del group <doomed>`) takes every device in
   * the doomed group: it must take only those this round deletes. A device a
   * killed run left there is moved back out first, whether or not its key is
   * in this round. */
  keepOutOfBulkDelete(): void {
    if (!this.actions.some((a) => a.op === 'delete-link')) return;
    const { doomedGroup, group } = this.input.ownership;
    for (const link of this.input.links.links.values()) {
      if (link.group !== doomedGroup || this.planned.del.has(link.name)) continue;
      const owner = this.owner(link);
      this.push({ op: 'undoom-link', key: (owner.owned ? owner.port : undefined) ?? linkKey(link.name), name: link.name, group });
    }
  }

  private push(action: LinkAction): void {
    this.actions.push(action);
  }

  private planRemoval(port: string): KeyOutcome {
    let changed = false;
    const kept: string[] = [];
    for (const link of this.ownedBy(port)) {
      if (this.claimedByOther(link, port)) continue; // the claimant takes it over this round
      const keptWhy = this.deleteOnce(port, link, `port ${port} is no longer desired`);
      if (keptWhy) {
        kept.push(keptWhy);
        continue;
      }
      if (link.master) this.followUps.add(linkKey(link.master));
      changed = true;
    }
    if (changed) return { state: 'changing' };
    if (kept.length > 0) return { state: 'blocked', message: kept.join('; ') };
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
    const kept = this.deleteOnce(key, link, 'no binding uses it');
    if (kept) return { state: 'blocked', message: kept };
    return { state: 'changing' };
  }

  /** Another desired binding claims this device (or, for a veth, its other
   * end, which goes with it): that binding re-marks or replaces it. */
  private claimedByOther(link: ObservedLink, port: string): boolean {
    const { claimedNames } = this.input.desired;
    const names = link.kind === 'veth' && link.link ? [link.name, link.link] : [link.name];
    return names.some((n) => {
      const claimant = claimedNames.get(n);
      return claimant !== undefined && claimant !== port;
    });
  }

  /** A desired binding (not in conflict) keeps this device as it is. */
  private survives(link: ObservedLink): boolean {
    const claimant = this.input.desired.claimedNames.get(link.name);
    const wanted = claimant === undefined ? undefined : this.input.desired.bindings.get(claimant)?.spec.links.find((l) => l.name === link.name);
    return wanted !== undefined && sameKind(wanted, link);
  }

  /** Devices enslaved to `link` (a bridge) that vifd does not own. */
  private foreignPorts(link: ObservedLink): ObservedLink[] {
    if (link.kind !== 'bridge') return [];
    return slavesOf(this.input.links, link.name).filter((s) => !this.owner(s).owned);
  }

  /** Plans deleting one of vifd's links, once. The rule for a bridge vifd
   * made (shared or per-port) that holds a device vifd does not own: it is
   * kept (deleting it would release the operator's device), reported on the
   * binding, and removed once it is empty. Returns that report when kept. */
  private deleteOnce(key: WorkKey, link: ObservedLink, why: string): string | undefined {
    const foreign = this.foreignPorts(link);
    if (foreign.length > 0) return keptMessage(link.name, foreign);
    if (this.planned.del.has(link.name)) return undefined;
    this.planned.del.add(link.name);
    // Deleting one end of a veth removes the other: plan it once.
    if (link.kind === 'veth' && link.link) this.planned.del.add(link.link);
    this.push({ op: 'delete-link', key, name: link.name, why });
    return undefined;
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
    const kept: string[] = [];
    for (const link of this.ownedBy(port)) {
      if (wanted.has(link.name) || this.claimedByOther(link, port)) continue;
      const keptWhy = this.deleteOnce(port, link, 'no longer part of the binding');
      if (keptWhy) kept.push(keptWhy);
      else if (link.master) this.followUps.add(linkKey(link.master));
    }
    const conflict = problems.find((p) => p.state === 'conflict');
    if (conflict) return conflict;
    const blocked = problems.find((p) => p.state === 'blocked');
    if (blocked) return blocked;
    if (this.actions.length > before) return { state: 'changing' };
    const outcome = this.associationOutcome(spec);
    // An old bridge of the binding kept for an operator's device: the binding
    // itself is plugged; the status says what is left behind and why.
    return kept.length > 0 && outcome.state === 'converged' ? { state: 'converged', message: kept.join('; ') } : outcome;
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
    // A name this port won in the desired state is its to take even from
    // another binding of vifd's that still exists but no longer claims it.
    return owner.owned && (owner.port === port || owner.port === undefined || !this.input.desired.bindings.has(owner.port) || this.input.desired.claimedNames.get(link.name) === port);
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
      if (!this.planned.create.has(name)) {
        this.planned.create.add(name);
        this.push({ op: 'create-bridge', key: port, name, group, alias: SHARED_BRIDGE_ALIAS, perPort: false });
      }
      return undefined;
    }
    const owner = this.owner(link);
    // vifd's own device under that name that no desired binding holds (a
    // removed port's qbr or tap, a half-made device of another kind): freed
    // in this round and the shared bridge made in its place.
    const reusable = owner.owned && (owner.port === undefined
      ? !owner.shared && link.kind !== 'bridge'
      : !this.input.desired.bindings.has(owner.port) || this.input.desired.claimedNames.get(name) !== owner.port);
    if (reusable) {
      const kept = this.deleteOnce(port, link, `name needed for shared bridge ${name}`);
      if (kept) return { state: 'blocked', message: kept };
      if (!this.planned.create.has(name)) {
        this.planned.create.add(name);
        this.push({ op: 'create-bridge', key: port, name, group, alias: SHARED_BRIDGE_ALIAS, perPort: false });
      }
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
    this.setOnce(port, name, settings, 'shared bridge');
    return undefined;
  }

  private setOnce(key: WorkKey, name: string, settings: LinkSettings, why: string): void {
    if (Object.keys(settings).length === 0 || this.planned.set.has(name)) return;
    this.planned.set.add(name);
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
    if (desired.kind === 'macvtap') {
      // Passthrough takes the uplink alone: another agent's macvtap on it (or
      // its passthrough one) leaves no room.
      const passthru = ipMacvtapMode(desired.mode) === 'passthru';
      const others = [...links.values()].filter((l) => l.kind === 'macvtap' && l.link === desired.lower && l.name !== desired.name && (passthru || l.macvtapMode === 'passthru'));
      const blocking: ObservedLink[] = [];
      for (const other of others) {
        // vifd's own that no desired binding keeps as it is goes now (its own
        // key's round would delete or replace it anyway).
        if (this.owner(other).owned && !this.survives(other)) this.deleteOnce(port, other, `uplink ${desired.lower} needed by port ${port}`);
        else blocking.push(other);
      }
      if (blocking.length > 0) return { state: 'conflict', message: `uplink ${desired.lower} is taken by macvtap ${blocking.map((l) => l.name).join(', ')}${passthru ? '; passthrough needs it alone' : ' in passthrough mode'}` };
    }
    const recreate = link !== undefined && !sameKind(desired, link);
    if (link && recreate) {
      const kept = this.deleteOnce(port, link, `is a ${link.kind}, must be a ${desired.kind}`);
      if (kept) return { state: 'blocked', message: `device ${desired.name} cannot be made: ${kept}` };
    }
    if (desired.kind === 'veth' && (!link || recreate)) {
      // A new pair needs its peer's name free too: a device of the binding's
      // own by that name (say a plain-OVS tap named like the hybrid qvo) goes.
      const peer = links.get(desired.peer);
      if (peer && !(peer.kind === 'veth' && peer.link === desired.name && link !== undefined)) {
        if (!this.isOurs(peer, port)) return this.foreignConflict(port, peer);
        const kept = this.deleteOnce(port, peer, `name needed for veth ${desired.name} <-> ${desired.peer}`);
        if (kept) return { state: 'blocked', message: `device ${desired.peer} cannot be made: ${kept}` };
      }
    }
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

function keptMessage(bridge: string, foreign: readonly ObservedLink[]): string {
  return `bridge ${bridge} kept: it holds devices vifd does not own (${foreign.map((s) => s.name).join(', ')}); vifd removes it once they leave`;
}

function sameKind(desired: DesiredPortLink, link: ObservedLink): boolean {
  if (desired.kind === 'veth') return link.kind === 'veth' && link.link === desired.peer;
  // The kernel cannot change a macvtap into or out of passthru mode (EBUSY): that is a new device.
  if (desired.kind === 'macvtap') return link.kind === 'macvtap' && link.link === desired.lower && (link.macvtapMode === 'passthru') === (ipMacvtapMode(desired.mode) === 'passthru');
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
  planner.keepOutOfBulkDelete();
  return { actions: orderActions(planner.actions), outcomes: planner.outcomes, followUps: planner.followUps };
}

const PHASE: Record<LinkAction['op'], number> = {
  'undoom-link': -1,
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
