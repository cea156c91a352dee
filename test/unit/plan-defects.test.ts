// Issue 17's planner defects, each reproduced on the model host (vifd's real
// lines and OVSDB operations against the kernel's rules). Each failed before
// its fix.
import { describe, expect, it } from 'vitest';
import { defaultDeviceName } from '../../src/desired/names.js';
import { DesiredStore } from '../../src/desired/store.js';
import { linkKey } from '../../src/model/work-key.js';
import { keysForLinkNames } from '../../src/plan/event-keys.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { ModelHost } from '../support/model-host.js';
import { keysNow, runRound, type Driver } from '../support/rounds.js';
import { PORTS, storeOf, type BindingCase } from '../property/cases.js';

const P0 = PORTS[0]!;
const P1 = PORTS[1]!;
const b = (port: number, kind: BindingCase['kind'], extra: Partial<BindingCase> = {}): BindingCase => ({ port, kind, tap: 0, bridge: 0, mtu: 0, mode: 0, ...extra });

function driver(bindings: BindingCase[]): Driver {
  const host = new ModelHost();
  host.ovsdb.addBridge('br-int');
  host.kernel.add({ name: 'brL0', kind: 'bridge', up: true });
  return { host, store: storeOf(bindings), adoptable: new Set(), associated: new Set() };
}

async function converge(d: Driver): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const r = await runRound(d, await keysNow(d));
    expect([...r.applied.failures.values()].flat().map((e) => e.message)).toEqual([]);
    if (r.plan.linkActions.length === 0 && !r.plan.ovsChanges) return;
  }
}

describe('issue 17 planner defects', () => {
  it('removing a hybrid binding keeps its qbr while an operator device is enslaved, says so, and removes it once empty', async () => {
    const d = driver([b(0, 'ovs-hybrid')]);
    await converge(d);
    const qbr = defaultDeviceName('qbr', P0);
    d.host.kernel.add({ name: 'opX', kind: 'dummy', master: qbr, up: true });
    d.store = new DesiredStore();
    const r = await runRound(d, await keysNow(d));
    expect(d.host.kernel.links.get('opX')?.master).toBe(qbr); // not released
    expect(d.host.kernel.links.has(defaultDeviceName('tap', P0))).toBe(false);
    const again = await runRound(d, await keysNow(d));
    expect(again.plan.outcomes.get(P0)).toMatchObject({ state: 'blocked', message: expect.stringContaining(`bridge ${qbr} kept: it holds devices vifd does not own (opX)`) });
    expect(r.plan.linkActions.some((a) => a.op === 'delete-link' && a.name === qbr)).toBe(false);
    // The operator takes the device out: the event reaches the bridge's key, and it goes.
    const last = (await d.host.snapshot()).links;
    d.host.kernel.links.get('opX')!.master = undefined;
    expect([...keysForLinkNames(['opX'], d.store.view(), last, DEFAULT_OWNERSHIP, d.adoptable)]).toEqual([P0]);
    await runRound(d, [P0]);
    expect(d.host.kernel.links.has(qbr)).toBe(false);
  });

  it('a shared bridge holding an operator device is kept the same way when a binding wants its name for a tap', async () => {
    const qbr2 = defaultDeviceName('qbr', PORTS[2]!);
    const d = driver([b(0, 'bridge', { bridge: 3 })]); // shared bridge named like port 2's qbr
    await converge(d);
    d.host.kernel.add({ name: 'opX', kind: 'dummy', master: qbr2, up: true });
    d.store = new DesiredStore();
    d.store.set('f', { ok: true, bindings: [{ apiVersion: 'vifd/v1', kind: 'PortBinding', port: P1, mac: 'fa:16:3e:00:01:00', vif: { type: 'bridge', bridge: 'brL0', tap: qbr2 } }] });
    await runRound(d, await keysNow(d));
    const r = await runRound(d, await keysNow(d));
    expect(d.host.kernel.links.get('opX')?.master).toBe(qbr2);
    expect(r.plan.outcomes.get(P1)).toMatchObject({ state: 'blocked', message: expect.stringContaining('kept') });
  });

  it('plain OVS with its tap named like its own hybrid qvo converges when switched to hybrid', async () => {
    const qvo = defaultDeviceName('qvo', P0);
    const d = driver([b(0, 'ovs', { tap: 4 })]); // tap named like its qvo
    await converge(d);
    expect(d.host.kernel.links.get(qvo)?.kind).toBe('tap');
    d.store = storeOf([b(0, 'ovs-hybrid')]);
    const r = await runRound(d, await keysNow(d));
    expect([...r.applied.failures.values()].flat().map((e) => e.message)).toEqual([]);
    expect(d.host.kernel.links.get(qvo)).toMatchObject({ kind: 'veth', link: defaultDeviceName('qvb', P0) });
    // The OVS port on the recreated qvo is added back in the next round (main's rule for recreated devices).
    const readd = await runRound(d, await keysNow(d));
    expect([...readd.applied.failures.values()].flat().map((e) => e.message)).toEqual([]);
    expect(d.host.ovsdb.snapshot().interfaces.get(qvo)?.externalIds['vifd-port']).toBe(P0);
    const check = await runRound(d, await keysNow(d));
    expect(check.plan.linkActions).toEqual([]);
    expect(check.plan.outcomes.get(P0)?.state).toBe('converged');
  });

  it('a bridge name held by a device vifd deletes in the same round is not Conflict', async () => {
    const qbr1 = defaultDeviceName('qbr', P1);
    const d = driver([b(1, 'ovs-hybrid')]);
    await converge(d);
    // Port 1 goes; port 0 plugs into a shared bridge by port 1's qbr name.
    d.store = new DesiredStore();
    d.store.set('f', { ok: true, bindings: [{ apiVersion: 'vifd/v1', kind: 'PortBinding', port: P0, mac: 'fa:16:3e:00:00:00', vif: { type: 'bridge', bridge: qbr1 } }] });
    for (const order of [[P0, P1], [P1, P0]]) {
      const twin: Driver = { ...d, host: d.host.clone(), adoptable: new Set(d.adoptable) };
      const r = await runRound(twin, order);
      expect(r.plan.outcomes.get(P0)?.state).toBe('changing');
      expect([...r.applied.failures.values()].flat().map((e) => e.message)).toEqual([]);
      expect(twin.host.kernel.links.get(qbr1)?.alias).toBe('vifd:bridge');
    }
  });

  it('the doomed-group bulk delete does not take a desired device a killed run left in that group', async () => {
    const d = driver([b(0, 'bridge'), b(1, 'bridge')]);
    await converge(d);
    const tap0 = defaultDeviceName('tap', P0);
    const before = d.host.kernel.links.get(tap0)!.ifindex;
    d.host.kernel.links.get(tap0)!.group = DEFAULT_OWNERSHIP.doomedGroup; // killed mid-delete
    d.store = storeOf([b(0, 'bridge')]); // port 1 goes: this round deletes something
    await runRound(d, [P1]); // port 0's key is not even in the round
    expect(d.host.kernel.links.get(tap0)?.ifindex).toBe(before); // the same device, not deleted (and recreated)
    expect(d.host.kernel.links.get(tap0)?.group).toBe(DEFAULT_OWNERSHIP.group);
    expect(d.host.kernel.links.has(defaultDeviceName('tap', P1))).toBe(false);
  });

  it('a plain OVS binding whose tap name is an operator device is Conflict and that device never becomes an OVS port', async () => {
    const d = driver([b(0, 'ovs', { tap: 6 })]); // tap named brL0: the operator's bridge
    const r = await runRound(d, await keysNow(d));
    expect(r.plan.outcomes.get(P0)?.state).toBe('conflict');
    expect(r.plan.ovsChanges?.addPorts ?? []).toEqual([]);
    expect(d.host.ovsdb.snapshot().interfaces.has('brL0')).toBe(false);
  });

  it('an event on a foreign device in a vifd bridge names the bridge key', () => {
    const host = new ModelHost();
    host.kernel.add({ name: 'brV', kind: 'bridge', group: DEFAULT_OWNERSHIP.group, alias: 'vifd:bridge' });
    host.kernel.add({ name: 'opX', kind: 'dummy', master: 'brV' });
    const keys = keysForLinkNames(['opX'], new DesiredStore().view(), host.kernel.snapshot(), DEFAULT_OWNERSHIP, new Set());
    expect([...keys]).toEqual([linkKey('brV')]);
  });
});
