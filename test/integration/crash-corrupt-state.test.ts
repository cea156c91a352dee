// Corrupt or truncated state files at start (status files, intent journal,
// summary, half-written temp files of a killed write) are reported, rebuilt
// from the host and the desired state, and change nothing on the host.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { makeDirs, readStatuses, removeDirs, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';
import { crashBindings, createCrashNetns, hostProblems, ifindexes, writeBindings } from '../helpers/crash.js';

const netns = uniqueNetnsName('crash-corrupt');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
const bindings = crashBindings(12);
const GONE_PORT = 'c7000999-c0a5-4000-8000-000000000999';

beforeAll(() => {
  createCrashNetns(netns);
  dirs = makeDirs('crash-corrupt');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

const statusPath = (port: string) => join(dirs.state, 'status', `${port}.json`);

describe('corrupt state files at start', () => {
  it('converges', async () => {
    writeBindings(dirs, bindings);
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => hostProblems(netns, bindings).length === 0, 20_000, 'converged');
    await waitFor(() => bindings.every((b) => readStatuses(dirs).has(b.spec.port)), 10_000, 'statuses');
    await vifd.stop('SIGKILL');
  });

  it('rebuilds truncated, garbage and misnamed status files; drops temp files; ignores a broken journal', async () => {
    const before = ifindexes(netns);
    const [a, b, c] = bindings;
    const full = readFileSync(statusPath(a!.spec.port), 'utf8');
    writeFileSync(statusPath(a!.spec.port), full.slice(0, full.length / 2)); // truncated
    writeFileSync(statusPath(b!.spec.port), '\0\0\0\0garbage');
    writeFileSync(statusPath(c!.spec.port), JSON.stringify({ port: GONE_PORT, phase: 'Ready' })); // valid JSON, wrong file
    writeFileSync(statusPath(GONE_PORT), '{"port": "' + GONE_PORT); // a port nobody wants any more, corrupt
    writeFileSync(join(dirs.state, 'status', `.${a!.spec.port}.json.12345.7.tmp`), '{"half');
    writeFileSync(join(dirs.state, '.summary.json.12345.8.tmp'), '');
    writeFileSync(join(dirs.state, 'intent.json'), '{"creating": ["tap');
    writeFileSync(join(dirs.state, 'summary.json'), 'not json');

    vifd = VifdProcess.run(dirs, netns);
    await waitFor(
      () => bindings.every((x) => readStatuses(dirs).get(x.spec.port)?.port === x.spec.port) && !existsSync(statusPath(GONE_PORT)),
      15_000,
      'statuses rebuilt',
    );
    for (const x of [a!, b!, c!]) {
      const status = JSON.parse(readFileSync(statusPath(x.spec.port), 'utf8')) as { port: string; phase: string; devices: unknown[] };
      expect(status.port).toBe(x.spec.port);
      expect(status.devices.length).toBeGreaterThan(0);
    }
    const logs = vifd.logs.join('\n');
    expect(logs).toContain('corrupt status file');
    expect(logs).toContain('corrupt intent journal');
    // Left by the killed run: gone (the running vifd's own may be in flight).
    const stale = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp') && !n.includes(`.${vifd!.child.pid}.`));
    expect(stale(join(dirs.state, 'status'))).toEqual([]);
    expect(stale(dirs.state)).toEqual([]);
    await waitFor(() => {
      try {
        return typeof (JSON.parse(readFileSync(join(dirs.state, 'summary.json'), 'utf8')) as { total?: number }).total === 'number';
      } catch {
        return false;
      }
    }, 10_000, 'summary rewritten');
    // Nothing on the host was recreated or left wrong.
    expect(ifindexes(netns)).toEqual(before);
    expect(hostProblems(netns, bindings)).toEqual([]);
  });
});
