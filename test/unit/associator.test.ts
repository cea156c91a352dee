// The associator's state machine with a fake driver, store and clock; plus
// how the planner and phaseOf turn association states into phases.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AssociationDriver, QueryResult } from '../../src/host/portprofile/driver.js';
import { Associator } from '../../src/reconcile/associator.js';
import { DesiredStore } from '../../src/desired/store.js';
import type { ObservedLink } from '../../src/observed/links.js';
import type { AssociationRequest, AssociationView } from '../../src/model/association.js';
import { DEFAULT_OWNERSHIP, portAlias } from '../../src/model/ownership.js';
import { phaseOf } from '../../src/plan/phase.js';
import { planLinks } from '../../src/plan/plan-links.js';
import type { AssociationRecord } from '../../src/state/association-store.js';
import { LldpadNotRunningError, PortProfileNetlinkError, PortProfileUnsupportedError, VdpTimeoutError } from '../../src/host/portprofile/errors.js';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const VSI = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';

function qbg(port: string, extra: Record<string, unknown> = {}, profile: Record<string, unknown> = {}) {
  return {
    apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:01',
    vif: { type: '802.1qbg', device: 'uplink0', profile: { managerId: 5, typeId: 1234, typeIdVersion: 1, instanceId: VSI, ...profile } },
    ...extra,
  };
}
function qbh(port: string) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:02', vif: { type: '802.1qbh', device: 'uplink1', profile: { profileId: 'finance' } } };
}

function link(name: string, fields: Partial<ObservedLink> = {}): ObservedLink {
  return {
    ifindex: 100, name, kind: 'veth', rawKind: 'veth', mtu: 1500, mac: undefined, up: true, master: undefined,
    group: 0, alias: undefined, link: undefined, macvtapMode: undefined, persistent: undefined, ...fields,
  };
}
const uplinks = { links: new Map([['uplink0', link('uplink0')], ['uplink1', link('uplink1')]]) };

/** A driver whose calls wait until the test settles them. */
class FakeDriver implements AssociationDriver {
  calls: string[] = [];
  pending: Array<{ op: string; resolve: () => void; reject: (e: unknown) => void }> = [];
  queryAnswer: QueryResult = { held: true };
  private call(op: string, r: AssociationRequest): Promise<void> {
    this.calls.push(`${op} ${r.kind} ${r.uplink} ${JSON.stringify(r.profile)}`);
    return new Promise((resolve, reject) => this.pending.push({ op, resolve, reject }));
  }
  associate(r: AssociationRequest) { return this.call('associate', r); }
  disassociate(r: AssociationRequest) { return this.call('disassociate', r); }
  async query(r: AssociationRequest) { this.calls.push(`query ${r.kind} ${r.uplink}`); return this.queryAnswer; }
  next(): { op: string; resolve: () => void; reject: (e: unknown) => void } {
    const p = this.pending.shift();
    if (!p) throw new Error(`no pending driver call (calls: ${this.calls.join(', ')})`);
    return p;
  }
}

class MemoryStore {
  records: AssociationRecord[] = [];
  writes = 0;
  async read() { return { records: this.records, corrupt: false }; }
  async write(records: Iterable<AssociationRecord>) { this.records = [...records]; this.writes++; }
}

function setup(docs: Record<string, unknown>, records: AssociationRecord[] = []) {
  const driver = new FakeDriver();
  const store = new MemoryStore();
  store.records = records;
  let now = 1_000_000;
  const settled: string[] = [];
  const associator = new Associator({ driver, store, logger: pino({ level: 'silent' }), now: () => now, baseDelayMs: 1000, maxDelayMs: 8000 });
  associator.onSettled((ports) => settled.push(...ports));
  const desired = new DesiredStore();
  for (const [id, doc] of Object.entries(docs)) desired.set(id, { ok: true, bindings: [doc as never] });
  return {
    driver, store, associator, desired, settled,
    advance: (ms: number) => { now += ms; },
    view: (port: string) => associator.view(port, desired.view()),
    sync: (...ports: string[]) => associator.sync(ports, desired.view(), uplinks),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Associator', () => {
  it('associates outside the round, then hands the port back and persists it', async () => {
    const t = setup({ a: qbg(P1) });
    expect(t.view(P1)).toMatchObject({ kind: '802.1qbg', state: 'pending' });
    t.sync(P1);
    expect(t.view(P1)).toMatchObject({ state: 'associating', message: 'associating 802.1Qbg VSI with the switch via lldpad on uplink0' });
    t.sync(P1); // a second round meanwhile starts nothing
    await tick();
    expect(t.driver.calls).toHaveLength(1);
    t.driver.next().resolve();
    await t.associator.idle();
    expect(t.view(P1)).toMatchObject({ state: 'associated', attempts: 0 });
    expect(t.settled).toEqual([P1]);
    expect(t.store.records).toEqual([expect.objectContaining({ port: P1, state: 'associated', request: expect.objectContaining({ kind: '802.1qbg', uplink: 'uplink0', instance: VSI }) })]);
    t.sync(P1);
    expect(t.driver.pending).toHaveLength(0);
  });

  it('records an association in flight, so a crash mid-request can undo it', async () => {
    const t = setup({ a: qbg(P1) });
    t.sync(P1);
    await tick();
    await tick();
    expect(t.store.records).toEqual([expect.objectContaining({ port: P1, state: 'associating' })]);
    t.driver.next().resolve();
    await t.associator.idle();
  });

  it('a failure says which step failed and what was answered, and is retried with capped exponential backoff', async () => {
    const t = setup({ a: qbh(P2) });
    const busy = new PortProfileNetlinkError({ uplink: 'uplink1', errno: 16, errnoName: 'EBUSY' });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      t.sync(P2);
      await tick();
      if (attempt > 1) expect(t.view(P2)).toMatchObject({ state: 'associating', message: expect.stringContaining(`attempt ${attempt} in progress`) });
      t.driver.next().reject(busy);
      await t.associator.idle();
      const view = t.view(P2)!;
      expect(view).toMatchObject({ state: 'failed', attempts: attempt, code: 'PORT_PROFILE_NETLINK_ERROR' });
      expect(view.message).toMatch(/^802\.1Qbh association on uplink1 failed: .*EBUSY/u);
      const delay = Number(/retrying in ([\d.]+) s/u.exec(view.message)![1]) * 1000;
      delays.push(delay);
      // Not before the backoff is over.
      t.advance(delay - 1);
      t.sync(P2);
      expect(t.driver.pending).toHaveLength(0);
      t.advance(1);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    // Refused by the kernel: nothing was ever held, so nothing is persisted or undone.
    expect(t.store.records).toEqual([]);
  });

  it('an uplink without port-profile support (EOPNOTSUPP) waits the longest before trying again', async () => {
    const t = setup({ a: qbh(P2) });
    t.sync(P2);
    await tick();
    t.driver.next().reject(new PortProfileUnsupportedError({ uplink: 'uplink1', errno: 95 }));
    await t.associator.idle();
    const view = t.view(P2)!;
    expect(view).toMatchObject({ state: 'failed', attempts: 1, code: 'PORT_PROFILE_UNSUPPORTED' });
    expect(view.message).toMatch(/the uplink driver does not support port profiles \(kernel: EOPNOTSUPP.*retrying in 8 s$/u);
  });

  it('a timed-out VDP request may be held by lldpad: it is recorded and undone on unplug', async () => {
    const t = setup({ a: qbg(P1) });
    t.sync(P1);
    await tick();
    t.driver.next().reject(new VdpTimeoutError({ uplink: 'uplink0', command: ['vdptool'], exitCode: 0, answer: 'Ack not received from bridge', waitedMs: 15000 }));
    await t.associator.idle();
    expect(t.view(P1)!.message).toMatch(/^802\.1Qbg association on uplink0 failed: no VDP answer from the switch on uplink0 after 15000 ms \(lldpad: Ack not received from bridge\); attempt 1/u);
    expect(t.store.records).toEqual([expect.objectContaining({ port: P1, state: 'associating' })]);
    t.desired.delete('a');
    t.sync(P1);
    await tick();
    expect(t.driver.calls.at(-1)).toMatch(/^disassociate 802\.1qbg uplink0/u);
  });

  it('unplug disassociates (best effort: a failure is logged and the port forgotten anyway)', async () => {
    const t = setup({ a: qbg(P1) });
    t.sync(P1);
    await tick();
    t.driver.next().resolve();
    await t.associator.idle();
    t.desired.delete('a');
    t.sync(P1);
    expect(t.view(P1)).toMatchObject({ state: 'disassociating' });
    await tick();
    t.driver.next().reject(new Error('lldpad went away'));
    await t.associator.idle();
    expect(t.view(P1)).toBeUndefined();
    expect(t.associator.ports()).toEqual([]);
    expect(t.store.records).toEqual([]);
    expect(t.settled.at(-1)).toBe(P1);
  });

  it('a changed profile disassociates the old one first, and the port is not associated meanwhile', async () => {
    const t = setup({ a: qbg(P1) });
    t.sync(P1);
    await tick();
    t.driver.next().resolve();
    await t.associator.idle();
    t.desired.set('a', { ok: true, bindings: [qbg(P1, {}, { typeId: 99 }) as never] });
    expect(t.view(P1)).toMatchObject({ state: 'pending' });
    t.sync(P1);
    await tick();
    const undo = t.driver.next();
    expect(undo.op).toBe('disassociate');
    expect(t.driver.calls.at(-1)).toContain('"typeId":1234');
    undo.resolve();
    await tick();
    await tick();
    expect(t.driver.calls.at(-1)).toMatch(/^associate .*"typeId":99/u);
    t.driver.next().resolve();
    await t.associator.idle();
    expect(t.view(P1)).toMatchObject({ state: 'associated' });
  });

  it('no uplink, no association', () => {
    const t = setup({ a: qbg(P1) });
    t.associator.sync([P1], t.desired.view(), { links: new Map() });
    expect(t.driver.calls).toEqual([]);
    expect(t.view(P1)).toMatchObject({ state: 'pending' });
  });

  it('re-check: a lost association is redone at once; a failed check keeps it', async () => {
    const t = setup({ a: qbg(P1) });
    t.sync(P1);
    await tick();
    t.driver.next().resolve();
    await t.associator.idle();
    t.driver.queryAnswer = { held: 'unknown', reason: 'vdptool crashed' };
    await t.associator.recheck();
    expect(t.view(P1)).toMatchObject({ state: 'associated' });
    t.driver.queryAnswer = { held: false, reason: 'lldpad no longer knows the VSI on uplink0 (lldpad restarted?)' };
    t.settled.length = 0;
    await t.associator.recheck();
    expect(t.view(P1)).toMatchObject({ state: 'failed', code: 'ASSOCIATION_LOST', message: expect.stringContaining('lost: lldpad no longer knows the VSI') });
    expect(t.settled).toEqual([P1]);
    t.sync(P1);
    await tick();
    expect(t.driver.next().op).toBe('associate');
  });

  it('after a restart: held associations count as held while re-checked; undesired ones are disassociated', async () => {
    const request = (port: string, uplink: string): AssociationRequest => ({
      kind: '802.1qbg', uplink, mac: 'fa:16:3e:00:00:01', instance: VSI, profile: { managerId: 5, typeId: 1234, typeIdVersion: 1, instanceId: VSI },
    });
    const t = setup({ a: qbg(P1) }, [
      { port: P1, request: request(P1, 'uplink0'), state: 'associated', at: 'x' },
      { port: P2, request: request(P2, 'uplink0'), state: 'associating', at: 'x' },
    ]);
    await t.associator.restore();
    expect(t.view(P1)).toMatchObject({ state: 'associated' });
    await t.associator.idle();
    expect(t.driver.calls).toEqual(['query 802.1qbg uplink0']);
    expect(t.associator.ports().sort()).toEqual([P1, P2]);
    t.sync(P1, P2);
    await tick();
    expect(t.driver.calls.at(-1)).toMatch(/^disassociate/u);
    t.driver.next().resolve();
    await t.associator.idle();
    expect(t.associator.ports()).toEqual([P1]);
    expect(t.store.records.map((r) => r.port)).toEqual([P1]);
  });

  it('after a restart: an association the query finds gone is redone', async () => {
    const t = setup({ a: qbh(P2) }, [
      { port: P2, request: { kind: '802.1qbh', uplink: 'uplink1', mac: 'fa:16:3e:00:00:02', instance: P2, profile: { profileId: 'finance' } }, state: 'associated', at: 'x' },
    ]);
    t.driver.queryAnswer = { held: false, reason: 'the driver of uplink1 reports no port profile' };
    await t.associator.restore();
    await t.associator.idle();
    expect(t.view(P2)).toMatchObject({ state: 'failed', code: 'ASSOCIATION_LOST' });
    t.sync(P2);
    await tick();
    expect(t.driver.next().op).toBe('associate');
  });
});

describe('planner and phase for port-profile bindings', () => {
  const MVT = 'mvt11111111-11';
  const macvtap = (up: boolean) => link(MVT, {
    kind: 'macvtap', rawKind: 'macvtap', link: 'uplink0', macvtapMode: 'vepa', mac: 'fa:16:3e:00:00:01', up, group: DEFAULT_OWNERSHIP.group, alias: portAlias(P1),
  });
  function planP1(observedUp: boolean, associated: boolean, view?: AssociationView, desiredDoc = true) {
    const store = new DesiredStore();
    if (desiredDoc) store.set('a', { ok: true, bindings: [qbg(P1) as never] });
    return planLinks({
      keys: [P1], desired: store.view(), links: { links: new Map([['uplink0', link('uplink0')], [MVT, macvtap(observedUp)]]) },
      ownership: DEFAULT_OWNERSHIP, associated: new Set(associated ? [P1] : []), associations: new Map(view ? [[P1, view]] : []),
    });
  }
  const decide = (outcome: ReturnType<typeof planP1>['outcomes'] extends Map<string, infer O> ? O : never, desired = true) => phaseOf({ desired, outcome, failures: [] });

  it('associating: Pending, the macvtap stays down', () => {
    const p = planP1(false, false, { kind: '802.1qbg', state: 'associating', message: 'associating 802.1Qbg VSI with the switch via lldpad on uplink0', attempts: 0 });
    expect(p.actions).toEqual([]);
    expect(decide(p.outcomes.get(P1)!)).toEqual({ phase: 'Pending', message: 'associating 802.1Qbg VSI with the switch via lldpad on uplink0', retry: 'done' });
  });

  it('failed (or retrying after a failure): Failed with the answer; an up macvtap is set down', () => {
    const view: AssociationView = { kind: '802.1qbg', state: 'failed', message: '802.1Qbg association on uplink0 failed: lldpad is not running', attempts: 2, code: 'LLDPAD_NOT_RUNNING' };
    const p = planP1(true, false, view);
    expect(p.actions).toEqual([expect.objectContaining({ op: 'set-link', name: MVT, settings: { up: false } })]);
    const down = planP1(false, false, view);
    expect(decide(down.outcomes.get(P1)!)).toEqual({ phase: 'Failed', message: view.message, retry: 'done' });
    const retrying = planP1(false, false, { ...view, state: 'associating' });
    expect(decide(retrying.outcomes.get(P1)!).phase).toBe('Failed');
  });

  it('associated: the macvtap goes up, then Ready', () => {
    const view: AssociationView = { kind: '802.1qbg', state: 'associated', message: 'holds', attempts: 0 };
    expect(planP1(false, true, view).actions).toEqual([expect.objectContaining({ op: 'set-link', name: MVT, settings: { up: true } })]);
    expect(decide(planP1(true, true, view).outcomes.get(P1)!).phase).toBe('Ready');
  });

  it('unplugged while disassociating: Removing until the associator is done', () => {
    const view: AssociationView = { kind: '802.1qbg', state: 'disassociating', message: 'disassociating 802.1Qbg on uplink0 (no longer desired)', attempts: 0 };
    const store = new DesiredStore();
    const p = planLinks({ keys: [P1], desired: store.view(), links: { links: new Map([['uplink0', link('uplink0')]]) }, ownership: DEFAULT_OWNERSHIP, associations: new Map([[P1, view]]) });
    expect(decide(p.outcomes.get(P1)!, false)).toMatchObject({ phase: 'Removing', retry: 'done' });
    const gone = planLinks({ keys: [P1], desired: store.view(), links: { links: new Map() }, ownership: DEFAULT_OWNERSHIP });
    expect(decide(gone.outcomes.get(P1)!, false).phase).toBe('Gone');
  });
});

describe('Associator while lldpad is not running', () => {
  it('sends one probe at a time instead of one attempt per binding, and lets all go once lldpad answers', async () => {
    const t = setup({ a: qbg(P1), b: qbg(P2, { mac: 'fa:16:3e:00:00:02' }, { instanceId: '7a1b2c3d-0000-4000-8000-000000000002' }) });
    const down = () => new LldpadNotRunningError({ uplink: 'uplink0', command: ['vdptool'], exitCode: 255, stderr: 'connect: Connection refused' });
    // Nothing has reached lldpad yet (start-up): one probe first.
    t.sync(P1, P2);
    await tick();
    expect(t.driver.pending).toHaveLength(1);
    expect(t.view(P2)).toMatchObject({ state: 'associating', message: expect.stringContaining('waits for the first request to reach lldpad') });
    t.driver.next().reject(down());
    await t.associator.idle();
    expect(t.view(P1)).toMatchObject({ state: 'failed', code: 'LLDPAD_NOT_RUNNING' });
    // After the shared wait, one binding probes; the other waits for it.
    t.advance(10_000);
    t.sync(P1, P2);
    await tick();
    expect(t.driver.pending).toHaveLength(1);
    const waiting = [P1, P2].find((p) => t.view(p)!.message.includes('waits: lldpad is not running'));
    expect(waiting).toBeDefined();
    t.sync(P1, P2);
    await tick();
    expect(t.driver.pending).toHaveLength(1);
    // lldpad is back: the probe associates, and the waiting binding is handed back at once.
    t.settled.length = 0;
    t.driver.next().resolve();
    await t.associator.idle();
    expect(t.settled).toContain(waiting);
    t.sync(P1, P2);
    await tick();
    expect(t.driver.pending).toHaveLength(1);
    t.driver.next().resolve();
    await t.associator.idle();
    expect([t.view(P1)!.state, t.view(P2)!.state]).toEqual(['associated', 'associated']);
  });
});
