// The desired store as it was before it became incremental: it rebuilds the
// whole view from every source on each view(). Kept as the reference model
// the incremental store is checked against (test/unit/store-incremental.test.ts):
// same inputs, same view.
import type { ParseResult } from '../../src/desired/parse.js';
import type { Problem } from '../../src/desired/problem.js';
import type { DocumentKind, PortBinding } from '../../src/desired/schema.js';
import { resolveSpec, type BindingSpec } from '../../src/desired/spec.js';

export interface SourceEntry {
  id: string;
  /** Last version that validated; stays applied while the source is invalid. */
  lastValid: PortBinding[] | undefined;
  /** Problems of the latest version, if it did not validate. */
  problems: Problem[] | undefined;
  /** Ports the latest version makes Invalid, each with the problems that concern it. */
  invalidPorts: ReadonlyMap<string, Problem[]>;
  /** The kind of document the applied bindings came from. */
  documentKind?: DocumentKind;
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
  /** Bumped on every accepted change of what the sources say for this port. */
  generation: number;
  /** The kind of document it came from (PortBinding, PortBindingList, NeutronPort). */
  documentKind: DocumentKind;
}

export interface ReferenceView {
  /** Every port that is desired (winners), including those in Conflict. */
  bindings: ReadonlyMap<string, DesiredBinding>;
  /** Ports named only by invalid documents: nothing applied, reported Invalid. */
  invalidOnly: ReadonlyMap<string, { source: string; problems: Problem[]; generation: number }>;
  /** Every source whose latest version has problems, by source id (a file
   * that names no readable port is reported by its name). */
  invalidSources: ReadonlyMap<string, Problem[]>;
  /** Bridge name → ports (not in conflict) that plug into it, Linux or OVS. */
  bridgeUsers: ReadonlyMap<string, string[]>;
  /** Device name → the port (not in conflict) that claims it for itself. */
  claimedNames: ReadonlyMap<string, string>;
  sources: readonly SourceEntry[];
  version: number;
}

export class ReferenceDesiredStore {
  private readonly entries = new Map<string, SourceEntry>();
  /** `${source}\0${port}` → acceptance sequence number. */
  private readonly accepted = new Map<string, number>();
  private nextSeq = 1;
  private version = 0;
  /** port → generation. Numbers grow across restarts too (they start from
   * the clock, in microseconds), so a waiter holding a generation from
   * before a restart never mistakes an older state for its answer. */
  private readonly generations = new Map<string, number>();
  private nextGeneration = Date.now() * 1000;
  private cached: ReferenceView | undefined;

  /** Records a source document's latest parse. Returns the ports it affects. */
  set(sourceId: string, result: ParseResult): Set<string> {
    const previous = this.entries.get(sourceId);
    const affected = new Set<string>(portsOf(previous));
    const entry = nextEntry(sourceId, previous, result);
    const before = new Set(previous?.lastValid?.map((b) => b.port) ?? []);
    const now = new Set(entry.lastValid?.map((b) => b.port) ?? []);
    for (const port of before) if (!now.has(port)) this.accepted.delete(`${sourceId}\0${port}`);
    for (const port of now) {
      const key = `${sourceId}\0${port}`;
      if (!this.accepted.has(key)) this.accepted.set(key, this.nextSeq++);
    }
    this.entries.set(sourceId, entry);
    for (const port of portsOf(entry)) affected.add(port);
    const was = byPort(previous);
    const is = byPort(entry);
    for (const port of affected) if (saysFor(previous, was, port) !== saysFor(entry, is, port)) this.generations.set(port, this.nextGeneration++);
    this.bump();
    return affected;
  }

  /** The port's current generation (undefined: no source names it). */
  generationOf(port: string): number | undefined {
    return this.generations.get(port);
  }

  /** The source document is gone: its bindings are no longer desired. */
  delete(sourceId: string): Set<string> {
    const previous = this.entries.get(sourceId);
    if (!previous) return new Set();
    this.entries.delete(sourceId);
    for (const port of previous.lastValid?.map((b) => b.port) ?? []) this.accepted.delete(`${sourceId}\0${port}`);
    const ports = new Set(portsOf(previous));
    for (const port of ports) this.generations.set(port, this.nextGeneration++);
    this.bump();
    return ports;
  }

  sourceIds(prefix = ''): string[] {
    return [...this.entries.keys()].filter((id) => id.startsWith(prefix));
  }

  get(sourceId: string): SourceEntry | undefined {
    return this.entries.get(sourceId);
  }

  view(): ReferenceView {
    this.cached ??= this.compute();
    return this.cached;
  }

  private bump(): void {
    this.version++;
    this.cached = undefined;
  }

  private compute(): ReferenceView {
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
      const desired: DesiredBinding = {
        spec,
        source: win.source,
        shadowed: list.slice(1).map((c) => c.source),
        generation: this.generations.get(spec.port) ?? 0,
        documentKind: this.entries.get(win.source)?.documentKind ?? 'PortBinding',
      };
      if (conflict) desired.conflict = conflict;
      const problems = this.entries.get(win.source)?.invalidPorts.get(spec.port);
      if (problems) desired.invalid = { source: win.source, problems };
      bindings.set(spec.port, desired);
      if (!conflict) {
        for (const bridge of [spec.sharedBridge, spec.ovsPort?.bridge]) {
          if (bridge) bridgeUsers.set(bridge, [...(bridgeUsers.get(bridge) ?? []), spec.port]);
        }
      }
    }
    const invalidOnly = new Map<string, { source: string; problems: Problem[]; generation: number }>();
    const invalidSources = new Map<string, Problem[]>();
    for (const entry of this.entries.values()) {
      if (!entry.problems) continue;
      invalidSources.set(entry.id, entry.problems);
      for (const [port, problems] of entry.invalidPorts) {
        if (!bindings.has(port)) invalidOnly.set(port, { source: entry.id, problems, generation: this.generations.get(port) ?? 0 });
      }
    }
    // Generations of ports no source names any more are forgotten.
    for (const port of this.generations.keys()) if (!bindings.has(port) && !invalidOnly.has(port)) this.generations.delete(port);
    const claimedNames = new Map<string, string>();
    for (const [port, desired] of bindings) {
      if (!desired.conflict) for (const name of desired.spec.exclusiveNames) claimedNames.set(name, port);
    }
    return { bindings, invalidOnly, invalidSources, bridgeUsers, claimedNames, sources: [...this.entries.values()], version: this.version };
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
  return [...new Set([...(entry.lastValid?.map((b) => b.port) ?? []), ...entry.invalidPorts.keys()])];
}

const NO_PROBLEMS: ReadonlyMap<string, Problem[]> = new Map();

const byPort = (entry: SourceEntry | undefined): Map<string, PortBinding> => new Map((entry?.lastValid ?? []).map((b) => [b.port, b]));

/** What a source says for one port (its binding and problems), comparable. */
function saysFor(entry: SourceEntry | undefined, bindings: ReadonlyMap<string, PortBinding>, port: string): string {
  if (!entry) return '';
  const binding = bindings.get(port);
  const problems = entry.invalidPorts.get(port);
  return binding || problems ? JSON.stringify([binding ?? null, problems ?? null]) : '';
}

/** A source's entry after a new parse: what stays applied and what is Invalid.
 * - valid: exactly its bindings;
 * - a list read item by item: valid items applied; a bad item with a readable
 *   port keeps that port's last valid version and is Invalid; while any bad
 *   item names no port, ports the list no longer shows are kept too (the bad
 *   item may be one of them);
 * - unreadable as a whole: everything applied before stays, all Invalid. */
function nextEntry(id: string, previous: SourceEntry | undefined, result: ParseResult): SourceEntry {
  if (result.ok) {
    return { id, lastValid: result.bindings, problems: undefined, invalidPorts: NO_PROBLEMS, documentKind: result.documentKind ?? 'PortBinding' };
  }
  const before = new Map((previous?.lastValid ?? []).map((b) => [b.port, b]));
  if (!result.items) {
    const invalidPorts = new Map<string, Problem[]>();
    for (const port of [...before.keys(), ...result.ports]) invalidPorts.set(port, result.problems);
    return { id, lastValid: previous?.lastValid, problems: result.problems, invalidPorts, ...(previous?.documentKind ? { documentKind: previous.documentKind } : {}) };
  }
  const applied = new Map<string, PortBinding>();
  const invalidPorts = new Map<string, Problem[]>();
  let unattributed = false;
  for (const item of result.items) {
    if (item.ok) applied.set(item.binding.port, item.binding);
    else if (item.port === undefined) unattributed = true;
    else {
      invalidPorts.set(item.port, [...(invalidPorts.get(item.port) ?? []), ...item.problems]);
      const last = before.get(item.port);
      if (last && !applied.has(item.port)) applied.set(item.port, last);
    }
  }
  if (unattributed) for (const [port, binding] of before) if (!applied.has(port)) applied.set(port, binding);
  const lastValid = applied.size > 0 || previous?.lastValid ? [...applied.values()] : undefined;
  return { id, lastValid, problems: result.problems, invalidPorts, documentKind: 'PortBindingList' };
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
