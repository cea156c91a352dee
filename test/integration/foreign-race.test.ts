// Issue 18 §5: another agent creating a device by the name vifd is about to
// create (between vifd's snapshot and its batch) must never get vifd's marks
// or settings: no group, alias, MAC, master or up on the foreign device, and
// no Ready for it. A racer (`ip -batch` already running, fed one
// `tuntap add` line at a chosen instant) creates the binding's tap at delays
// at the instant vifd records its intent journal (after its snapshot and
// plan, just before its batch: inside the window), or at delays swept across
// vifd's reaction to the new binding file.
import { execFileSync, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('race');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
const TRIALS = 24;

beforeAll(() => {
  createNetns(netns);
  execFileSync('ip', ['-n', netns, 'link', 'add', 'br-race', 'type', 'bridge']);
  dirs = makeDirs('race');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A started `ip -batch` that runs `line` when told; resolves true if the line succeeded. */
function racer(): { fire(line: string): Promise<boolean> } {
  const child = spawn('ip', ['-n', netns, '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    async fire(line: string) {
      child.stdin!.end(line + '\n');
      return (await exited) === 0;
    },
  };
}

describe('a foreign device created in the race window', () => {
  it('never gets vifd marks or settings, and is reported Conflict', async () => {
    vifd = VifdProcess.run(dirs, netns);
    await waitReady(dirs.state, { timeoutMs: 20_000 });
    const won: string[] = [];
    const violations: string[] = [];
    for (let n = 1; n <= TRIALS; n++) {
      const tap = `race${n}`;
      const doc = bridgeBinding(n, 'br-race', { vif: { type: 'bridge', bridge: 'br-race', tap } });
      const port = doc['port'] as string;
      const r = racer();
      await sleep(20); // the racer is up and waiting
      const line = `tuntap add dev ${tap} mode tap`;
      let fired: Promise<boolean>;
      if (n % 2 === 0) {
        // In the window: vifd writes intent.json (a rename into the state dir) right before its batch.
        fired = new Promise<boolean>((resolve) => {
          const watcher = watch(dirs.state, (_event, file) => {
            if (file !== 'intent.json') return;
            watcher.close();
            resolve(r.fire(line));
          });
        });
        writeBinding(dirs, `b${n}.json`, doc);
      } else {
        writeBinding(dirs, `b${n}.json`, doc);
        await sleep((n * 3) % 40); // swept across vifd's reaction (event, snapshot, batch)
        fired = r.fire(line);
      }
      const racerWon = await fired;
      await waitFor(() => ['Ready', 'Conflict'].includes(readStatuses(dirs).get(port)?.phase ?? ''), 15_000, `status of ${tap}`);
      await sleep(300); // a later round must not change it either
      const link = linksIn(netns).get(tap);
      const phase = readStatuses(dirs).get(port)?.phase;
      if (racerWon) {
        won.push(tap);
        const marks = { group: link?.group, alias: link?.ifalias, master: link?.master, up: link?.flags.includes('UP'), phase };
        if (link?.group === '4242' || link?.ifalias !== undefined || link?.master !== undefined || link?.flags.includes('UP') || phase !== 'Conflict') {
          violations.push(`${tap}: ${JSON.stringify(marks)}`);
        }
      } else if (phase !== 'Ready') {
        violations.push(`${tap}: vifd made it, yet ${phase}`);
      }
    }
    if (process.env['VIFD_TEST_VERBOSE']) console.log(`racer won ${won.length} of ${TRIALS}`);
    expect(won.length, 'the racer won some trials').toBeGreaterThan(0);
    expect(violations).toEqual([]);
  }, 120_000);
});
