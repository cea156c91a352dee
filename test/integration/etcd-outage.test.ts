// etcd unreachable is not "everything deleted": nothing is unplugged, damage
// is still repaired, stale is reported; a start while etcd is down unplugs
// nothing; the lease of a SIGKILLed vifd expires and takes its statuses along.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestEtcd } from '../helpers/etcd.js';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, removeDirs, VIFD_BIN, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';
import { waitServing } from '../support/readiness.js';

const netns = uniqueNetnsName('etcdo');
const host = `host-${netns}`;
const prefix = `/vifd/v1/hosts/${host}/bindings/`;
const bridge = 'br-etcdo';
const ports = [11, 12, 13];
let etcd: TestEtcd;
let dirs: VifdDirs;
let fresh: VifdDirs;
let vifd: VifdProcess | undefined;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
const summaryOf = (d: VifdDirs) => JSON.parse(readFileSync(join(d.state, 'summary.json'), 'utf8')) as Record<string, number>;
const ifindexes = () => ports.map((n) => linksIn(netns).get(tapOf(n))?.ifindex);
const args = (extra: string[] = []) => ['--etcd', etcd.url, '--hostname', host, '--etcd-lease-seconds', '2', '--etcd-initial-timeout-seconds', '1', ...extra];

beforeAll(async () => {
  etcd = await TestEtcd.start();
  createNetns(netns);
  dirs = makeDirs('etcdo');
  fresh = makeDirs('etcdo-fresh');
  for (const n of ports) etcd.put(`${prefix}${portUuid(n)}`, bridgeBinding(n, bridge));
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  await etcd?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
  if (fresh) removeDirs(fresh);
});

describe('etcd outages', () => {
  it('keeps and repairs the last known state while etcd is down, and reports stale', async () => {
    vifd = VifdProcess.run(dirs, netns, args());
    await waitFor(() => ifindexes().every((i) => i !== undefined), 15_000, 'bindings plugged');
    const before = ifindexes();
    await etcd.kill();
    await waitFor(() => summaryOf(dirs)['etcdStale'] === 1, 10_000, 'stale reported');
    const status = execFileSync(process.execPath, [VIFD_BIN, 'status', '--state-dir', dirs.state], { encoding: 'utf8' });
    expect(status).toContain('STALE');
    ipIn(netns, 'link', 'set', tapOf(11), 'nomaster'); // damage while etcd is down
    await waitFor(() => linksIn(netns).get(tapOf(11))?.master === bridge, 10_000, 'repaired while stale');
    await new Promise((r) => setTimeout(r, 3000));
    expect(ifindexes()).toEqual(before); // nothing unplugged or recreated
    await etcd.launch();
    await waitFor(() => summaryOf(dirs)['etcdStale'] === 0, 20_000, 'live again');
    expect(ifindexes()).toEqual(before);
    expect(await vifd.stop()).toBe(0);
    vifd = undefined;
  });

  it('starting while etcd is down unplugs nothing (cache, or no cache at all)', async () => {
    const before = ifindexes();
    await etcd.kill();
    // Same state dir: the cached etcd state stands in.
    vifd = VifdProcess.run(dirs, netns, args());
    await waitServing(dirs.state, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(ifindexes()).toEqual(before);
    expect(summaryOf(dirs)['etcdStale']).toBe(1);
    expect(await vifd.stop()).toBe(0);
    // A fresh state dir (no cache): owned devices are held, not unplugged.
    vifd = VifdProcess.run(fresh, netns, args());
    await waitServing(fresh.state, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(ifindexes()).toEqual(before);
    await etcd.launch();
    // Live again means listed, and the hold on removals is released as soon as the list lands.
    await waitFor(() => summaryOf(fresh)['etcdStale'] === 0, 20_000, 'late load');
    await new Promise((r) => setTimeout(r, 1000));
    expect(ifindexes()).toEqual(before);
  });

  it('a SIGKILLed vifd: its lease expires, alive and status keys go, the fleet shows the host down', async () => {
    const statusPrefix = `/vifd/v1/hosts/${host}/status/`;
    await waitFor(() => etcd.getPrefix(statusPrefix).size === ports.length && etcd.get(`/vifd/v1/hosts/${host}/alive`) !== undefined, 15_000, 'statuses written');
    const fleetUp = execFileSync(process.execPath, [VIFD_BIN, 'status', '--etcd', etcd.url], { encoding: 'utf8' });
    expect(fleetUp).toMatch(new RegExp(`${host}\\s+alive\\s+3\\s+3 Ready`, 'u'));
    const killedAt = Date.now();
    await vifd!.stop('SIGKILL');
    vifd = undefined;
    await waitFor(() => etcd.get(`/vifd/v1/hosts/${host}/alive`) === undefined && etcd.getPrefix(statusPrefix).size === 0, 15_000, 'lease expired');
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const fleetDown = execFileSync(process.execPath, [VIFD_BIN, 'status', '--etcd', etcd.url], { encoding: 'utf8' });
    expect(fleetDown).toMatch(new RegExp(`${host}\\s+DOWN\\s+3`, 'u'));
    expect(ifindexes().every((i) => i !== undefined)).toBe(true); // devices untouched by the kill
  });
});
