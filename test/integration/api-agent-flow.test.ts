// A compute agent's flow over the real unix socket against the real daemon in
// a throwaway namespace: PUT a bridge binding, watch until Ready, read the
// libvirt XML (validated by libvirt's own virt-xml-validate), DELETE, watch
// until it is gone; the host checked with `ip -j` in the namespace.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { BindingStatus } from '../../src/model/status.js';
import { RecordingWatch, waitForApi } from '../helpers/api-watch.js';
import { validateWithLibvirt } from '../helpers/libvirt.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, removeDirs, VifdProcess, VIFD_BIN, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('apiflow');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let client: ApiClient;

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('apiflow');
  vifd = VifdProcess.run(dirs, netns);
  client = new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') });
  await waitForApi(client);
});

afterAll(async () => {
  client?.destroy();
  await vifd?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
});

describe('API: compute-agent flow', () => {
  it('serves on <state-dir>/vifd.sock with mode 0600, healthz and readyz', async () => {
    const info = statSync(join(dirs.state, 'vifd.sock'));
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    expect((await client.request('GET', '/healthz')).status).toBe(200);
    expect((await client.request('GET', '/readyz')).status).toBe(200);
  });

  it('PUT, watch until Ready, valid libvirt XML, DELETE, watch until gone', async () => {
    const doc = bridgeBinding(0x41, 'brq-api-flow', { mtu: 1400, instance: 'b1e2c3d4-0000-4000-8000-000000000001' });
    const port = doc['port'] as string;
    const watch = new RecordingWatch(client);
    try {
      await watch.until((w) => w.events.some((e) => e.type === 'BOOKMARK'), 'the initial snapshot');

      const put = await client.request<{ created: boolean; source: string }>('PUT', `/v1/bindings/${port}`, doc);
      expect(put.status).toBe(201);
      expect(put.body).toMatchObject({ created: true, source: `api:${port}` });
      const again = await client.request<{ changed: boolean }>('PUT', `/v1/bindings/${port}`, doc);
      expect(again.status).toBe(200); // idempotent
      expect(again.body.changed).toBe(false);

      await watch.until((w) => w.statuses.get(port)?.phase === 'Ready', 'the binding to be Ready');
      const status = await client.request<BindingStatus>('GET', `/v1/status/${port}`);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ port, phase: 'Ready', source: `api:${port}`, type: 'bridge' });
      const tap = status.body.devices[0]!;
      expect(status.body.libvirt).toContain(`<target dev='${tap.name}' managed='no'/>`);
      expect(status.body.libvirt).toContain(`<mac address='${doc['mac']}'/>`);
      expect(status.body.libvirt).toContain(`<mtu size='1400'/>`);
      validateWithLibvirt(status.body.libvirt!);

      const links = linksIn(netns);
      expect(links.get(tap.name)?.master).toBe('brq-api-flow');
      expect(links.get(tap.name)?.mtu).toBe(1400);
      expect(links.get(tap.name)?.ifindex).toBe(tap.ifindex);

      // A broken device is repaired; the repair shows in the latency histogram.
      execFileSync('ip', ['-n', netns, 'link', 'del', tap.name]);
      await watch.until((w) => w.statuses.get(port)?.phase === 'Ready' && w.statuses.get(port)?.devices[0]?.ifindex !== tap.ifindex, 'the tap to be repaired');
      const metrics = (await client.request<string>('GET', '/metrics')).body;
      expect(Number(/^vifd_repair_duration_seconds_count (\d+)$/mu.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
      const repairedTap = linksIn(netns).get(tap.name)!;
      expect(repairedTap.master).toBe('brq-api-flow');

      const got = await client.request<{ source: string; binding: { port: string } }>('GET', `/v1/bindings/${port}`);
      expect(got.body).toMatchObject({ source: `api:${port}`, binding: { port } });
      const list = await client.request<{ items: Array<{ port: string }> }>('GET', '/v1/bindings?source=api');
      expect(list.body.items.map((i) => i.port)).toContain(port);

      const del = await client.request('DELETE', `/v1/bindings/${port}`);
      expect(del.status).toBe(202);
      await watch.until((w) => w.events.some((e) => e.type === 'DELETED' && e.port === port), 'the binding to be gone');
      expect(linksIn(netns).has(tap.name)).toBe(false);
      expect((await client.request('GET', `/v1/status/${port}`)).status).toBe(404);
      expect((await client.request('GET', `/v1/bindings/${port}`)).status).toBe(404);
      expect((await client.request('DELETE', `/v1/bindings/${port}`)).status).toBe(404);

      // Revisions only grow.
      const revisions = watch.events.map((e) => e.revision);
      expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    } finally {
      watch.close();
    }
  });

  it('reports metrics in the Prometheus text format', async () => {
    const res = await client.request<string>('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    for (const name of ['vifd_reconcile_rounds_total', 'vifd_reconcile_round_duration_seconds_bucket', 'vifd_queue_depth', 'vifd_bindings{phase="Ready"}', 'vifd_host_commands_total', 'vifd_repair_duration_seconds']) {
      expect(res.body).toContain(name);
    }
    // Links are observed and changed over the stream helper's netlink socket: it is spawned, ip is not needed.
    expect(Number(/^vifd_host_commands_total\{command="vifd-netlink"\} (\d+)$/mu.exec(res.body)?.[1])).toBeGreaterThan(0);
    expect(Number(/^vifd_netlink_requests_total (\d+)$/mu.exec(res.body)?.[1])).toBeGreaterThan(0);
  });

  it('vifd status --api prints the table from the running daemon', () => {
    const out = execFileSync(process.execPath, [VIFD_BIN, 'status', '--api', `unix:${join(dirs.state, 'vifd.sock')}`, '--json'], { encoding: 'utf8' });
    expect(Array.isArray(JSON.parse(out))).toBe(true);
  });
});
