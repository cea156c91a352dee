// The desired state as the union of all sources (directory files, API, etcd).
// Each source document keeps its last valid version; conflicts are resolved
// by acceptance order: whoever was accepted first keeps a port or a name
// (claims.ts). Incremental: a change costs the size of the document that
// changed (and of the ports whose standing it moves), never a rebuild of the
// whole view. Pure: no I/O.
import type { ParseResult } from './parse.js';
import type { Problem } from './problem.js';
import type { DocumentKind, PortBinding } from './schema.js';
import { ClaimBook, type Claimant } from './claims.js';
import type { BindingSpec } from './spec.js';
import { latest, specOf, portsOf, byPort, bindingIn, saysFor, nextEntry, type SourceEntry } from './source-entry.js';
import { VersionedMap } from '../lib/versioned-map.js';
import { VersionedSetMap, type SetIndex } from '../lib/versioned-set-map.js';

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

export interface InvalidOnly {
  source: string;
  problems: Problem[];
  generation: number;
}

/** What the planner and the API read. Each view is a snapshot: it does not
 * change when the store does (a round plans and records one version), and
 * taking one costs O(1), as does every change of the store. */
export interface DesiredView {
  /** Every port that is desired (winners), including those in Conflict. */
  bindings: ReadonlyMap<string, DesiredBinding>;
  /** Ports named only by invalid documents: nothing applied, reported Invalid. */
  invalidOnly: ReadonlyMap<string, InvalidOnly>;
  /** Every source whose latest version has problems, by source id (a file
   * that names no readable port is reported by its name). */
  invalidSources: ReadonlyMap<string, Problem[]>;
  /** Bridge name → ports (not in conflict) that plug into it, Linux or OVS. */
  bridgeUsers: SetIndex;
  /** Device name → the port (not in conflict) that claims it for itself. */
  claimedNames: ReadonlyMap<string, string>;
  version: number;
}

/** What a port shows in the view's name indexes. */
interface Published {
  exclusiveNames: readonly string[];
  bridges: readonly string[];
}

export class DesiredStore {
  private readonly entries = new Map<string, SourceEntry>();
  /** Source → its place in the order sources were added (a later one's
   * problems speak for a port named only by invalid documents). */
  private readonly entryOrder = new Map<string, number>();
  private nextEntryOrder = 1;
  /** port → source → acceptance sequence number (the lowest wins). */
  private readonly candidates = new Map<string, Map<string, number>>();
  /** port → invalid source → its entry order. */
  private readonly invalidBy = new Map<string, Map<string, number>>();
  private nextSeq = 1;
  private version = 0;
  /** port → generation. Numbers grow across restarts too (they start from
   * the clock, in microseconds), so a waiter holding a generation from
   * before a restart never mistakes an older state for its answer. */
  private readonly generations = new Map<string, number>();
  private nextGeneration = Date.now() * 1000;
  private readonly claims = new ClaimBook();
  private readonly published = new Map<string, Published>();
  private readonly bindings = new VersionedMap<string, DesiredBinding>();
  private readonly invalidOnly = new VersionedMap<string, InvalidOnly>();
  private readonly invalidSources = new VersionedMap<string, Problem[]>();
  private readonly bridgeUsers = new VersionedSetMap();
  private readonly claimedNames = new VersionedMap<string, string>();
  private cached: DesiredView | undefined;
  /** The work the last change did, for tests: view entries rebuilt. */
  lastRebuilt = 0;

  /** The work the last change did, for tests: bindings whose claims were re-checked. */
  get lastChecked(): number {
    return this.claims.checked;
  }

  /** Records a source document's latest parse. Returns the ports it affects. */
  set(sourceId: string, result: ParseResult): Set<string> {
    const previous = this.entries.get(sourceId);
    const affected = new Set<string>(portsOf(previous));
    const entry = nextEntry(sourceId, previous, result);
    const before = byPort(previous);
    const now = byPort(entry);
    for (const port of before.keys()) if (!now.has(port)) this.candidates.get(port)?.delete(sourceId);
    for (const port of now.keys()) {
      let sources = this.candidates.get(port);
      if (!sources) this.candidates.set(port, (sources = new Map()));
      if (!sources.has(sourceId)) sources.set(sourceId, this.nextSeq++);
    }
    if (!previous) this.entryOrder.set(sourceId, this.nextEntryOrder++);
    this.entries.set(sourceId, entry);
    for (const port of portsOf(entry)) affected.add(port);
    for (const port of affected) if (saysFor(previous, before, port) !== saysFor(entry, now, port)) this.generations.set(port, this.nextGeneration++);
    this.apply(sourceId, previous, entry, affected);
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
    this.entryOrder.delete(sourceId);
    for (const binding of previous.lastValid ?? []) this.candidates.get(binding.port)?.delete(sourceId);
    const ports = new Set(portsOf(previous));
    for (const port of ports) this.generations.set(port, this.nextGeneration++);
    this.apply(sourceId, previous, undefined, ports);
    return ports;
  }

  /** Entries held by the store's collections (tests: nothing is left once no source is). */
  sizes(): Record<string, number> {
    return {
      entries: this.entries.size, entryOrder: this.entryOrder.size, candidates: this.candidates.size, invalidBy: this.invalidBy.size, generations: this.generations.size, published: this.published.size,
      bindings: this.bindings.size, invalidOnly: this.invalidOnly.size, invalidSources: this.invalidSources.size, claimedNames: this.claimedNames.size,
      ...Object.fromEntries(Object.entries(this.claims.sizes()).map(([k, v]) => [`claims.${k}`, v])),
    };
  }

  sourceIds(prefix = ''): string[] {
    return [...this.entries.keys()].filter((id) => id.startsWith(prefix));
  }

  get(sourceId: string): SourceEntry | undefined {
    return this.entries.get(sourceId);
  }

  view(): DesiredView {
    this.cached ??= {
      bindings: this.bindings.snapshot(),
      invalidOnly: this.invalidOnly.snapshot(),
      invalidSources: this.invalidSources.snapshot(),
      bridgeUsers: this.bridgeUsers.snapshot(),
      claimedNames: this.claimedNames.snapshot(),
      version: this.version,
    };
    return this.cached;
  }

  /** After one source changed: the winners of its ports, the conflicts they
   * settle, and the view's entries of every port whose standing moved. */
  private apply(sourceId: string, previous: SourceEntry | undefined, entry: SourceEntry | undefined, affected: ReadonlySet<string>): void {
    if (entry?.problems) this.invalidSources.set(sourceId, entry.problems);
    else this.invalidSources.delete(sourceId);
    for (const port of previous?.invalidPorts.keys() ?? []) this.invalidBy.get(port)?.delete(sourceId);
    for (const port of entry?.invalidPorts.keys() ?? []) {
      let sources = this.invalidBy.get(port);
      if (!sources) this.invalidBy.set(port, (sources = new Map()));
      sources.set(sourceId, this.entryOrder.get(sourceId)!);
    }
    const winners = new Map<string, Claimant | undefined>();
    for (const port of affected) {
      const win = this.winnerOf(port);
      if (!win) {
        winners.set(port, undefined);
        continue;
      }
      winners.set(port, { seq: win.seq, spec: specOf(bindingIn(this.entries.get(win.source)!, port)!) });
    }
    const changed = this.claims.update(winners);
    this.lastRebuilt = changed.size;
    // Names a port gives up are released before any port takes them.
    const next = new Map<string, Published | undefined>();
    for (const port of changed) {
      next.set(port, this.rebuild(port, winners.get(port)));
      const was = this.published.get(port);
      for (const name of was?.exclusiveNames ?? []) if (this.claimedNames.get(name) === port) this.claimedNames.delete(name);
      for (const bridge of was?.bridges ?? []) this.bridgeUsers.remove(bridge, port);
    }
    for (const [port, now] of next) {
      if (!now) {
        this.published.delete(port);
        continue;
      }
      this.published.set(port, now);
      for (const name of now.exclusiveNames) this.claimedNames.set(name, port);
      for (const bridge of now.bridges) this.bridgeUsers.add(bridge, port);
    }
    for (const port of changed) {
      const sources = this.invalidBy.get(port);
      if (sources?.size === 0) this.invalidBy.delete(port);
      const invalidSource = this.bindings.has(port) ? undefined : latest(sources);
      const problems = invalidSource === undefined ? undefined : this.entries.get(invalidSource)?.invalidPorts.get(port);
      if (invalidSource !== undefined && problems) this.invalidOnly.set(port, { source: invalidSource, problems, generation: this.generations.get(port) ?? 0 });
      else this.invalidOnly.delete(port);
      // Generations of ports no source names any more are forgotten.
      if (!this.bindings.has(port) && !this.invalidOnly.has(port)) this.generations.delete(port);
      if (this.candidates.get(port)?.size === 0) this.candidates.delete(port);
    }
    this.version++;
    this.cached = undefined;
  }

  /** The port's entry in the view (undefined: not desired), and what it
   * should show in the name indexes. */
  private rebuild(port: string, known: Claimant | undefined): Published | undefined {
    const win = this.winnerOf(port);
    if (!win) {
      this.bindings.delete(port);
      return undefined;
    }
    const entry = this.entries.get(win.source)!;
    const spec = known?.spec ?? this.bindings.get(port)!.spec;
    const others = [...this.candidates.get(port)!].filter(([source]) => source !== win.source).sort((a, b) => a[1] - b[1]);
    const desired: DesiredBinding = {
      spec,
      source: win.source,
      shadowed: others.map(([source]) => source),
      generation: this.generations.get(port) ?? 0,
      documentKind: entry.documentKind ?? 'PortBinding',
    };
    const conflict = this.claims.conflictOf(port);
    if (conflict) desired.conflict = conflict;
    const problems = entry.invalidPorts.get(port);
    if (problems) desired.invalid = { source: win.source, problems };
    this.bindings.set(port, desired);
    if (conflict) return { exclusiveNames: [], bridges: [] };
    const bridges = [spec.sharedBridge, spec.ovsPort?.bridge].filter((b): b is string => b !== undefined);
    return { exclusiveNames: spec.exclusiveNames, bridges };
  }

  private winnerOf(port: string): { source: string; seq: number } | undefined {
    let win: { source: string; seq: number } | undefined;
    for (const [source, seq] of this.candidates.get(port) ?? []) if (!win || seq < win.seq) win = { source, seq };
    return win;
  }
}
