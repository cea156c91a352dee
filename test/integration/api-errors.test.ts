// Every bad request kind against the real daemon, checked to change nothing;
// a conflict with a directory file (409, and reported on the status); the
// bearer token on TCP.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { BindingStatus } from '../../src/model/status.js';
import { waitForApi } from '../helpers/api-watch.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('apierr');
const token = randomBytes(24).toString('hex');
const tcpPort = 20000 + Math.floor(Math.random() * 20000);
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let client: ApiClient;
let tcp: ApiClient;

type ErrorBody = { code: string; message: string; problems?: Array<{ path: string; message: string }>; holder?: string };

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('apierr');
  const tokenFile = join(dirs.root, 'token');
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  // A directory binding that the API will collide with.
  writeBinding(dirs, 'held.json', bridgeBinding(0x51, 'brq-err'));
  vifd = VifdProcess.run(dirs, netns, ['--api', `tcp:127.0.0.1:${tcpPort}`, '--api-token-file', tokenFile]);
  tcp = new ApiClient({ kind: 'tcp', host: '127.0.0.1', port: tcpPort }, token);
  await waitForApi(tcp);
  // With --api tcp the socket is not served; the bad-request checks use TCP.
  client = tcp;
  await waitFor(() => readStatuses(dirs).get(portUuid(0x51))?.phase === 'Ready', 15_000, 'the directory binding');
});

afterAll(async () => {
  tcp?.destroy();
  await vifd?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
});

async function expectNothingApplied(port: string): Promise<void> {
  expect((await client.request('GET', `/v1/bindings/${port}`)).status).toBe(404);
  const { items } = (await client.request<{ items: Array<{ port: string }> }>('GET', '/v1/bindings?source=api')).body;
  expect(items).toEqual([]);
}

describe('API: bad requests', () => {
  it('401 without (or with a wrong) bearer token on TCP', async () => {
    const anonymous = new ApiClient({ kind: 'tcp', host: '127.0.0.1', port: tcpPort });
    const wrong = new ApiClient({ kind: 'tcp', host: '127.0.0.1', port: tcpPort }, 'x'.repeat(48));
    try {
      for (const c of [anonymous, wrong]) {
        const res = await c.request<ErrorBody>('PUT', `/v1/bindings/${portUuid(0x60)}`, bridgeBinding(0x60, 'brq-err'));
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('UNAUTHORIZED');
        expect(res.headers['www-authenticate']).toContain('Bearer');
        expect((await c.request('GET', '/v1/status')).status).toBe(401);
      }
    } finally {
      anonymous.destroy();
      wrong.destroy();
    }
    await expectNothingApplied(portUuid(0x60));
  });

  it('400 with the schema problems (path, reason)', async () => {
    const port = portUuid(0x61);
    const doc = bridgeBinding(0x61, 'brq-err', { mtu: 10, colour: 'red' });
    (doc['vif'] as Record<string, unknown>)['bridge'] = 'bad/name';
    const res = await client.request<ErrorBody>('PUT', `/v1/bindings/${port}`, doc);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID');
    const paths = res.body.problems!.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['mtu', 'vif.bridge', '(document)']));
    for (const p of res.body.problems!) expect(p.message).not.toBe('');
    await expectNothingApplied(port);
  });

  it('400 for JSON that does not parse, an empty body, a list, a body port other than the URL port, a URL port that is no UUID', async () => {
    const port = portUuid(0x62);
    const cases: Array<[string, unknown, string]> = [
      [`/v1/bindings/${port}`, '{"apiVersion": "vifd/v1", ', '(document)'],
      [`/v1/bindings/${port}`, '', '(document)'],
      [`/v1/bindings/${port}`, { apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [bridgeBinding(0x62, 'brq-err')] }, 'kind'],
      [`/v1/bindings/${port}`, bridgeBinding(0x63, 'brq-err'), 'port'],
      ['/v1/bindings/not-a-uuid', bridgeBinding(0x62, 'brq-err'), '(url)'],
    ];
    for (const [path, body, problemPath] of cases) {
      const res = await client.request<ErrorBody>('PUT', path, body);
      expect(res.status, `${path} ${String(JSON.stringify(body)).slice(0, 40)}`).toBe(400);
      expect(res.body.problems!.map((p) => p.path)).toContain(problemPath);
    }
    await expectNothingApplied(port);
    await expectNothingApplied(portUuid(0x63));
  });

  it('413 for a body over 1 MiB, and the connection still answers', async () => {
    const port = portUuid(0x64);
    const huge = JSON.stringify({ ...bridgeBinding(0x64, 'brq-err'), pad: 'x'.repeat(1024 * 1024 + 10) });
    const res = await client.request<ErrorBody>('PUT', `/v1/bindings/${port}`, huge);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    await expectNothingApplied(port);
  });

  it('404 for unknown endpoints, ports without a binding or status; 405 for a wrong method', async () => {
    expect((await client.request('GET', '/v1/nothing')).status).toBe(404);
    expect((await client.request('GET', `/v1/bindings/${portUuid(0x65)}`)).status).toBe(404);
    expect((await client.request('GET', `/v1/status/${portUuid(0x65)}`)).status).toBe(404);
    expect((await client.request('DELETE', `/v1/bindings/${portUuid(0x65)}`)).status).toBe(404);
    const res = await client.request('POST', '/v1/status');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET');
  });

  it('400 for a watch revision that is not a number', async () => {
    expect((await client.request('GET', '/v1/watch?since=abc')).status).toBe(400);
  });
});

describe('API: conflicts with a directory file', () => {
  it('409 on PUT of a port a directory file holds; nothing applied, the file binding untouched', async () => {
    const port = portUuid(0x51);
    const before = linksIn(netns);
    const res = await client.request<ErrorBody>('PUT', `/v1/bindings/${port}`, bridgeBinding(0x51, 'brq-other'));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'CONFLICT', holder: 'file:held.json' });
    const got = await client.request<{ source: string }>('GET', `/v1/bindings/${port}`);
    expect(got.body.source).toBe('file:held.json');
    expect((await client.request<ErrorBody>('DELETE', `/v1/bindings/${port}`)).status).toBe(409);
    expect(linksIn(netns).get('brq-other')).toBeUndefined();
    expect(linksIn(netns).get(`tap${port}`.slice(0, 14))?.ifindex).toBe(before.get(`tap${port}`.slice(0, 14))?.ifindex);
  });

  it('409 on PUT of a binding whose tap name another port holds', async () => {
    const doc = bridgeBinding(0x66, 'brq-err', { vif: { type: 'bridge', bridge: 'brq-err', tap: `tap${portUuid(0x51)}`.slice(0, 14) } });
    const res = await client.request<ErrorBody>('PUT', `/v1/bindings/${portUuid(0x66)}`, doc);
    expect(res.status).toBe(409);
    expect(res.body.holder).toBe(portUuid(0x51));
    await expectNothingApplied(portUuid(0x66));
  });

  it('a directory file added for a port the API holds loses, and the conflict is reported on the status', async () => {
    const port = portUuid(0x67);
    expect((await client.request('PUT', `/v1/bindings/${port}`, bridgeBinding(0x67, 'brq-err'))).status).toBe(201);
    writeBinding(dirs, 'late.json', bridgeBinding(0x67, 'brq-late'));
    await waitFor(async () => {
      const status = (await client.request<BindingStatus>('GET', `/v1/status/${port}`)).body;
      return status.phase === 'Ready' && (status.conflicts ?? []).includes('file:late.json');
    }, 15_000, 'the conflict to be reported');
    const got = await client.request<{ source: string; shadowed: string[] }>('GET', `/v1/bindings/${port}`);
    expect(got.body).toMatchObject({ source: `api:${port}`, shadowed: ['file:late.json'] });
    expect(linksIn(netns).has('brq-late')).toBe(false);
  });
});
