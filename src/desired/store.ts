// The desired state as the union of all sources (directory files, API, etcd).
// Each source document keeps its last valid version; conflicts are resolved
// by acceptance order: whoever was accepted first keeps a port or a name.
// Pure: no I/O.
import type { ParseResult, Problem } from './parse.js';
import type { PortBinding } from './schema.js';
import { resolveSpec, type BindingSpec } from './spec.js';

export interface SourceEntry {
  id: string;
  /** Last version that validated; stays applied while the source is invalid. */
  lastValid: PortBinding[] | undefined;
  /** Problems of the latest version, if it did not validate. */
  problems: Problem[] | undefined;
  /** Ports the invalid latest version names (to report Invalid on them). */
  invalidPorts: string[];
}

export interface DesiredBinding {
  spec: BindingSpec;
  source: string;
  /** Set when the source's latest version is invalid (the last valid one is applied). */
  invalid?: { source: string; problems: Problem[] };
  /** Another binding holds a name this one needs: not applied. */
  conflict?: string;
  /** Other sources that also claim this port (they lost). */
  shadowed: string[];
}

export interface DesiredView {
  /** Every port that is desired (winners), including those in Conflict. */
  bindings: ReadonlyMap<string, DesiredBinding>;
  /** Ports named only by invalid documents: nothing applied, reported Invalid. */
  invalidOnly: ReadonlyMap<string, { source: string; problems: Problem[] }>;
  /** Bridge name → ports (not in conflict) that plug into it, Linux or OVS. */
  bridgeUsers: ReadonlyMap<string, string[]>;
  /** Device name → the port (not in conflict) that claims it for itself. */
  claimedNames: ReadonlyMap<string, string>;
  sources: readonly SourceEntry[];
  version: number;
}

export class DesiredStore {
  private readonly entries = new Map<string, SourceEntry>();
  /** `${source}\0${port}` → acceptance sequence number. */
  private readonly accepted = new Map<string, number>();
  private nextSeq = 1;
  private version = 0;
  private cached: DesiredView | undefined;

  /** Records a source document's latest parse. Returns the ports it affects. */
  set(sourceId: string, result: ParseResult): Set<string> {
    const previous = this.entries.get(sourceId);
    const affected = new Set<string>(portsOf(previous));
    let entry: SourceEntry;
    if (result.ok) {
      entry = { id: sourceId, lastValid: result.bindings, problems: undefined, invalidPorts: [] };
      const ports = new Set(result.bindings.map((b) => b.port));
      for (const port of portsOf(previous)) if (!ports.has(port)) this.accepted.delete(`${sourceId}\0${port}`);
      for (const port of ports) {
        const key = `${sourceId}\0${port}`;
        if (!this.accepted.has(key)) this.accepted.set(key, this.nextSeq++);
      }
    } else {
      entry = { id: sourceId, lastValid: previous?.lastValid, problems: result.problems, invalidPorts: result.ports };
    }
    this.entries.set(sourceId, entry);
    for (const port of portsOf(entry)) affected.add(port);
    this.bump();
    return affected;
  }

  /** The source document is gone: its bindings are no longer desired. */
  delete(sourceId: string): Set<string> {
    const previous = this.entries.get(sourceId);
    if (!previous) return new Set();
    this.entries.delete(sourceId);
    for (const port of previous.lastValid?.map((b) => b.port) ?? []) this.accepted.delete(`${sourceId}\0${port}`);
    this.bump();
    return new Set(portsOf(previous));
  }

  sourceIds(prefix = ''): string[] {
    return [...this.entries.keys()].filter((id) => id.startsWith(prefix));
  }

  get(sourceId: string): SourceEntry | undefined {
    return this.entries.get(sourceId);
  }

  view(): DesiredView {
    this.cached ??= this.compute();
    return this.cached;
  }

  private bump(): void {
    this.version++;
    this.cached = undefined;
  }

  private compute(): DesiredView {
    type Candidate = { binding: PortBinding; source: string; seq: number };
    const candidates = new Map<string, Candidate[]>();
    for (const entry of this.entries.values()) {
      for (const binding of entry.lastValid ?? []) {
        const seq = this.accepted.get(`${entry.id}\0${binding.port}`) ?? Number.MAX_SAFE_INTEGER;
        const list = candidates.get(binding.port) ?? [];
        list.push({ binding, source: entry.id, seq });
        candidates.set(binding.port, list);
      }
    }
    const winners = [...candidates.values()]
      .map((list) => list.sort((a, b) => a.seq - b.seq))
      .sort((a, b) => a[0]!.seq - b[0]!.seq);

    const bindings = new Map<string, DesiredBinding>();
    const exclusiveOwner = new Map<string, string>();
    const sharedOwner = new Map<string, string>();
    const bridgeUsers = new Map<string, string[]>();
    const uplinks = new Map<string, { port: string; passthru: boolean }>();
    for (const list of winners) {
      const win = list[0]!;
      const spec = specOf(win.binding);
      const conflict = claimNames(spec, exclusiveOwner, sharedOwner) ?? claimUplink(spec, uplinks);
      const desired: DesiredBinding = { spec, source: win.source, shadowed: list.slice(1).map((c) => c.source) };
      if (conflict) desired.conflict = conflict;
      const source = this.entries.get(win.source);
      if (source?.problems) desired.invalid = { source: win.source, problems: source.problems };
      bindings.set(spec.port, desired);
      if (!conflict) {
        for (const bridge of [spec.sharedBridge, spec.ovsPort?.bridge]) {
          if (bridge) bridgeUsers.set(bridge, [...(bridgeUsers.get(bridge) ?? []), spec.port]);
        }
      }
    }
    const invalidOnly = new Map<string, { source: string; problems: Problem[] }>();
    for (const entry of this.entries.values()) {
      if (!entry.problems) continue;
      for (const port of entry.invalidPorts) {
        if (!bindings.has(port)) invalidOnly.set(port, { source: entry.id, problems: entry.problems });
      }
    }
    const claimedNames = new Map<string, string>();
    for (const [port, desired] of bindings) {
      if (!desired.conflict) for (const name of desired.spec.exclusiveNames) claimedNames.set(name, port);
    }
    return { bindings, invalidOnly, bridgeUsers, claimedNames, sources: [...this.entries.values()], version: this.version };
  }
}

// Bindings are immutable once parsed: resolve each once, not on every view.
const specs = new WeakMap<PortBinding, BindingSpec>();
function specOf(binding: PortBinding): BindingSpec {
  let spec = specs.get(binding);
  if (!spec) {
    spec = resolveSpec(binding);
    specs.set(binding, spec);
  }
  return spec;
}

function portsOf(entry: SourceEntry | undefined): string[] {
  if (!entry) return [];
  return [...new Set([...(entry.lastValid?.map((b) => b.port) ?? []), ...entry.invalidPorts])];
}

/** A macvtap in passthrough mode takes its uplink alone (the kernel refuses
 * a second macvtap next to it, or it next to another). */
function claimUplink(spec: BindingSpec, uplinks: Map<string, { port: string; passthru: boolean }>): string | undefined {
  for (const link of spec.links) {
    if (link.kind !== 'macvtap') continue;
    const passthru = link.mode === 'passthrough';
    const holder = uplinks.get(link.lower);
    if (holder && holder.port !== spec.port && (passthru || holder.passthru)) {
      return `uplink ${link.lower} is used by port ${holder.port}${holder.passthru ? ' in passthrough mode' : ''}; a passthrough macvtap needs it alone`;
    }
    if (!holder || passthru) uplinks.set(link.lower, { port: spec.port, passthru });
  }
  return undefined;
}

/** Claims the spec's names; returns a conflict message if one is already taken. */
function claimNames(spec: BindingSpec, exclusive: Map<string, string>, shared: Map<string, string>): string | undefined {
  // One name for two of its own devices (a hybrid binding whose tap is named
  // like its qvo, a tap named like its bridge) can never be plugged.
  const own = new Set<string>();
  for (const name of spec.exclusiveNames) {
    if (own.has(name)) return `device name ${name} is used twice by this binding`;
    own.add(name);
  }
  for (const name of spec.sharedNames) if (own.has(name)) return `bridge name ${name} is also one of this binding's own devices`;
  for (const name of spec.exclusiveNames) {
    const holder = exclusive.get(name) ?? shared.get(name);
    if (holder !== undefined && holder !== spec.port) return `device name ${name} is already claimed by port ${holder}`;
  }
  for (const name of spec.sharedNames) {
    const holder = exclusive.get(name);
    if (holder !== undefined) return `bridge name ${name} is already claimed as a device of port ${holder}`;
  }
  for (const name of spec.exclusiveNames) exclusive.set(name, spec.port);
  for (const name of spec.sharedNames) if (!shared.has(name)) shared.set(name, spec.port);
  return undefined;
}
