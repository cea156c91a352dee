// One vifd per state directory: a second one exits 1 with a clear error and
// touches nothing; a lock left by a SIGKILLed vifd does not block a restart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { makeDirs, readStatuses, removeDirs, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';
import { crashBindings, createCrashNetns, hostProblems, ifindexes, writeBindings } from '../helpers/crash.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('crash-second');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let second: VifdProcess | undefined;
const bindings = crashBindings(6);

beforeAll(() => {
  createCrashNetns(netns);
  dirs = makeDirs('crash-second');
});

afterAll(async () => {
  await second?.stop('SIGKILL');
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('state directory lock', () => {
  it('refuses a second vifd on the same state directory', async () => {
    writeBindings(dirs, bindings);
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => hostProblems(netns, bindings).length === 0, 20_000, 'converged');
    const before = ifindexes(netns);
    second = VifdProcess.run(dirs, netns);
    expect(await second.exited).toBe(1);
    const text = second.logs.join('\n');
    expect(text).toContain(`another vifd (pid ${vifd.child.pid}) already runs on state directory ${dirs.state}`);
    expect(text).toContain('STATE_DIR_LOCKED');
    expect(ifindexes(netns)).toEqual(before);
    expect(vifd.child.exitCode).toBeNull(); // the first one keeps running
  });

  it('takes over the lock of a SIGKILLed vifd', async () => {
    await vifd!.stop('SIGKILL');
    vifd = VifdProcess.run(dirs, netns);
    await waitReady(dirs.state, { timeoutMs: 15_000 });
    expect(hostProblems(netns, bindings)).toEqual([]);
  });

  it('takes over a lock whose pid now belongs to another process', async () => {
    await vifd!.stop('SIGTERM');
    // pid 1 is alive, but its start time is not the one recorded.
    writeFileSync(join(dirs.state, 'vifd.lock'), '1 999999999\n');
    vifd = VifdProcess.run(dirs, netns);
    await waitReady(dirs.state, { timeoutMs: 15_000 });
    await waitFor(() => hostProblems(netns, bindings).length === 0, 15_000, 'converged');
    await waitFor(() => bindings.every((b) => b.kind !== 'bridge' || readStatuses(dirs).get(b.spec.port)?.phase === 'Ready'), 15_000, 'Ready');
  });
});
