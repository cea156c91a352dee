// ML2/OVS-style wiring without OVN: `isolate` puts a new port in VLAN 4095,
// a stand-in agent (ovs-vsctl set Port ... tag=5) wires it, and vifd never
// touches the VLAN again (restart, resync); readyWhen "ofport" turns Ready
// when the tag leaves 4095. `vlan` makes vifd own (and repair) the columns.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { portsOf, startOvs, stopOvs, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { macFor, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('ovsvlan');
let dirs: VifdDirs;
let ovs: PrivateOvs;
let vifd: VifdProcess | undefined;

const WAIT = 30_000;
const TEST = 120_000;
const tap = (n: number) => `tap${portUuid(n)}`.slice(0, 14);

function binding(n: number, vif: Record<string, unknown>) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port: portUuid(n), mac: macFor(n), vif: { type: 'ovs', bridge: 'br-int', datapathType: 'netdev', profile: {}, ...vif } };
}
const status = (n: number) => readStatuses(dirs).get(portUuid(n));
const ready = (n: number) => status(n)?.phase === 'Ready';
const run = () => VifdProcess.run(dirs, netns, ['--ovsdb', ovs.address, '--resync-seconds', '1']);
const vlanOf = (n: number) => ({ tag: vsctl(ovs, 'get', 'Port', tap(n), 'tag'), trunks: vsctl(ovs, 'get', 'Port', tap(n), 'trunks'), mode: vsctl(ovs, 'get', 'Port', tap(n), 'vlan_mode') });
/** The database log's first record that holds the Port row named `name` (its insert). */
function portInsert(name: string): Record<string, unknown> | undefined {
  for (const line of readFileSync(join(ovs.dir, 'conf.db'), 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as { Port?: Record<string, Record<string, unknown> | null>; _comment?: string };
    for (const row of Object.values(record.Port ?? {})) if (row?.name === name) return { ...row, _comment: record._comment };
  }
  return undefined;
}
const vifdTransactions = () => readFileSync(join(ovs.dir, 'conf.db'), 'utf8').split('"_comment":"vifd"').length - 1;

beforeAll(() => {
  createNetns(netns);
  ovs = startOvs(netns);
  dirs = makeDirs('ovsvlan');
  vsctl(ovs, 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
}, WAIT);

afterAll(async () => {
  if (process.env.VIFD_TEST_LOGS) console.log(vifd?.logs.slice(-80).join('\n'));
  await vifd?.stop('SIGKILL');
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
}, WAIT);

describe('an ML2/OVS-style agent owns the VLAN of isolated ports', () => {
  it('isolate: the new port is in VLAN 4095 from its first moment; readyWhen "ofport" waits for the agent', async () => {
    writeBinding(dirs, 'p1.json', binding(1, { isolate: true, readyWhen: 'ofport' }));
    vifd = run();
    await waitFor(() => portsOf(ovs, 'br-int').includes(tap(1)), WAIT, 'p1 port added');
    expect(vlanOf(1)).toEqual({ tag: '4095', trunks: '[4095]', mode: 'trunk' });
    // The very transaction that created the row put it in VLAN 4095: never untagged on br-int.
    expect(portInsert(tap(1))).toMatchObject({ _comment: 'vifd', tag: 4095, trunks: 4095, vlan_mode: 'trunk' });
    await waitFor(() => status(1)?.phase === 'Pending' && /out of VLAN 4095/.test(status(1)!.message), WAIT, 'p1 Pending on the agent');
    await new Promise((r) => setTimeout(r, 2000)); // resyncs do not change that
    expect(status(1)?.phase).toBe('Pending');
    expect(vlanOf(1).tag).toBe('4095');
  }, TEST);

  it('the stand-in agent sets tag 5: Ready; resyncs and a restart keep 5 and write nothing', async () => {
    vsctl(ovs, 'set', 'Port', tap(1), 'tag=5');
    await waitFor(() => ready(1), WAIT, 'p1 Ready once the tag left 4095');
    await new Promise((r) => setTimeout(r, 2500)); // two resyncs
    expect(vlanOf(1)).toEqual({ tag: '5', trunks: '[4095]', mode: 'trunk' });
    const before = vifdTransactions();
    expect(await vifd!.stop('SIGTERM')).toBe(0);
    vifd = run();
    await waitReady(dirs.state, { timeoutMs: WAIT });
    await waitFor(() => ready(1), WAIT, 'p1 Ready after the restart');
    await new Promise((r) => setTimeout(r, 2500));
    expect(vlanOf(1)).toEqual({ tag: '5', trunks: '[4095]', mode: 'trunk' });
    expect(vifdTransactions()).toBe(before);
    // Taken back to the dead VLAN (the agent marks it down): Pending again.
    vsctl(ovs, 'set', 'Port', tap(1), 'tag=4095');
    await waitFor(() => status(1)?.phase === 'Pending', WAIT, 'p1 Pending again');
    vsctl(ovs, 'set', 'Port', tap(1), 'tag=5');
    await waitFor(() => ready(1), WAIT, 'p1 Ready again');
  }, TEST);

  it('vlan: vifd applies the tag it is given and repairs it', async () => {
    writeBinding(dirs, 'p2.json', binding(2, { vlan: { tag: 100 } }));
    await waitFor(() => ready(2), WAIT, 'p2 Ready');
    expect(vlanOf(2)).toEqual({ tag: '100', trunks: '[]', mode: 'access' });
    vsctl(ovs, 'set', 'Port', tap(2), 'tag=7');
    await waitFor(() => vlanOf(2).tag === '100', WAIT, 'p2 tag repaired');
    expect(vlanOf(1).tag).toBe('5');
  }, TEST);

  it('isolate with vlan is Invalid, naming the field', async () => {
    writeBinding(dirs, 'p3.json', binding(3, { isolate: true, vlan: { tag: 9 } }));
    await waitFor(() => status(3)?.phase === 'Invalid', WAIT, 'p3 Invalid');
    expect(status(3)?.problems).toContainEqual({ path: 'vif.vlan', message: expect.stringMatching(/cannot be combined with isolate/) });
    expect(portsOf(ovs, 'br-int')).not.toContain(tap(3));
  }, TEST);
});
