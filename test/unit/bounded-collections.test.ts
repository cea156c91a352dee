// A long run of desired changes (adds of ports never seen before, MTU and
// bridge changes, removes, taps deleted behind vifd's back) through the
// controller (reconciler + work queue + status book), the desired store, the
// watch hub and the metrics, on an in-memory host. After every burst, once
// the queue is idle, every long-lived collection must be bounded by what
// exists now (the ports desired), never by the changes made so far; and once
// everything is removed, they must be empty.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ActuationResult } from '../../src/host/links/link-actuator.js';
import { VifdMetrics } from '../../src/api/vifd-metrics.js';
import { WatchHub } from '../../src/api/watch-hub.js';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { DesiredStore } from '../../src/desired/store.js';
import type { Host, HostSnapshot } from '../../src/host/host.js';
import type { ObservedLink } from '../../src/observed/links.js';
import type { LinkAction } from '../../src/model/actions.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import type { BindingStatus } from '../../src/model/status.js';
import type { IntentJournal } from '../../src/state/intent-journal.js';
import type { StatusStore } from '../../src/state/status-store.js';

/** The kernel's links as the reconciler's actions leave them (bridges, taps). */
class MemoryHost implements Host {
  readonly links = new Map<string, ObservedLink>();
  private nextIndex = 10;
  applied = 0;

  async snapshot(): Promise<HostSnapshot> {
    await Promise.resolve();
    return { links: { links: new Map([...this.links].map(([name, link]) => [name, { ...link }])) }, ovs: undefined, takenAt: Date.now() };
  }

  async applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult> {
    await Promise.resolve();
    for (const a of actions) {
      this.applied++;
      switch (a.op) {
        case 'create-bridge':
          this.add(a.name, 'bridge', { group: a.group, alias: a.alias });
          break;
        case 'create-tap':
          this.add(a.name, 'tap', { persistent: true });
          break;
        case 'set-link': {
          const link = this.links.get(a.name);
          if (!link) break;
          const s = a.settings;
          if (s.group !== undefined) link.group = s.group;
          if (s.alias !== undefined) link.alias = s.alias;
          if (s.mac !== undefined) link.mac = s.mac;
          if (s.mtu !== undefined) link.mtu = s.mtu;
          if (s.master !== undefined) link.master = s.master ?? undefined;
          if (s.up !== undefined) link.up = s.up;
          break;
        }
        case 'delete-link':
          this.delete(a.name);
          break;
        default:
          throw new Error(`MemoryHost does not do ${a.op}`);
      }
    }
    return { failures: new Map(), linesRun: actions.length, batches: 1, skipped: [], notCreated: [] };
  }

  applyOvs(): never {
    throw new Error('no OVS here');
  }

  /** As `ip link del` does: slaves of a deleted bridge lose their master. */
  delete(name: string): void {
    this.links.delete(name);
    for (const link of this.links.values()) if (link.master === name) link.master = undefined;
  }

  private add(name: string, kind: 'bridge' | 'tap', extra: Partial<ObservedLink>): void {
    this.links.set(name, {
      ifindex: this.nextIndex++, name, kind, rawKind: kind === 'tap' ? 'tun' : kind, mtu: 1500, mac: `02:00:00:00:${(this.nextIndex >> 8) & 0xff}:${this.nextIndex & 0xff}`,
      up: false, master: undefined, group: 0, alias: undefined, link: undefined, macvtapMode: undefined, persistent: undefined, ...extra,
    });
  }
}

/** mulberry32: the same sequence every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BRIDGES = ['brq-bound-a', 'brq-bound-b'];
const ORPHANS = 25;
const MTUS = [1400, 1450, 1500];
const portOf = (n: number) => `${n.toString(16).padStart(8, '0')}-b0b0-4000-8000-${n.toString(16).padStart(12, '0')}`;
const macOf = (n: number) => `fa:16:3e:${[(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

function doc(n: number, mtu: number, bridge: string) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port: portOf(n), mac: macOf(n), mtu, vif: { type: 'bridge', bridge } };
}

function controller(wired: boolean) {
  const host = new MemoryHost();
  const store = new DesiredStore();
  const written = new Map<string, BindingStatus>();
  // The status files, in memory (what the reconciler and its status book call).
  const statusStore = {
    discard: async () => undefined,
    writeMany: async (statuses: readonly BindingStatus[]) => void statuses.forEach((s) => written.set(s.port, s)),
    remove: async (port: string) => void written.delete(port),
    readAll: async () => ({ statuses: [], corrupt: [] }),
    writeSummary: async () => undefined,
  } as unknown as StatusStore;
  const journal = { record: async () => undefined, clear: async () => undefined, pending: async () => ({ names: new Set<string>(), corrupt: false }) };
  const reconciler = new Reconciler({
    host, store, statusStore, journal: journal as unknown as IntentJournal, ownership: DEFAULT_OWNERSHIP,
    logger: pino({ level: 'silent' }), options: { resyncMs: 3_600_000, baseDelayMs: 1, maxDelayMs: 20 },
  });
  // Wired as src/api/api.ts wires them (or not: the reconciler alone, with no listener).
  const hub = new WatchHub(() => reconciler.statusList(), 300);
  const metrics = new VifdMetrics({ statuses: () => reconciler.statusList(), queueDepth: () => reconciler.queue.depth, hostCommands: () => ({ ip: host.applied }), watchClients: () => hub.clients, revision: () => hub.revision });
  if (wired) {
    reconciler.onStatus((port, status) => {
      hub.publish(port, status);
      metrics.onStatus(port, status);
    });
    reconciler.onRound((info) => metrics.onRound(info));
  }
  return { host, store, written, reconciler, hub, metrics };
}

describe('long-lived collections stay bounded by what exists', () => {
  it.each([
    ['with the API\'s watch hub and metrics listening', true],
    ['with no listener', false],
  ])('over thousands of adds, changes, removes of distinct ports and taps deleted behind vifd\'s back, %s', { timeout: 120_000 }, async (_name, wired) => {
    const { host, store, written, reconciler, hub, metrics } = controller(wired);
    // Devices a previous run left for ports it has no status of (a lost
    // state directory): vifd removes them, and must forget them entirely.
    for (let i = 0; i < ORPHANS; i++) {
      host.links.set(`tapgone${i}`, {
        ifindex: 1000 + i, name: `tapgone${i}`, kind: 'tap', rawKind: 'tun', mtu: 1500, mac: undefined, up: true, master: undefined,
        group: DEFAULT_OWNERSHIP.group, alias: `vifd:port:${portOf(0xf00000 + i)}`, link: undefined, macvtapMode: undefined, persistent: true,
      });
    }
    await reconciler.restore();
    await reconciler.startResync();
    const random = prng(19);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const SLOTS = 40;
    const slots: Array<{ n: number; mtu: number; bridge: string } | undefined> = new Array(SLOTS).fill(undefined);
    let nextN = 1;
    const counts = { adds: 0, changes: 0, removes: 0, tapDeletes: 0 };
    const write = (n: number, mtu: number, bridge: string) => reconciler.desiredChanged(store.set(`file:b-${n}.json`, parseDocumentValue(doc(n, mtu, bridge))));

    let existedBefore = ORPHANS; // the orphan taps' ports, until the first round removes them
    let addsBefore = 0;
    const checkBounded = async (label: string) => {
      await reconciler.whenIdle();
      const desired = slots.filter((s) => s !== undefined);
      // A key can be left backing off by a transient round (say a bridge
      // deleted and needed in one burst): idle is then not yet converged.
      for (let i = 0; i < 100 && desired.some((s) => reconciler.statusList().find((st) => st.port === portOf(s!.n))?.phase !== 'Ready'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        await reconciler.whenIdle();
      }
      const sizes = reconciler.internalSizes();
      const exist = desired.length;
      const keysThatMayExist = exist + BRIDGES.length; // a port each, plus vifd's shared bridges (link: keys)
      const where = `${label} (${exist} desired; sizes ${JSON.stringify(sizes)})`;
      expect(sizes['book.statuses'], where).toBe(exist);
      expect(sizes['book.attempts'], where).toBeLessThanOrEqual(exist);
      expect(sizes['book.staged'], where).toBe(0);
      for (const k of ['queue.dirty', 'queue.inFlight', 'queue.failures', 'queue.notBefore', 'queue.readded']) expect(sizes[k], where).toBeLessThanOrEqual(keysThatMayExist);
      expect(sizes['queue.inFlight'], where).toBe(0);
      expect(sizes['adoptable'], where).toBe(0);
      expect(sizes['heldKeys'], where).toBe(0);
      expect(sizes['detached'], where).toBeLessThanOrEqual(2 * exist);
      expect(sizes['queue.rounds'], where).toBe(0);
      // The last round's note: at most the ports that existed at some moment of this burst.
      expect(sizes['roundNoteActed'], where).toBeLessThanOrEqual(existedBefore + counts.adds - addsBefore + BRIDGES.length);
      existedBefore = exist;
      addsBefore = counts.adds;
      expect(hub.historySize, where).toBeLessThanOrEqual(300);
      expect(hub.knownPorts, where).toBe(wired ? exist : 0);
      const m = metrics.sizes();
      expect(m.phases, where).toBe(wired ? exist : 0);
      expect(m.brokenSince, where).toBeLessThanOrEqual(exist);
      expect(m.enteredReady, where).toBe(0);
      expect(m.linkEvents, where).toBeLessThanOrEqual(4096);
      expect(store.sourceIds().length, where).toBe(exist);
      expect(store.view().bindings.size, where).toBe(exist);
      expect(written.size, where).toBe(exist);
      // And the host is what is desired: one tap per binding, in its bridge, with its MTU.
      const taps = [...host.links.values()].filter((l) => l.kind === 'tap');
      expect(taps.length, where).toBe(exist);
      for (const s of desired) {
        const tap = reconciler.statusList().find((st) => st.port === portOf(s.n));
        expect(tap?.phase, where).toBe('Ready');
      }
      for (const link of taps) {
        const s = desired.find((d) => link.alias === `vifd:port:${portOf(d.n)}`);
        expect(s, `${link.name} belongs to a desired port`).toBeDefined();
        expect([link.master, link.mtu], link.name).toEqual([s!.bridge, s!.mtu]);
      }
    };

    for (let burst = 0; burst < 150; burst++) {
      for (let op = 0; op < 20; op++) {
        const i = Math.floor(random() * SLOTS);
        const slot = slots[i];
        if (!slot) {
          const s = { n: nextN++, mtu: pick(MTUS), bridge: pick(BRIDGES) };
          slots[i] = s;
          write(s.n, s.mtu, s.bridge);
          counts.adds++;
        } else if (random() < 0.6) {
          if (random() < 0.3) slot.bridge = pick(BRIDGES.filter((b) => b !== slot.bridge));
          else slot.mtu = pick(MTUS.filter((m) => m !== slot.mtu));
          write(slot.n, slot.mtu, slot.bridge);
          counts.changes++;
        } else {
          reconciler.desiredChanged(store.delete(`file:b-${slot.n}.json`));
          slots[i] = undefined;
          counts.removes++;
        }
        if (op % 10 === 9) {
          // A tap deleted behind vifd's back; the link monitor reports it.
          const victims = [...host.links.values()].filter((l) => l.kind === 'tap');
          if (victims.length > 0) {
            const victim = pick(victims);
            host.delete(victim.name);
            metrics.linkEvent();
            reconciler.linksChanged([victim.name]);
            counts.tapDeletes++;
          }
        }
        if (op % 5 === 4) await new Promise((r) => setImmediate(r)); // let some rounds interleave with the changes
      }
      await checkBounded(`after burst ${burst}`);
    }
    // Enough churn that anything kept per change would show: thousands of
    // changes and over a thousand distinct ports seen, against 40 slots.
    expect(counts.adds).toBeGreaterThan(800);
    expect(counts.changes + counts.removes).toBeGreaterThan(1500);
    if (wired) expect(hub.revision - hub.oldestResumable).toBe(300); // full, and no more

    // Everything removed: nothing is left anywhere.
    for (let i = 0; i < SLOTS; i++) {
      const slot = slots[i];
      if (!slot) continue;
      reconciler.desiredChanged(store.delete(`file:b-${slot.n}.json`));
      slots[i] = undefined;
    }
    await checkBounded('all removed');
    const sizes = reconciler.internalSizes();
    for (const [name, size] of Object.entries(sizes)) if (!['roundListeners', 'book.listeners', 'roundNoteActed'].includes(name)) expect(size, name).toBe(0);
    expect(hub.knownPorts).toBe(0);
    expect(metrics.sizes()).toMatchObject({ phases: 0, brokenSince: 0, enteredReady: 0 });
    expect([...host.links.values()].filter((l) => l.group === DEFAULT_OWNERSHIP.group).map((l) => l.name)).toEqual([]);
    await reconciler.stop();
  });
});
