// Who keeps a device name or an uplink when two bindings want it: the one
// accepted first (lowest acceptance number). Kept incrementally, so one
// changed binding costs what it touches, not a pass over every binding.
//
// The rule, as a pass in acceptance order would apply it:
// - a binding's names are checked against the names kept by the bindings
//   before it: an exclusive name (tap, veth, macvtap) against anyone's, a
//   shared one (a bridge) against exclusive ones only; a binding that fails
//   (or names one device twice) keeps no names;
// - a binding that kept its names then wants its uplink: a passthrough
//   macvtap needs it alone. (A binding that loses only its uplink still
//   keeps its names.)
// A binding's outcome depends only on bindings before it that share a name
// or an uplink. So a change re-checks, in acceptance order, the changed
// bindings and, whenever one's outcome changes, the later ones sharing one
// of its names. Sharing a bridge does not make bindings depend on each other
// (only a device named like the bridge does), so a br-int with 10,000 ports
// costs nothing here. The one walk over many bindings: when the first
// binding on an uplink goes or changes, the others on it are checked again.
import type { BindingSpec } from './spec.js';

export interface Claimant {
  seq: number;
  spec: BindingSpec;
}

interface NameOutcome {
  seq: number;
  spec: BindingSpec;
  /** Kept its names (holds them against later bindings). */
  kept: boolean;
  message?: string;
}

interface Uplink {
  lower: string;
  passthru: boolean;
}

/** name → ports; an entry goes with its last port. */
class SetIndex {
  private readonly map = new Map<string, Set<string>>();
  add(name: string, port: string): void {
    let set = this.map.get(name);
    if (!set) this.map.set(name, (set = new Set()));
    set.add(port);
  }
  remove(name: string, port: string): void {
    const set = this.map.get(name);
    if (set?.delete(port) && set.size === 0) this.map.delete(name);
  }
  get(name: string): ReadonlySet<string> {
    return this.map.get(name) ?? EMPTY;
  }
  sizes(label: string): Record<string, number> {
    return { [label]: this.map.size };
  }
}
const EMPTY: ReadonlySet<string> = new Set();

/** A min-heap of (seq, port) for the re-check order. */
class Agenda {
  private readonly heap: Array<[number, string]> = [];
  private readonly queued = new Map<string, number>();
  push(seq: number, port: string): void {
    const at = this.queued.get(port);
    if (at !== undefined && at <= seq) return;
    this.queued.set(port, seq);
    const h = this.heap;
    h.push([seq, port]);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (h[parent]![0] <= h[i]![0]) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }
  pop(): [number, string] | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && h[l]![0] < h[m]![0]) m = l;
          if (r < h.length && h[r]![0] < h[m]![0]) m = r;
          if (m === i) break;
          [h[m], h[i]] = [h[i]!, h[m]!];
          i = m;
        }
      }
      if (this.queued.get(top[1]) !== top[0]) continue; // superseded by an earlier entry
      this.queued.delete(top[1]);
      return top;
    }
    return undefined;
  }
}

const uplinkOf = (spec: BindingSpec): Uplink | undefined => {
  // A spec has at most one macvtap (802.1Qbg/Qbh bindings).
  const link = spec.links.find((l) => l.kind === 'macvtap');
  return link?.kind === 'macvtap' ? { lower: link.lower, passthru: link.mode === 'passthrough' } : undefined;
};

export class ClaimBook {
  private readonly winners = new Map<string, Claimant>();
  /** Every winner's names by kind, kept or not: who may depend on whom. */
  private readonly wantExclusive = new SetIndex();
  private readonly wantShared = new SetIndex();
  /** Names held by bindings that kept theirs. */
  private readonly keptExclusive = new SetIndex();
  private readonly keptShared = new SetIndex();
  private readonly names = new Map<string, NameOutcome>();
  /** Uplink → the bindings (that kept their names) with a macvtap on it. */
  private readonly onUplink = new Map<string, Map<string, Uplink>>();
  private readonly uplinkOfPort = new Map<string, Uplink>();
  /** Uplink → its first binding (the lowest seq). */
  private readonly firstOnUplink = new Map<string, string>();
  private readonly conflicts = new Map<string, string>();
  /** Bindings re-checked by the last update (for tests: the work done). */
  checked = 0;

  /** Entries held (tests: nothing is left once no binding is). */
  sizes(): Record<string, number> {
    return { winners: this.winners.size, names: this.names.size, onUplink: this.onUplink.size, uplinkOfPort: this.uplinkOfPort.size, firstOnUplink: this.firstOnUplink.size, conflicts: this.conflicts.size, ...this.wantExclusive.sizes('wantExclusive'), ...this.wantShared.sizes('wantShared'), ...this.keptExclusive.sizes('keptExclusive'), ...this.keptShared.sizes('keptShared') };
  }

  conflictOf(port: string): string | undefined {
    return this.conflicts.get(port);
  }

  /** Sets ports' winning bindings (undefined: the port is gone). Returns
   * every port whose conflict may have changed, the given ones included. */
  update(changes: ReadonlyMap<string, Claimant | undefined>): Set<string> {
    this.checked = 0;
    const touched = new Set<string>();
    const agenda = new Agenda();
    for (const [port, next] of changes) {
      const before = this.winners.get(port);
      touched.add(port);
      if (before === next) continue;
      if (before) this.want(port, before.spec, false);
      if (next) {
        this.winners.set(port, next);
        this.want(port, next.spec, true);
      } else this.winners.delete(port);
      agenda.push(Math.min(before?.seq ?? Infinity, next?.seq ?? Infinity, this.names.get(port)?.seq ?? Infinity), port);
    }
    const uplinkDirty = new Set<string>();
    for (let item = agenda.pop(); item; item = agenda.pop()) {
      const [at, port] = item;
      const winner = this.winners.get(port);
      const held = this.names.get(port);
      if (held && (!winner || held.seq !== winner.seq || held.spec !== winner.spec)) {
        // Its old claims go first: later bindings may have waited for them.
        this.names.delete(port);
        if (held.kept) {
          this.keep(port, held.spec, false);
          this.wakeDependents(port, held.spec, at, agenda);
        }
        uplinkDirty.add(port);
      }
      if (!winner) continue;
      if (winner.seq > at) {
        agenda.push(winner.seq, port);
        continue;
      }
      this.checked++;
      touched.add(port);
      const outcome = this.checkNames(port, winner);
      const previous = this.names.get(port);
      if (previous && previous.kept === outcome.kept && previous.message === outcome.message) continue;
      if (previous?.kept) this.keep(port, previous.spec, false);
      this.names.set(port, outcome);
      if (outcome.kept) this.keep(port, winner.spec, true);
      if ((previous?.kept ?? false) !== outcome.kept) this.wakeDependents(port, winner.spec, at, agenda);
      uplinkDirty.add(port);
    }
    for (const port of this.updateUplinks(uplinkDirty)) touched.add(port);
    for (const port of touched) {
      const message = this.names.get(port)?.message ?? this.uplinkConflict(port);
      if (message) this.conflicts.set(port, message);
      else this.conflicts.delete(port);
    }
    return touched;
  }

  private want(port: string, spec: BindingSpec, add: boolean): void {
    for (const name of spec.exclusiveNames) (add ? this.wantExclusive.add(name, port) : this.wantExclusive.remove(name, port));
    for (const name of spec.sharedNames) (add ? this.wantShared.add(name, port) : this.wantShared.remove(name, port));
  }

  private keep(port: string, spec: BindingSpec, add: boolean): void {
    for (const name of spec.exclusiveNames) (add ? this.keptExclusive.add(name, port) : this.keptExclusive.remove(name, port));
    for (const name of spec.sharedNames) (add ? this.keptShared.add(name, port) : this.keptShared.remove(name, port));
  }

  /** Later bindings whose outcome may follow this one's: an exclusive name
   * matters to everyone wanting it, a shared one only to exclusive wants. */
  private wakeDependents(port: string, spec: BindingSpec, at: number, agenda: Agenda): void {
    const wake = (others: ReadonlySet<string>) => {
      for (const other of others) {
        const seq = this.winners.get(other)?.seq;
        if (other !== port && seq !== undefined && seq > at) agenda.push(seq, other);
      }
    };
    for (const name of spec.exclusiveNames) {
      wake(this.wantExclusive.get(name));
      wake(this.wantShared.get(name));
    }
    for (const name of spec.sharedNames) wake(this.wantExclusive.get(name));
  }

  /** The first binding before `seq` among those holding a name. */
  private firstBefore(holders: ReadonlySet<string>, seq: number): string | undefined {
    let first: string | undefined;
    let firstSeq = seq;
    for (const port of holders) {
      const s = this.names.get(port)?.seq;
      if (s !== undefined && s < firstSeq) {
        first = port;
        firstSeq = s;
      }
    }
    return first;
  }

  private checkNames(port: string, { seq, spec }: Claimant): NameOutcome {
    const fail = (message: string): NameOutcome => ({ seq, spec, kept: false, message });
    // One name for two of its own devices (a hybrid binding whose tap is named
    // like its qvo, a tap named like its bridge) can never be plugged.
    const own = new Set<string>();
    for (const name of spec.exclusiveNames) {
      if (own.has(name)) return fail(`device name ${name} is used twice by this binding`);
      own.add(name);
    }
    for (const name of spec.sharedNames) if (own.has(name)) return fail(`bridge name ${name} is also one of this binding's own devices`);
    for (const name of spec.exclusiveNames) {
      const holder = this.firstBefore(this.keptExclusive.get(name), seq) ?? this.firstBefore(this.keptShared.get(name), seq);
      if (holder !== undefined && holder !== port) return fail(`device name ${name} is already claimed by port ${holder}`);
    }
    for (const name of spec.sharedNames) {
      const holder = this.firstBefore(this.keptExclusive.get(name), seq);
      if (holder !== undefined) return fail(`bridge name ${name} is already claimed as a device of port ${holder}`);
    }
    return { seq, spec, kept: true };
  }

  /** Moves bindings on and off their uplinks; returns the ports to re-check. */
  private updateUplinks(dirty: ReadonlySet<string>): Set<string> {
    const recheck = new Set<string>(dirty);
    const lowers = new Set<string>();
    for (const port of dirty) {
      const before = this.uplinkOfPort.get(port);
      const outcome = this.names.get(port);
      const now = outcome?.kept ? uplinkOf(outcome.spec) : undefined;
      if (before) {
        this.onUplink.get(before.lower)?.delete(port);
        this.uplinkOfPort.delete(port);
        lowers.add(before.lower);
      }
      if (now) {
        let on = this.onUplink.get(now.lower);
        if (!on) this.onUplink.set(now.lower, (on = new Map()));
        on.set(port, now);
        this.uplinkOfPort.set(port, now);
        lowers.add(now.lower);
      }
    }
    for (const lower of lowers) {
      const on = this.onUplink.get(lower);
      const was = this.firstOnUplink.get(lower);
      let first = was !== undefined && on?.has(was) ? was : undefined;
      const seqOf = (port: string) => this.names.get(port)!.seq;
      if (first === undefined) {
        // The first one went (or none was there): the next is found by a walk.
        for (const port of on?.keys() ?? []) if (first === undefined || seqOf(port) < seqOf(first)) first = port;
      } else {
        for (const port of dirty) if (on?.has(port) && seqOf(port) < seqOf(first)) first = port;
      }
      if (first === undefined) {
        this.onUplink.delete(lower);
        this.firstOnUplink.delete(lower);
      } else this.firstOnUplink.set(lower, first);
      if (first !== was || (first !== undefined && dirty.has(first))) for (const port of on?.keys() ?? []) recheck.add(port);
    }
    return recheck;
  }

  private uplinkConflict(port: string): string | undefined {
    const mine = this.uplinkOfPort.get(port);
    if (!mine) return undefined;
    const holder = this.firstOnUplink.get(mine.lower);
    if (holder === undefined || holder === port) return undefined;
    const theirs = this.uplinkOfPort.get(holder)!;
    if (!mine.passthru && !theirs.passthru) return undefined;
    return `uplink ${mine.lower} is used by port ${holder}${theirs.passthru ? ' in passthrough mode' : ''}; a passthrough macvtap needs it alone`;
  }
}
