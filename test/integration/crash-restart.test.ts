// design.md §6: a restart over a converged host changes nothing. Same
// ifindex for every device after a clean stop + start and after a SIGKILL +
// start; statuses stay Ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { makeDirs, readStatuses, removeDirs, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';
import { crashBindings, createCrashNetns, hostProblems, ifindexes, writeBindings } from '../helpers/crash.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('crash-restart');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
const bindings = crashBindings(40);

beforeAll(() => {
  createCrashNetns(netns);
  dirs = makeDirs('crash-restart');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

// Bridge bindings end Ready; a macvtap's phase also depends on its
// port-profile association (no lldpad/enic here), so only its devices count.
const allReady = () => bindings.every((b) => b.kind !== 'bridge' || readStatuses(dirs).get(b.spec.port)?.phase === 'Ready');

describe('restart over a converged namespace', () => {
  it('converges', async () => {
    writeBindings(dirs, bindings);
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => hostProblems(netns, bindings).length === 0, 30_000, 'converged');
    await waitFor(allReady, 15_000, 'all Ready');
  });

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`recreates and changes nothing after ${how} + start`, async () => {
      const before = ifindexes(netns);
      expect(await vifd!.stop(how)).toBe(how === 'SIGTERM' ? 0 : null);
      vifd = VifdProcess.run(dirs, netns);
      await waitReady(dirs.state, { timeoutMs: 15_000 });
      // Give it time to act on anything it (wrongly) thinks needs doing.
      await new Promise((r) => setTimeout(r, 1500));
      expect(ifindexes(netns)).toEqual(before);
      expect(hostProblems(netns, bindings)).toEqual([]);
      expect(allReady()).toBe(true);
      // No device change at all: no round ran an ip line or an OVSDB transaction.
      const applied = vifd!.logs.filter((l) => l.includes('"msg":"round applied"')).map((l) => JSON.parse(l) as { lines?: number; ovsTransactions?: number });
      expect(applied.filter((r) => (r.lines ?? 0) > 0 || (r.ovsTransactions ?? 0) > 0)).toEqual([]);
    });
  }
});
