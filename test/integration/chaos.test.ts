// The chaos harness as part of the suite (about a minute): the real vifd on
// a throwaway namespace, bindings of every type that works here, random
// faults and SIGKILLs; every fault repaired within the bound, no leak, no
// duplicate OVS port, foreign devices unchanged. Plus: same seed, same faults.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, runChaos, type ChaosResult } from '../support/chaos/run.js';
import { deleteNetns, uniqueNetnsName } from '../helpers/netns.js';

const names: string[] = [];
const netnsName = (tag: string) => {
  const name = uniqueNetnsName(tag);
  names.push(name);
  return name;
};

afterAll(async () => {
  await cleanupAll(); // a run that threw midway
  for (const name of names) deleteNetns(name);
});

const lines: string[] = [];
const log = (line: string) => lines.push(line);

function explain(result: ChaosResult): string {
  return `${result.failures.join('\n')}\n${result.table}\n${lines.slice(-20).join('\n')}`;
}

describe('chaos', () => {
  it('survives a minute of faults', async () => {
    const result = await runChaos({ seconds: 60, seed: 20261124, bindings: 40, netnsName: netnsName('chaos'), log });
    process.stdout.write(`\n${result.table}\n`);
    expect(result.failures, explain(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.kills).toBeGreaterThan(0);
    expect(result.records.filter((r) => /^(tap|bridge|macvtap|ovs|qbr|veth)-/u.test(r.kind)).length).toBeGreaterThan(20);
    expect(result.leaks).toEqual([]);
    expect(result.duplicates).toEqual([]);
    expect(result.foreignChanges).toEqual([]);
  }, 240_000);

  it('replays the same fault sequence for the same seed', async () => {
    const once = () =>
      runChaos({ seconds: 600, maxFaults: 12, seed: 77, bindings: 8, kinds: ['bridge', 'qbg'], netnsName: netnsName('chaos-seed'), log });
    const a = await once();
    const b = await once();
    expect(a.failures, explain(a)).toEqual([]);
    expect(b.failures, explain(b)).toEqual([]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.records.map((r) => `${r.kind} ${r.target.replace(/\+\d+ms$/u, '')}`)).toEqual(b.records.map((r) => `${r.kind} ${r.target.replace(/\+\d+ms$/u, '')}`));
  }, 240_000);
});
