// The watch stream: a client that disconnects and resumes from its last
// revision misses nothing; one resuming from a revision the daemon no longer
// holds (or from a previous run) gets RESET and a full snapshot. API bindings
// persist across a daemon restart without being recreated.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { WatchEvent } from '../../src/api/watch-hub.js';
import type { BindingStatus } from '../../src/model/status.js';
import { RecordingWatch, waitForApi } from '../helpers/api-watch.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, removeDirs, VifdProcess, VIFD_BIN, waitFor, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('apiwatch');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let client: ApiClient;
const A = portUuid(0x71);
const B = portUuid(0x72);
const C = portUuid(0x73);

async function start(): Promise<void> {
  vifd = VifdProcess.run(dirs, netns);
  await waitForApi(client);
}

async function statusOf(port: string): Promise<BindingStatus | undefined> {
  const res = await client.request<BindingStatus>('GET', `/v1/status/${port}`);
  return res.status === 200 ? res.body : undefined;
}

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('apiwatch');
  client = new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') });
  await start();
});

afterAll(async () => {
  client?.destroy();
  await vifd?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
});

describe('API watch', () => {
  let lastRevision = 0;

  it('a client that disconnects and resumes from its revision misses nothing', async () => {
    const first = new RecordingWatch(client);
    await first.until((w) => w.events.some((e) => e.type === 'BOOKMARK'), 'the snapshot');
    expect((await client.request('PUT', `/v1/bindings/${A}`, bridgeBinding(0x71, 'brq-watch'))).status).toBe(201);
    await first.until((w) => w.statuses.get(A)?.phase === 'Ready', 'A Ready');
    first.close();
    await first.done;
    const resumeFrom = first.lastRevision!;

    // Changes while the client is away.
    expect((await client.request('PUT', `/v1/bindings/${B}`, bridgeBinding(0x72, 'brq-watch'))).status).toBe(201);
    await waitFor(async () => (await statusOf(B))?.phase === 'Ready', 15_000, 'B Ready');
    expect((await client.request('DELETE', `/v1/bindings/${A}`)).status).toBe(202);
    await waitFor(async () => (await statusOf(A)) === undefined, 15_000, 'A gone');

    const resumed = new RecordingWatch(client, resumeFrom);
    for (const [port, status] of first.statuses) resumed.statuses.set(port, status); // the client's own state
    await resumed.until((w) => w.events.some((e) => e.type === 'BOOKMARK'), 'the replay');
    const replay = resumed.events.slice(0, resumed.events.findIndex((e) => e.type === 'BOOKMARK'));
    expect(replay.some((e) => e.type === 'RESET')).toBe(false);
    expect(replay.every((e) => e.revision > resumeFrom)).toBe(true);
    expect(replay).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'DELETED', port: A }), expect.objectContaining({ type: 'ADDED', port: B })]));
    // The client's view after the replay equals the server's.
    const server = (await client.request<{ items: BindingStatus[] }>('GET', '/v1/status')).body.items;
    expect([...resumed.statuses.keys()].sort()).toEqual(server.map((s) => s.port).sort());
    expect(resumed.statuses.get(B)?.phase).toBe('Ready');

    // Live events keep coming on the resumed stream.
    expect((await client.request('PUT', `/v1/bindings/${C}`, bridgeBinding(0x73, 'brq-watch'))).status).toBe(201);
    await resumed.until((w) => w.statuses.get(C)?.phase === 'Ready', 'C Ready, live');
    lastRevision = resumed.lastRevision!;
    resumed.close();
  });

  it('a revision older than the ring gets RESET and a full snapshot', async () => {
    const events: WatchEvent[] = [];
    const old = client.watch(1, (e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'BOOKMARK'), 10_000, 'the snapshot');
    old.close();
    expect(events[0]!.type).toBe('RESET');
    const added = events.filter((e) => e.type === 'ADDED').map((e) => (e as { port: string }).port);
    expect(added.sort()).toEqual([B, C]);
  });

  it('vifd status --watch prints the table, then one line per change', async () => {
    const child = spawn(process.execPath, [VIFD_BIN, 'status', '--watch', '--state-dir', dirs.state], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitFor(() => out.includes(B) && out.includes('binding(s)'), 10_000, 'the table');
      expect((await client.request('DELETE', `/v1/bindings/${C}`)).status).toBe(202);
      await waitFor(() => new RegExp(`\\d+ ${C} gone`, 'u').test(out), 10_000, 'the change line');
    } finally {
      child.kill('SIGINT');
    }
    await waitFor(async () => (await statusOf(C)) === undefined, 15_000, 'C gone');
  });

  it('API bindings persist across a restart, nothing is recreated, and an old revision resumes with a snapshot', async () => {
    const saved = JSON.parse(readFileSync(join(dirs.state, 'api-bindings', `${B}.json`), 'utf8')) as { port: string };
    expect(saved.port).toBe(B);
    const tap = `tap${B}`.slice(0, 14);
    const ifindex = linksIn(netns).get(tap)!.ifindex;
    expect(await vifd!.stop()).toBe(0);
    await start();
    const got = await client.request<{ source: string }>('GET', `/v1/bindings/${B}`);
    expect(got.status).toBe(200);
    expect(got.body.source).toBe(`api:${B}`);
    await waitFor(async () => (await statusOf(B))?.phase === 'Ready', 15_000, 'B Ready after the restart');
    expect(linksIn(netns).get(tap)?.ifindex).toBe(ifindex);
    expect((await client.request('GET', `/v1/bindings/${A}`)).status).toBe(404);

    const resumed = new RecordingWatch(client, lastRevision);
    await resumed.until((w) => w.events.some((e) => e.type === 'BOOKMARK'), 'the snapshot');
    resumed.close();
    expect(resumed.events[0]!.type).toBe('RESET');
    expect(resumed.events[0]!.revision).toBeGreaterThan(lastRevision);
    expect([...resumed.statuses.keys()]).toEqual([B]);
  });
});
