// The controller in-process: the real Reconciler, WorkQueue and StatusBook
// against the model host (test/support), with vitest's fake timers. Covers
// what only the controller decides: backoff, removal holds, follow-ups,
// verification after a round, and a batch that partly fails.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultDeviceName } from '../../src/desired/names.js';
import { DesiredStore } from '../../src/desired/store.js';
import { DEFAULT_OWNERSHIP, portAlias } from '../../src/model/ownership.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { ModelHost } from '../support/model-host.js';
import { MemoryJournal, MemoryStatusStore } from '../support/fake-state.js';
import { bindingOf, PORTS, type BindingCase } from '../property/cases.js';

const b = (port: number, extra: Partial<BindingCase> = {}): BindingCase => ({ port, kind: 'bridge', tap: 0, bridge: 0, mtu: 0, mode: 0, ...extra });
const tapOf = (p: number) => defaultDeviceName('tap', PORTS[p]!);

interface World {
  host: ModelHost;
  store: DesiredStore;
  statuses: MemoryStatusStore;
  journal: MemoryJournal;
  reconciler: Reconciler;
}

function world(options: { snapshotsCoverEvents?: boolean } = {}): World {
  const host = new ModelHost();
  host.kernel.add({ name: 'brL0', kind: 'bridge', up: true }); // an operator's bridge
  const store = new DesiredStore();
  const statuses = new MemoryStatusStore();
  const journal = new MemoryJournal();
  const reconciler = new Reconciler({
    host, store, statusStore: statuses.asStore(), journal: journal.asJournal(), ownership: DEFAULT_OWNERSHIP,
    logger: pino({ level: 'silent' }), options: { resyncMs: 60_000, baseDelayMs: 200, maxDelayMs: 5_000, ...options },
  });
  return { host, store, statuses, journal, reconciler };
}

function desire(w: World, ...cases: BindingCase[]): void {
  const ports = new Set<string>();
  cases.forEach((c) => {
    const id = `file:${c.port}`;
    for (const p of w.store.set(id, { ok: true, bindings: [bindingOf(c)] })) ports.add(p);
  });
  w.reconciler.desiredChanged(ports);
}

function undesire(w: World, port: number): void {
  w.reconciler.desiredChanged(w.store.delete(`file:${port}`));
}

const phase = (w: World, p: number) => w.statuses.statuses.get(PORTS[p]!)?.phase;
const settle = (ms = 50) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the reconciler on a model host', () => {
  it('plugs a binding and reports it Ready', async () => {
    const w = world();
    await w.reconciler.restore();
    await w.reconciler.startResync();
    desire(w, b(0));
    await settle();
    expect(phase(w, 0)).toBe('Ready');
    expect(w.host.kernel.links.get(tapOf(0))).toMatchObject({ master: 'brL0', up: true, group: DEFAULT_OWNERSHIP.group, alias: portAlias(PORTS[0]!) });
    expect(w.journal.names).toEqual([]); // marked: nothing left to adopt
    await w.reconciler.stop();
  });

  it('a batch that partly fails: the failing binding backs off (growing gaps), the other is Ready at once', async () => {
    const w = world();
    await w.reconciler.restore();
    await w.reconciler.startResync();
    const attemptsAt: number[] = [];
    w.host.kernel.failLine = (line) => {
      if (line !== `tuntap add dev ${tapOf(1)} mode tap`) return undefined;
      attemptsAt.push(Date.now());
      return 'ioctl(TUNSETIFF): Device or resource busy';
    };
    desire(w, b(0), b(1));
    await settle(3_000);
    expect(phase(w, 0)).toBe('Ready');
    expect(phase(w, 1)).toBe('Failed');
    expect(w.statuses.statuses.get(PORTS[1]!)?.message).toContain('Device or resource busy');
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(gaps[0]!).toBeGreaterThanOrEqual(180); // base 200 ms, jitter ±10 %
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]! * 1.5);
    // The failed creation's name is not left in the journal for adoption.
    expect(w.journal.names).not.toContain(tapOf(1));
    // The fault clears: the next retry plugs it, and the backoff resets.
    w.host.kernel.failLine = undefined;
    await settle(6_000);
    expect(phase(w, 1)).toBe('Ready');
    await w.reconciler.stop();
  });

  it('holds removals until every source has loaded, and while a hold is taken', async () => {
    const w = world();
    // vifd's tap of a port nobody desires (yet): a source has not loaded.
    w.host.kernel.add({ name: tapOf(2), kind: 'tap', group: DEFAULT_OWNERSHIP.group, alias: portAlias(PORTS[2]!), master: 'brL0', up: true });
    await w.reconciler.restore();
    w.reconciler.linksChanged([tapOf(2)]);
    await settle(500);
    expect(w.host.kernel.links.has(tapOf(2))).toBe(true);
    await w.reconciler.startResync(); // releases the start-up hold
    await settle();
    expect(w.host.kernel.links.has(tapOf(2))).toBe(false);

    desire(w, b(0));
    await settle();
    w.reconciler.holdRemovals('etcd');
    undesire(w, 0);
    await settle(1_000);
    expect(w.host.kernel.links.has(tapOf(0))).toBe(true);
    w.reconciler.releaseRemovals('etcd');
    await settle();
    expect(w.host.kernel.links.has(tapOf(0))).toBe(false);
    expect(phase(w, 0)).toBeUndefined(); // Gone: its status is removed
    await w.reconciler.stop();
  });

  it('removing the last user of a shared bridge vifd made deletes tap and bridge in one round (follow-up planned inline)', async () => {
    const w = world();
    await w.reconciler.restore();
    await w.reconciler.startResync();
    desire(w, b(0, { bridge: 1 })); // brL1: vifd makes it
    await settle();
    expect(w.host.kernel.links.get('brL1')?.alias).toBe('vifd:bridge');
    const batches = w.host.kernel.batches;
    undesire(w, 0);
    await settle();
    expect(w.host.kernel.links.has('brL1')).toBe(false);
    expect(w.host.kernel.links.has(tapOf(0))).toBe(false);
    expect(w.host.kernel.batches - batches).toBe(1);
    await w.reconciler.stop();
  });

  it('keeps a shared bridge of vifd that holds an operator device, and removes it when the device leaves', async () => {
    const w = world();
    await w.reconciler.restore();
    await w.reconciler.startResync();
    desire(w, b(0, { bridge: 1 }));
    await settle();
    w.host.kernel.add({ name: 'opX', kind: 'dummy', master: 'brL1', up: true });
    undesire(w, 0);
    await settle(1_000);
    expect(w.host.kernel.links.get('opX')?.master).toBe('brL1');
    w.host.kernel.links.get('opX')!.master = undefined;
    w.reconciler.linksChanged(['opX']); // the kernel's event
    await settle();
    expect(w.host.kernel.links.has('brL1')).toBe(false);
    await w.reconciler.stop();
  });

  it('a shared bridge vifd made for a hypervisor-owned tap goes once that tap leaves it, not at a resync', async () => {
    const w = world();
    await w.reconciler.restore();
    await w.reconciler.startResync();
    const binding = bindingOf(b(0, { bridge: 1 }));
    const owned = { ...binding, vif: { ...binding.vif, tapOwner: 'hypervisor' } } as typeof binding;
    w.reconciler.desiredChanged(w.store.set('file:0', { ok: true, bindings: [owned] }));
    await settle();
    expect(w.host.kernel.links.get('brL1')?.alias).toBe('vifd:bridge');
    // libvirt makes the tap and puts it in the bridge.
    w.host.kernel.add({ name: tapOf(0), kind: 'tap', master: 'brL1', up: true });
    w.reconciler.linksChanged([tapOf(0)]);
    await settle();
    expect(phase(w, 0)).toBe('Ready');
    undesire(w, 0);
    await settle(1_000);
    expect(w.host.kernel.links.get(tapOf(0))?.master).toBe('brL1'); // the hypervisor's: left alone
    expect(w.host.kernel.links.has('brL1')).toBe(true); // it still holds that tap
    // The VM goes: libvirt deletes its tap.
    w.host.kernel.links.delete(tapOf(0));
    w.reconciler.linksChanged([tapOf(0)]);
    await settle();
    expect(w.host.kernel.links.has('brL1')).toBe(false);
    await w.reconciler.stop();
  });

  it('verifies after each round: a change the host undoes at once is Failed and retried, not Ready', async () => {
    const w = world();
    await w.reconciler.restore();
    await w.reconciler.startResync();
    let undo = true;
    w.host.kernel.afterBatch = (k) => {
      const tap = k.links.get(tapOf(0));
      if (undo && tap) tap.up = false; // something downs it right after vifd's batch
    };
    desire(w, b(0));
    await settle();
    expect(phase(w, 0)).toBe('Failed');
    expect(w.statuses.statuses.get(PORTS[0]!)?.message).toContain('did not converge');
    undo = false;
    await settle(2_000);
    expect(phase(w, 0)).toBe('Ready');
    await w.reconciler.stop();
  });

  describe("a round's own echoes (kernel events its batch caused)", () => {
    /** Plugs one binding while every batch's devices come back as kernel events, as they do. */
    async function plugWithEchoes(snapshotsCoverEvents: boolean, foreign?: (w: World) => void) {
      const w = world({ snapshotsCoverEvents });
      await w.reconciler.restore();
      await w.reconciler.startResync();
      await settle();
      w.host.kernel.afterBatch = (k) => {
        foreign?.(w);
        w.reconciler.linksChanged([...k.links.keys()]);
      };
      const before = w.reconciler.summary()['rounds']!;
      desire(w, b(0));
      await settle(1_000);
      return { w, rounds: w.reconciler.summary()['rounds']! - before };
    }

    it('are dropped when snapshots cover events: one round, no second round that finds nothing to do', async () => {
      const covered = await plugWithEchoes(true);
      expect(phase(covered.w, 0)).toBe('Ready');
      expect(covered.rounds).toBe(1);
      expect(covered.w.reconciler.internalSizes()['ownEventsDropped']).toBeGreaterThan(0);
      await covered.w.reconciler.stop();
      // Without that guarantee every echo wakes the key again.
      const dumped = await plugWithEchoes(false);
      expect(phase(dumped.w, 0)).toBe('Ready');
      expect(dumped.rounds).toBeGreaterThan(1);
      expect(dumped.w.reconciler.internalSizes()['ownEventsDropped']).toBe(0);
      await dumped.w.reconciler.stop();
    });

    it('a foreign change inside the window is not lost: the verifying snapshot sees it', async () => {
      let once = true;
      const { w } = await plugWithEchoes(true, (world) => {
        const tap = world.host.kernel.links.get(tapOf(0));
        if (once && tap) {
          once = false;
          tap.up = false; // someone downs it right after vifd's batch
        }
      });
      await settle(2_000);
      expect(phase(w, 0)).toBe('Ready');
      expect(w.host.kernel.links.get(tapOf(0))?.up).toBe(true);
      await w.reconciler.stop();
    });
  });

  describe('a tap a hypervisor holds, deleted behind vifd (Detached, never a quiet Ready)', () => {
    async function attachedWorld() {
      const w = world();
      await w.reconciler.restore();
      await w.reconciler.startResync();
      desire(w, b(0));
      await settle();
      // A VM opens it: a single-queue tap reports no queue count, only its carrier.
      w.host.kernel.links.get(tapOf(0))!.carrier = true;
      w.reconciler.linksChanged([tapOf(0)]);
      await settle();
      expect(w.statuses.statuses.get(PORTS[0]!)?.attached).toBe(true);
      return w;
    }
    const message = (w: World) => w.statuses.statuses.get(PORTS[0]!)?.message ?? '';

    it('deleted at once: recreated, Detached until a hypervisor attaches to the new tap', async () => {
      const w = await attachedWorld();
      w.host.kernel.links.delete(tapOf(0));
      w.reconciler.linksChanged([tapOf(0)]);
      await settle();
      expect(phase(w, 0)).toBe('Detached');
      expect(message(w)).toMatch(/deleted behind vifd's back: the tap \S+ was recreated/u);
      expect(w.host.kernel.links.get(tapOf(0))?.master).toBe('brL0');
      w.host.kernel.links.get(tapOf(0))!.carrier = true;
      w.reconciler.linksChanged([tapOf(0)]);
      await settle();
      expect(phase(w, 0)).toBe('Ready');
      await w.reconciler.stop();
    });

    it('deleted in two steps with a round between (down, then gone before its batch runs): still Detached', async () => {
      // The kernel reports a delete as a "down" and then a "gone"; a round woken
      // by the first plans `set up`, and the tap is gone by the time it runs.
      const w = await attachedWorld();
      w.host.kernel.beforeBatch = (k) => {
        w.host.kernel.beforeBatch = undefined;
        k.links.delete(tapOf(0));
      };
      w.host.kernel.links.get(tapOf(0))!.up = false;
      w.reconciler.linksChanged([tapOf(0)]);
      await settle(2_000);
      expect(phase(w, 0)).toBe('Detached');
      expect(message(w)).toMatch(/deleted behind vifd's back/u);
      expect(w.host.kernel.links.get(tapOf(0))).toMatchObject({ master: 'brL0', up: true });
      await w.reconciler.stop();
    });

    it('a multi-queue tap reports its queues: deleted in two steps, still Detached', async () => {
      const w = await attachedWorld();
      const tap = w.host.kernel.links.get(tapOf(0))!;
      tap.tunQueues = 1;
      w.host.kernel.beforeBatch = (k) => {
        w.host.kernel.beforeBatch = undefined;
        k.links.delete(tapOf(0));
      };
      tap.up = false;
      w.reconciler.linksChanged([tapOf(0)]);
      await settle(2_000);
      expect(phase(w, 0)).toBe('Detached');
      await w.reconciler.stop();
    });

    it('released first (the VM stopped), then deleted: recreated and Ready, no Detached', async () => {
      const w = await attachedWorld();
      w.host.kernel.links.get(tapOf(0))!.carrier = false;
      w.reconciler.linksChanged([tapOf(0)]);
      await settle();
      expect(w.statuses.statuses.get(PORTS[0]!)?.attached).toBe(false);
      w.host.kernel.links.delete(tapOf(0));
      w.reconciler.linksChanged([tapOf(0)]);
      await settle(2_000);
      expect(phase(w, 0)).toBe('Ready');
      await w.reconciler.stop();
    });
  });

  describe('a tap deleted under a round (the kernel says "down", then "gone")', () => {
    // The round woken by the "down" plans `set up`; the tap is gone by the time
    // its batch runs, and the "gone" arrives during the round.
    /** `times`: how many of its `link set` batches find the tap deleted under them. */
    async function deletedUnderRound(snapshotsCoverEvents: boolean, times = 1) {
      const w = world({ snapshotsCoverEvents });
      await w.reconciler.restore();
      await w.reconciler.startResync();
      desire(w, b(0));
      await settle();
      expect(phase(w, 0)).toBe('Ready');
      const seen: string[] = [];
      const messages: string[] = [];
      w.reconciler.onStatus((_port, status) => {
        seen.push(status?.phase ?? 'gone');
        messages.push(status?.message ?? '');
      });
      let left = times;
      const batches: string[][] = [];
      w.host.kernel.beforeBatch = (k, lines) => {
        batches.push([...lines]);
        if (!lines[0]!.startsWith('link set') || left-- <= 0) return;
        k.links.delete(tapOf(0));
        w.reconciler.linksChanged([tapOf(0)]);
      };
      w.host.kernel.links.get(tapOf(0))!.up = false;
      w.reconciler.linksChanged([tapOf(0)]);
      return { w, seen, messages, batches };
    }

    it.each([true, false])('snapshots cover events: %s. Recreated at once (no backoff), and no Failed in between', async (covered) => {
      const { w, seen, batches } = await deletedUnderRound(covered);
      await settle(10); // less than the 200 ms backoff of a failure
      expect(w.host.kernel.links.get(tapOf(0))).toMatchObject({ master: 'brL0', up: true });
      // The doomed `set up`, then the recreate (the model runs `tuntap add` as a batch of its own).
      expect(batches.map((lines) => lines[0]!.split(' ').slice(0, 2).join(' '))).toEqual(['link set', 'tuntap add', 'link set']);
      expect(seen).not.toContain('Failed');
      expect(phase(w, 0)).toBe('Ready');
      await w.reconciler.stop();
    });

    it('deleted again under the retry: that round is Failed (the pass is given once in a row)', async () => {
      const { w, seen, messages } = await deletedUnderRound(true, 2);
      await settle(10);
      expect(seen[0]).toBe('Failed');
      expect(messages[0]).toMatch(/Cannot find device|No such device/u);
      await settle(2_000);
      expect(phase(w, 0)).toBe('Ready');
      await w.reconciler.stop();
    });
  });

  describe('a periodic resync', () => {
    async function settledWorld(snapshotsCoverEvents: boolean) {
      const w = world({ snapshotsCoverEvents });
      await w.reconciler.restore();
      await w.reconciler.startResync();
      desire(w, ...[0, 1, 2].map((p) => b(p)));
      await settle(1_000);
      return w;
    }

    it('with an event-fed host: costs what is unsettled, not a round over every key', async () => {
      const w = await settledWorld(true);
      const rounds = w.reconciler.summary()['rounds']!;
      await w.reconciler.resync();
      await settle(1_000);
      expect(w.reconciler.summary()['rounds']! - rounds).toBe(0);
      // Something unsettled is looked at: a binding whose tap is held by a stranger is Conflict.
      w.host.kernel.add({ name: tapOf(3), kind: 'tap' });
      desire(w, b(3));
      await settle(1_000);
      expect(phase(w, 3)).toBe('Conflict');
      const before = w.reconciler.summary()['rounds']!;
      await w.reconciler.resync();
      await settle(1_000);
      expect(w.reconciler.summary()['rounds']! - before).toBe(1);
      await w.reconciler.stop();
    });

    it('without that guarantee: every key gets a look', async () => {
      const w = await settledWorld(false);
      const rounds = w.reconciler.summary()['rounds']!;
      await w.reconciler.resync();
      await settle(1_000);
      expect(w.reconciler.summary()['rounds']! - rounds).toBeGreaterThan(0);
      await w.reconciler.stop();
    });
  });
});
