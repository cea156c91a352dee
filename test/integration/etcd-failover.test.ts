// A 3-member etcd cluster on loopback (distinct ports, temp data dirs, each
// member started and stopped by pid from here) and `vifd run --etcd a,b,c`:
// the member vifd watches is killed mid-watch; vifd fails over to another
// member, resumes its watch from the last revision (no relist), keeps every
// port, and applies a write made after the kill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestEtcdCluster } from '../helpers/etcd.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, removeDirs, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('etcdf');
const host = `host-${netns}`;
const bridge = 'br-etcdf';
let cluster: TestEtcdCluster;
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
const bindingKey = (n: number) => `/vifd/v1/hosts/${host}/bindings/${portUuid(n)}`;
const phaseInEtcd = (n: number) => {
  const value = cluster.get(`/vifd/v1/hosts/${host}/status/${portUuid(n)}`);
  return value ? (JSON.parse(value) as { phase: string }).phase : undefined;
};
const summary = () => JSON.parse(readFileSync(join(dirs.state, 'summary.json'), 'utf8')) as Record<string, number>;

beforeAll(async () => {
  cluster = await TestEtcdCluster.start(3);
  createNetns(netns);
  dirs = makeDirs('etcdf');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  await cluster?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
});

describe('etcd cluster failover', () => {
  it('fails over when the watched member dies, resumes from the last revision with no relist, keeps every port', async () => {
    for (const n of [1, 2, 3]) cluster.put(bindingKey(n), bridgeBinding(n, bridge));
    // The first endpoint is the one vifd talks to (and watches on) first.
    vifd = VifdProcess.run(dirs, netns, ['--etcd', cluster.urls, '--hostname', host, '--etcd-lease-seconds', '3']);
    await waitFor(() => [1, 2, 3].every((n) => phaseInEtcd(n) === 'Ready'), 20_000, 'Ready in etcd');
    await waitFor(() => summary()['etcdStale'] === 0, 10_000, 'watch live');
    const before = [1, 2, 3].map((n) => linksIn(netns).get(tapOf(n))!.ifindex);

    const victim = cluster.members[0]!;
    const pid = victim.pid;
    const resumesBefore = summary()['etcdResumes']!;
    await victim.kill('SIGKILL');
    expect(pid).toBeGreaterThan(0);
    // The broken watch makes the desired state stale until a watch on another member resumes (either may already be past).
    await waitFor(() => summary()['etcdStale'] === 1 || summary()['etcdResumes']! > resumesBefore, 10_000, 'watch on the killed member broke');

    cluster.put(bindingKey(4), bridgeBinding(4, bridge)); // a write after the kill
    await waitFor(() => linksIn(netns).has(tapOf(4)), 20_000, 'write after the kill applied');
    await waitFor(() => phaseInEtcd(4) === 'Ready', 20_000, 'its status written via another member');
    await waitFor(() => summary()['etcdStale'] === 0 && summary()['etcdResumes']! >= 1, 10_000, 'watch resumed');
    expect(summary()['etcdRelists']).toBe(0);
    expect([1, 2, 3].map((n) => linksIn(netns).get(tapOf(n))?.ifindex)).toEqual(before);

    // A delete through the new member is applied too, and the killed member can come back.
    cluster.ctl('del', bindingKey(2));
    await waitFor(() => !linksIn(netns).has(tapOf(2)), 20_000, 'delete after failover applied');
    await victim.launch();
    expect(summary()['etcdRelists']).toBe(0);
    expect(await vifd.stop()).toBe(0);
    vifd = undefined;
  });
});
