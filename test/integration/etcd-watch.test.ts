// etcd source against a real private etcd and a real `vifd run --netns`:
// list + watch, changes and deletes applied, invalid documents, a port from
// two sources, resume after an etcd restart, compaction forcing a relist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestEtcd } from '../helpers/etcd.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('etcdw');
const host = `host-${netns}`;
const prefix = `/vifd/v1/hosts/${host}/bindings/`;
const bridge = 'br-etcdw';
let etcd: TestEtcd;
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
const bindingKey = (n: number) => `${prefix}${portUuid(n)}`;
const statusKey = (n: number) => `/vifd/v1/hosts/${host}/status/${portUuid(n)}`;
const summary = () => JSON.parse(readFileSync(join(dirs.state, 'summary.json'), 'utf8')) as Record<string, number>;
const etcdStatus = (n: number) => {
  const value = etcd.get(statusKey(n));
  return value ? (JSON.parse(value) as { phase: string; message: string; libvirt?: string }) : undefined;
};

beforeAll(async () => {
  etcd = await TestEtcd.start();
  createNetns(netns);
  dirs = makeDirs('etcdw');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  await etcd?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
});

describe('etcd source', () => {
  it('lists what is there at start, then applies puts, changes and deletes', async () => {
    etcd.put(bindingKey(1), bridgeBinding(1, bridge));
    etcd.put(bindingKey(2), bridgeBinding(2, bridge));
    vifd = VifdProcess.run(dirs, netns, ['--etcd', etcd.url, '--hostname', host]);
    await waitFor(() => linksIn(netns).has(tapOf(1)) && linksIn(netns).has(tapOf(2)), 15_000, 'listed taps');
    await waitFor(() => etcdStatus(1)?.phase === 'Ready' && etcdStatus(2)?.phase === 'Ready', 10_000, 'Ready in etcd');
    expect(etcdStatus(1)!.libvirt).toContain(`<target dev='${tapOf(1)}'`);
    expect(etcd.get(`/vifd/v1/hosts/${host}/alive`)).toBeDefined();

    etcd.put(bindingKey(3), bridgeBinding(3, bridge, { mtu: 1400 }));
    await waitFor(() => linksIn(netns).get(tapOf(3))?.mtu === 1400, 10_000, 'watched put');
    const ifindex = linksIn(netns).get(tapOf(3))!.ifindex;
    etcd.put(bindingKey(3), bridgeBinding(3, bridge, { mtu: 1300 }));
    await waitFor(() => linksIn(netns).get(tapOf(3))?.mtu === 1300, 10_000, 'watched change');
    expect(linksIn(netns).get(tapOf(3))!.ifindex).toBe(ifindex);

    etcd.ctl('del', bindingKey(2));
    await waitFor(() => !linksIn(netns).has(tapOf(2)), 10_000, 'watched delete unplugs');
    await waitFor(() => etcdStatus(2) === undefined, 10_000, 'status key removed');
  });

  it('reports invalid documents and a port key mismatch, keeping the last valid version', async () => {
    etcd.put(bindingKey(3), '{"apiVersion":"vifd/v1",');
    await waitFor(() => etcdStatus(3)?.phase === 'Invalid', 10_000, 'Invalid');
    expect(etcdStatus(3)!.message).toContain('not valid JSON');
    expect(linksIn(netns).get(tapOf(3))?.mtu).toBe(1300); // last valid version stays

    etcd.put(bindingKey(4), bridgeBinding(5, bridge));
    await waitFor(() => etcdStatus(4)?.phase === 'Invalid', 10_000, 'port mismatch Invalid');
    expect(etcdStatus(4)!.message).toContain("key's last segment");
    expect(linksIn(netns).has(tapOf(5))).toBe(false);
    etcd.ctl('del', bindingKey(4));
    etcd.put(bindingKey(3), bridgeBinding(3, bridge, { mtu: 1300 }));
    await waitFor(() => etcdStatus(3)?.phase === 'Ready', 10_000, 'valid again');
  });

  it('the same port from a file and from etcd: first accepted wins, the other is reported', async () => {
    writeBinding(dirs, 'dup.json', bridgeBinding(1, bridge, { mtu: 1280 }));
    await waitFor(() => (readStatuses(dirs).get(portUuid(1))?.conflicts ?? []).includes('file:dup.json'), 10_000, 'shadowed source reported');
    expect(linksIn(netns).get(tapOf(1))!.mtu).not.toBe(1280); // etcd was first
  });

  it('resumes the watch from the last revision after an etcd restart (no relist)', async () => {
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    await etcd.restart(500);
    await waitFor(() => summary()['etcdStale'] === 0 && summary()['etcdResumes']! >= 1, 20_000, 'watch resumed');
    expect(summary()['etcdRelists']).toBe(0);
    etcd.put(bindingKey(6), bridgeBinding(6, bridge));
    await waitFor(() => linksIn(netns).has(tapOf(6)), 10_000, 'put after restart');
    expect(linksIn(netns).get(tapOf(1))!.ifindex).toBe(before);
  });

  it('relists when the revision to resume from was compacted, and deletes what vanished', async () => {
    vifd!.child.kill('SIGSTOP');
    try {
      await etcd.restart();
      etcd.ctl('del', bindingKey(6));
      etcd.put(bindingKey(7), bridgeBinding(7, bridge));
      etcd.ctl('compact', String(etcd.revision()));
    } finally {
      vifd!.child.kill('SIGCONT');
    }
    await waitFor(() => !linksIn(netns).has(tapOf(6)) && linksIn(netns).has(tapOf(7)), 20_000, 'relist applied');
    await waitFor(() => summary()['etcdRelists'] === 1 && summary()['etcdStale'] === 0, 10_000, 'one relist counted');
    expect(linksIn(netns).has(tapOf(1))).toBe(true);
    expect(await vifd!.stop()).toBe(0);
    vifd = undefined;
  });
});
