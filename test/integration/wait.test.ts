// `vifd wait` and generations against the real daemon: a wait after a quick
// second change returns only on that change's Ready (never on the Ready left
// from the first), Removed after a DELETE, exit 1 on Conflict and timeout,
// exit 2 on bad usage; the PUT answer carries the generation and the status
// its observedGeneration.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { waitForApi } from '../helpers/api-watch.js';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, removeDirs, VifdProcess, VIFD_BIN, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('wait');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let client: ApiClient;
const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);

function vifdWait(...args: string[]): Promise<{ code: number | null; out: string; at: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VIFD_BIN, 'wait', '--state-dir', dirs.state, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => resolve({ code, out, at: Date.now() }));
  });
}

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('wait');
  vifd = VifdProcess.run(dirs, netns);
  client = new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') });
  await waitForApi(client);
});

afterAll(async () => {
  client?.destroy();
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
});

describe('generations and vifd wait', () => {
  it('a wait after two quick changes returns only once the second is on the host', async () => {
    const port = portUuid(1);
    const first = await client.request<{ generation: number }>('PUT', `/v1/bindings/${port}`, bridgeBinding(1, 'brq-w1', { mtu: 1400 }));
    expect(first.status).toBe(201);
    expect((await vifdWait(port, '--for', 'Ready', '--timeout', '20')).code).toBe(0);
    for (let i = 0; i < 5; i++) {
      // A slow change (a new bridge to create) right after a quick one.
      const a = await client.request<{ generation: number }>('PUT', `/v1/bindings/${port}`, bridgeBinding(1, 'brq-w1', { mtu: 1300 + i }));
      const b = await client.request<{ generation: number }>('PUT', `/v1/bindings/${port}`, bridgeBinding(1, `brq-w${i + 2}`, { mtu: 1350 + i }));
      expect(b.body.generation).toBeGreaterThan(a.body.generation);
      const result = await vifdWait(port, '--for', 'Ready', '--timeout', '20');
      expect(result.code, result.out).toBe(0);
      // At the moment wait returned, the host had the second change.
      const tap = linksIn(netns).get(tapOf(1))!;
      expect(tap.master).toBe(`brq-w${i + 2}`);
      expect(tap.mtu).toBe(1350 + i);
      const status = await client.request<{ phase: string; observedGeneration: number }>('GET', `/v1/status/${port}`);
      expect(status.body.observedGeneration).toBeGreaterThanOrEqual(b.body.generation);
      expect(result.out).toMatch(new RegExp(`^${port} Ready`, 'u'));
    }
  });

  it('a file edited twice quickly: wait returns on the second version', async () => {
    const port = portUuid(2);
    writeBinding(dirs, 'b2.json', bridgeBinding(2, 'brq-f1', { mtu: 1400 }));
    expect((await vifdWait(port, '--for', 'Ready', '--timeout', '20')).code).toBe(0);
    writeBinding(dirs, 'b2.json', bridgeBinding(2, 'brq-f1', { mtu: 1410 }));
    writeBinding(dirs, 'b2.json', bridgeBinding(2, 'brq-f2', { mtu: 1420 }));
    await new Promise((r) => setTimeout(r, 100)); // vifd reads a file after an event; wait cannot know of a write vifd has not seen
    expect((await vifdWait(port, '--for', 'Ready', '--timeout', '20')).code).toBe(0);
    expect(linksIn(netns).get(tapOf(2))).toMatchObject({ master: 'brq-f2', mtu: 1420 });
  });

  it('a repair keeps the generation: the status only changes its devices', async () => {
    const port = portUuid(2);
    const before = (await client.request<{ observedGeneration: number }>('GET', `/v1/status/${port}`)).body.observedGeneration;
    ipIn(netns, 'link', 'del', tapOf(2));
    await waitFor(() => linksIn(netns).get(tapOf(2))?.master === 'brq-f2', 10_000, 'repaired');
    expect((await vifdWait(port, '--for', 'Ready', '--timeout', '20')).code).toBe(0);
    expect((await client.request<{ observedGeneration: number }>('GET', `/v1/status/${port}`)).body.observedGeneration).toBe(before);
  });

  it('--for Removed after DELETE; exit 1 with the message on a Conflict and on timeout; exit 2 on bad usage', async () => {
    const port = portUuid(1);
    expect((await client.request('DELETE', `/v1/bindings/${port}`)).status).toBe(202);
    expect((await vifdWait(port, '--for', 'Removed', '--timeout', '20')).code).toBe(0);
    expect(linksIn(netns).has(tapOf(1))).toBe(false);
    // A tap name another port holds: Conflict.
    writeBinding(dirs, 'b3.json', bridgeBinding(3, 'brq-f1', { vif: { type: 'bridge', bridge: 'brq-f1', tap: tapOf(2) } }));
    const conflict = await vifdWait(portUuid(3), '--for', 'Ready', '--timeout', '20');
    expect(conflict.code).toBe(1);
    expect(conflict.out).toMatch(new RegExp(`${portUuid(3)} Conflict \\(failed\\): .*${tapOf(2)}`, 'u'));
    const timeout = await vifdWait(portUuid(9), '--for', 'Ready', '--timeout', '0.5');
    expect(timeout.code).toBe(1);
    expect(timeout.out).toContain('timed out waiting for Ready');
    expect((await vifdWait('not-a-port', '--for', 'Ready')).code).toBe(2);
    expect((await vifdWait(portUuid(3), '--for', 'Up')).code).toBe(2);
  });
});
