import { describe, expect, it } from 'vitest';
import { DesiredStore } from '../../src/desired/store.js';
import type { ObservedLink } from '../../src/observed/links.js';
import type { LinkAction } from '../../src/model/actions.js';
import { DEFAULT_OWNERSHIP, portAlias } from '../../src/model/ownership.js';
import { planLinks } from '../../src/plan/plan-links.js';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const TAP1 = 'tap11111111-11';
const TAP2 = 'tap22222222-22';
const G = DEFAULT_OWNERSHIP.group;

function binding(port: string, bridge: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: `fa:16:3e:00:00:${port.slice(0, 2)}`, vif: { type: 'bridge', bridge }, ...extra };
}

function link(name: string, fields: Partial<ObservedLink> = {}): ObservedLink {
  return {
    ifindex: 100, name, kind: 'tap', rawKind: 'tun', mtu: 1500, mac: undefined, up: true, master: undefined,
    group: 0, alias: undefined, link: undefined, macvtapMode: undefined, persistent: true, ...fields,
  };
}
const ownedBridge = (name: string, extra: Partial<ObservedLink> = {}) => link(name, { kind: 'bridge', rawKind: 'bridge', group: G, alias: 'vifd:bridge', ...extra });
const ownedTap = (name: string, port: string, extra: Partial<ObservedLink> = {}) =>
  link(name, { group: G, alias: portAlias(port), mac: `fe:16:3e:00:00:${port.slice(0, 2)}`, ...extra });

function plan(docs: Record<string, unknown>, observed: ObservedLink[], keys: string[]) {
  const store = new DesiredStore();
  for (const [id, doc] of Object.entries(docs)) {
    store.set(id, { ok: true, bindings: [doc as never] });
  }
  return planLinks({ keys, desired: store.view(), links: { links: new Map(observed.map((l) => [l.name, l])) }, ownership: DEFAULT_OWNERSHIP });
}

const ops = (actions: LinkAction[]) => actions.map((a) => `${a.op} ${a.name}${a.op === 'set-link' ? ' ' + JSON.stringify(a.settings) : ''}`);

describe('planLinks for bridge bindings', () => {
  const cases: Array<{ name: string; docs: Record<string, unknown>; observed: ObservedLink[]; keys: string[]; expected: string[]; state?: string }> = [
    {
      name: 'empty host: create bridge, tap, then configure the tap',
      docs: { a: binding(P1, 'br1', { mtu: 1450 }) },
      observed: [],
      keys: [P1],
      expected: [
        'create-bridge br1',
        `create-tap ${TAP1}`,
        `set-link ${TAP1} {"group":${G},"alias":"vifd:port:${P1}","mac":"fe:16:3e:00:00:11","mtu":1450,"master":"br1","up":true}`,
      ],
      state: 'changing',
    },
    {
      name: 'converged host: nothing to do',
      docs: { a: binding(P1, 'br1', { mtu: 1450 }) },
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { master: 'br1', mtu: 1450 })],
      keys: [P1],
      expected: [],
      state: 'converged',
    },
    {
      name: 'MTU change is made in place',
      docs: { a: binding(P1, 'br1', { mtu: 9000 }) },
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { master: 'br1', mtu: 1450 })],
      keys: [P1],
      expected: [`set-link ${TAP1} {"mtu":9000}`],
    },
    {
      name: 'bridge change moves the live tap',
      docs: { a: binding(P1, 'br2') },
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { master: 'br1' })],
      keys: [P1],
      // br1, vifd's and now unused, goes in the same batch.
      expected: ['delete-link br1', 'create-bridge br2', `set-link ${TAP1} {"master":"br2"}`],
    },
    {
      name: 'tap set down and detached is repaired',
      docs: { a: binding(P1, 'br1') },
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { up: false })],
      keys: [P1],
      expected: [`set-link ${TAP1} {"master":"br1","up":true}`],
    },
    {
      name: 'foreign bridge is used, never changed even when down',
      docs: { a: binding(P1, 'br-op') },
      observed: [link('br-op', { kind: 'bridge', rawKind: 'bridge', up: false })],
      keys: [P1],
      expected: [`create-tap ${TAP1}`, `set-link ${TAP1} {"group":${G},"alias":"vifd:port:${P1}","mac":"fe:16:3e:00:00:11","master":"br-op","up":true}`],
    },
    {
      name: 'a foreign device holding the tap name is a Conflict and is not touched',
      docs: { a: binding(P1, 'br1') },
      observed: [ownedBridge('br1'), link(TAP1, { group: 0 })],
      keys: [P1],
      expected: [],
      state: 'conflict',
    },
    {
      name: 'bridge name taken by a non-bridge is a Conflict',
      docs: { a: binding(P1, 'br1') },
      observed: [link('br1', { kind: 'veth' })],
      keys: [P1],
      expected: [],
      state: 'conflict',
    },
    {
      name: 'removed binding: its tap goes, bridge checked as a follow-up',
      docs: {},
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { master: 'br1' })],
      keys: [P1],
      expected: [`delete-link ${TAP1}`, 'delete-link br1'],
    },
    {
      name: 'unused owned bridge is deleted',
      docs: {},
      observed: [ownedBridge('br1')],
      keys: ['link:br1'],
      expected: ['delete-link br1'],
    },
    {
      name: 'owned bridge still used by a binding is kept',
      docs: { a: binding(P2, 'br1') },
      observed: [ownedBridge('br1'), ownedTap(TAP2, P2, { master: 'br1' })],
      keys: ['link:br1'],
      expected: [],
    },
    {
      name: 'unused owned bridge with a foreign port is kept (blocked)',
      docs: {},
      observed: [ownedBridge('br1'), link('eth9', { kind: 'veth', master: 'br1' })],
      keys: ['link:br1'],
      expected: [],
      state: 'blocked',
    },
    {
      name: 'a foreign bridge is never deleted',
      docs: {},
      observed: [link('br-op', { kind: 'bridge' })],
      keys: ['link:br-op'],
      expected: [],
    },
    {
      name: 'renamed tap: old one deleted first, new one created',
      docs: { a: binding(P1, 'br1', { vif: { type: 'bridge', bridge: 'br1', tap: 'vm1-eth0' } }) },
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { master: 'br1' })],
      keys: [P1],
      expected: [`delete-link ${TAP1}`, 'create-tap vm1-eth0', `set-link vm1-eth0 {"group":${G},"alias":"vifd:port:${P1}","mac":"fe:16:3e:00:00:11","master":"br1","up":true}`],
    },
    {
      name: 'owned device of the wrong kind is recreated',
      docs: { a: binding(P1, 'br1') },
      observed: [ownedBridge('br1'), ownedTap(TAP1, P1, { kind: 'veth', master: 'br1' })],
      keys: [P1],
      expected: [`delete-link ${TAP1}`, `create-tap ${TAP1}`, `set-link ${TAP1} {"group":${G},"alias":"vifd:port:${P1}","mac":"fe:16:3e:00:00:11","master":"br1","up":true}`],
    },
    {
      name: 'half-marked shared bridge (crash after create) gets its alias',
      docs: { a: binding(P1, 'br1') },
      observed: [ownedBridge('br1', { alias: undefined }), ownedTap(TAP1, P1, { master: 'br1' })],
      keys: [P1],
      expected: [`set-link br1 {"group":${G},"alias":"vifd:bridge"}`],
    },
    {
      name: 'two bindings on one new bridge create it once',
      docs: { a: binding(P1, 'br1'), b: binding(P2, 'br1') },
      observed: [],
      keys: [P1, P2],
      expected: [
        'create-bridge br1',
        `create-tap ${TAP1}`,
        `create-tap ${TAP2}`,
        `set-link ${TAP1} {"group":${G},"alias":"vifd:port:${P1}","mac":"fe:16:3e:00:00:11","master":"br1","up":true}`,
        `set-link ${TAP2} {"group":${G},"alias":"vifd:port:${P2}","mac":"fe:16:3e:00:00:22","master":"br1","up":true}`,
      ],
    },
  ];

  it.each(cases)('$name', ({ docs, observed, keys, expected, state }) => {
    const result = plan(docs, observed, keys);
    expect(ops(result.actions)).toEqual(expected);
    if (state) expect(result.outcomes.get(keys[0]!)?.state).toBe(state);
  });

  it('reports a removed tap\'s bridge as a follow-up key', () => {
    const result = plan({}, [ownedBridge('br1'), ownedTap(TAP1, P1, { master: 'br1' })], [P1]);
    expect([...result.followUps]).toEqual(['link:br1']);
  });

  it('adopts a tap named in the intent journal that never got its marks', () => {
    const store = new DesiredStore();
    store.set('a', { ok: true, bindings: [binding(P1, 'br1') as never] });
    const observed = [ownedBridge('br1'), link(TAP1, { group: 0, master: 'br1' })];
    const input = { keys: [P1], desired: store.view(), links: { links: new Map(observed.map((l) => [l.name, l])) }, ownership: DEFAULT_OWNERSHIP };
    expect(planLinks(input).outcomes.get(P1)?.state).toBe('conflict');
    const adopted = planLinks({ ...input, adoptable: new Set([TAP1]) });
    expect(adopted.outcomes.get(P1)?.state).toBe('changing');
    expect(ops(adopted.actions)).toEqual([`set-link ${TAP1} {"group":${G},"alias":"vifd:port:${P1}","mac":"fe:16:3e:00:00:11"}`]);
  });
});

describe('a binding whose device name is held by something else', () => {
  it('plans nothing for it: no bridge, no other device', () => {
    const store = new DesiredStore();
    store.set('a', { ok: true, bindings: [binding(P1, 'br-new') as never] });
    const observed = [link(TAP1, { group: 0 })];
    const result = planLinks({ keys: [P1], desired: store.view(), links: { links: new Map(observed.map((l) => [l.name, l])) }, ownership: DEFAULT_OWNERSHIP });
    expect(result.outcomes.get(P1)).toMatchObject({ state: 'conflict', message: expect.stringMatching(/not own/) });
    expect(result.actions).toEqual([]);
  });
});
