// app/planning.ts: the one place `vifd run` and `vifd plan` get the planner's
// settings from their options, and `vifd plan` a running vifd's state.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planContextOf, planningOf, readPlanningState } from '../../src/app/planning.js';
import { DesiredStore } from '../../src/desired/store.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { AssociationStore } from '../../src/state/association-store.js';
import { IntentJournal } from '../../src/state/intent-journal.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('planningOf', () => {
  it('no options: vifd\'s ownership marks and no defaults (keys absent, not undefined)', () => {
    const p = planningOf({});
    expect(p.ownership).toEqual(DEFAULT_OWNERSHIP);
    expect(p.defaults).toEqual({});
    expect(Object.keys(p.defaults)).toEqual([]);
  });

  it('--ovs-datapath and --ready-when become the planner\'s defaults', () => {
    expect(planningOf({ ovsDatapathType: 'netdev', defaultReadyWhen: 'ovn-installed' }).defaults).toEqual({ defaultDatapathType: 'netdev', defaultReadyWhen: 'ovn-installed' });
  });
});

describe('readPlanningState and planContextOf', () => {
  it('without a state directory nothing is adoptable or associated', async () => {
    const state = await readPlanningState(undefined);
    expect([...state.adoptable, ...state.associated]).toEqual([]);
  });

  it('takes the intent journal\'s names and the associations that hold, not those in progress', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'splits-planning-'));
    dirs.push(dir);
    await new IntentJournal(dir, join(dir, 'run')).record(['tapA', 'qvbA']);
    const request = { kind: '802.1qbh' as const, uplink: 'eth9', mac: 'fa:16:3e:00:00:01', instance: 'i', profile: { profileId: 'p' } };
    await new AssociationStore(dir).write([
      { port: 'held', request, state: 'associated', at: '2026-01-01T00:00:00.000Z' },
      { port: 'pending', request, state: 'associating', at: '2026-01-01T00:00:00.000Z' },
    ]);
    const state = await readPlanningState(dir);
    expect([...state.adoptable].sort()).toEqual(['qvbA', 'tapA']);
    expect([...state.associated]).toEqual(['held']);
    const desired = new DesiredStore().view();
    const context = planContextOf(planningOf({ ovsDatapathType: 'system' }), desired, state);
    expect(context).toEqual({ desired, ownership: DEFAULT_OWNERSHIP, adoptable: state.adoptable, associated: state.associated, defaultDatapathType: 'system' });
  });
});
