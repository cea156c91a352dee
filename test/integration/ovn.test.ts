// vifd next to a real OVN (ovn-northd, ovn-controller): ports are claimed by
// iface-id and released on unplug, the "ovn-installed" readiness gate, a
// restart that writes nothing to OVSDB, and a br-int vifd created surviving
// vifd's last unplug once ovn-controller uses it.
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { boundChassis, lspUp, nbctl, startOvnCentral, startOvnController, stopOvn, type PrivateOvn } from '../helpers/ovn.js';
import { interfaceIds, portsOf, startOvs, stopOvs, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { macFor, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('ovn');
let dirs: VifdDirs;
let ovs: PrivateOvs;
let ovn: PrivateOvn | undefined;
let vifd: VifdProcess | undefined;

const name = (prefix: string, n: number) => `${prefix}${portUuid(n)}`.slice(0, 14);
const WAIT = 30_000;
const TEST = 120_000;

function binding(n: number, vif: Record<string, unknown> = {}) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port: portUuid(n), mac: macFor(n), vif: { type: 'ovs', bridge: 'br-int', datapathType: 'netdev', profile: {}, ...vif } };
}
const status = (n: number) => readStatuses(dirs).get(portUuid(n)) as (ReturnType<typeof readStatuses> extends Map<string, infer S> ? S : never) & { pluggedAt?: string; readyAt?: string } | undefined;
const ready = (n: number) => status(n)?.phase === 'Ready';
const run = () => VifdProcess.run(dirs, netns, ['--ovsdb', ovs.address, '--resync-seconds', '2']);
const addLsp = (n: number) => nbctl(ovn!, 'lsp-add', 'ls0', portUuid(n), '--', 'lsp-set-addresses', portUuid(n), macFor(n));
const claimed = (n: number) => boundChassis(ovn!, portUuid(n)) === ovn!.chassis && lspUp(ovn!, portUuid(n)) === 'true';
const released = (n: number) => boundChassis(ovn!, portUuid(n)) === '' && lspUp(ovn!, portUuid(n)) !== 'true';
/** vifd's committed OVSDB transactions: each carries the comment "vifd" in the database log. */
const vifdTransactions = () => readFileSync(join(ovs.dir, 'conf.db'), 'utf8').split('"_comment":"vifd"').length - 1;

beforeAll(() => {
  createNetns(netns);
  ovs = startOvs(netns); // no br-int: vifd creates it
  dirs = makeDirs('ovn');
  ovn = startOvnCentral(ovs);
  nbctl(ovn, 'ls-add', 'ls0');
}, WAIT);

afterAll(async () => {
  if (process.env.VIFD_TEST_LOGS) console.log(vifd?.logs.slice(-80).join('\n'));
  await vifd?.stop('SIGKILL');
  stopOvn(ovn);
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
}, WAIT);

describe('vifd with OVN', () => {
  it('creates br-int before OVN runs; ovn-controller then claims its plain port by iface-id', async () => {
    writeBinding(dirs, 'p1.json', binding(1));
    vifd = run();
    await waitFor(() => ready(1), WAIT, 'p1 Ready');
    expect(vsctl(ovs, 'br-get-external-id', 'br-int', 'vifd-owner')).toBe('vifd');
    addLsp(1);
    addLsp(2);
    startOvnController(ovn!);
    await waitFor(() => claimed(1), WAIT, 'p1 claimed (SB chassis, NB up)');
    await waitFor(() => interfaceIds(ovs).get(name('tap', 1))?.['ovn-installed'] === 'true', WAIT, 'ovn-installed on p1');
    // ovn-controller took br-int over; vifd's keys on the Interface are all there, next to OVN's.
    expect(vsctl(ovs, 'get', 'Bridge', 'br-int', 'fail_mode')).toBe('secure');
    expect(interfaceIds(ovs).get(name('tap', 1))).toMatchObject({ 'iface-id': portUuid(1), 'attached-mac': macFor(1), 'iface-status': 'active', 'vifd-port': portUuid(1) });
    expect(ready(1)).toBe(true);
  }, TEST);

  it('a hybrid port is claimed too', async () => {
    writeBinding(dirs, 'h2.json', binding(2, { hybrid: true }));
    await waitFor(() => ready(2), WAIT, 'h2 Ready');
    await waitFor(() => claimed(2), WAIT, 'h2 claimed');
    expect(interfaceIds(ovs).get(name('qvo', 2))?.['iface-id']).toBe(portUuid(2));
  }, TEST);

  it('readyWhen "ovn-installed": Pending, saying so, until ovn-controller has installed the port; then Ready', async () => {
    writeBinding(dirs, 'p3.json', binding(3, { readyWhen: 'ovn-installed' }));
    await waitFor(() => portsOf(ovs, 'br-int').includes(name('tap', 3)) && status(3)?.pluggedAt !== undefined, WAIT, 'p3 plugged');
    // No logical port by that name yet: ovn-controller does not install it, so it stays Pending.
    await new Promise((r) => setTimeout(r, 2500));
    const pending = status(3)!;
    expect(pending.phase).toBe('Pending');
    expect(pending.message).toMatch(/ovn-installed=true/);
    expect(pending.readyAt).toBeUndefined();
    expect(interfaceIds(ovs).get(name('tap', 3))?.['ovn-installed']).toBeUndefined();
    addLsp(3);
    await waitFor(() => ready(3), WAIT, 'p3 Ready after ovn-installed');
    expect(interfaceIds(ovs).get(name('tap', 3))?.['ovn-installed']).toBe('true');
    expect(claimed(3)).toBe(true);
    const done = status(3)!;
    expect(Date.parse(done.readyAt!)).toBeGreaterThanOrEqual(Date.parse(done.pluggedAt!));
    const metrics = (await new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') }).request<string>('GET', '/metrics')).body;
    expect(Number(/^vifd_desired_to_ready_seconds_count (\d+)$/mu.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(/^vifd_desired_to_plugged_seconds_count (\d+)$/mu.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
  }, TEST);

  it('a restart writes nothing to OVSDB, and OVN keeps its claims', async () => {
    // Let ovn-controller's own writes settle, then count vifd's.
    await new Promise((r) => setTimeout(r, 1000));
    const before = vifdTransactions();
    expect(before).toBeGreaterThan(0);
    expect(await vifd!.stop('SIGTERM')).toBe(0);
    vifd = run();
    await waitReady(dirs.state, { timeoutMs: WAIT });
    await waitFor(() => ready(1) && ready(2) && ready(3), WAIT, 'all Ready after the restart');
    await new Promise((r) => setTimeout(r, 5000)); // two resyncs
    expect(vifdTransactions()).toBe(before);
    expect(claimed(1) && claimed(2) && claimed(3)).toBe(true);
  }, TEST);

  it('unplug releases the claim', async () => {
    unlinkSync(join(dirs.desired, 'p1.json'));
    await waitFor(() => !portsOf(ovs, 'br-int').includes(name('tap', 1)), WAIT, 'p1 unplugged');
    await waitFor(() => released(1), WAIT, 'p1 released (SB chassis cleared, NB up false)');
    expect(claimed(2)).toBe(true);
  }, TEST);

  it('br-int, created by vifd, survives vifd\'s last unplug once OVN uses it, and vifd says why', async () => {
    unlinkSync(join(dirs.desired, 'h2.json'));
    unlinkSync(join(dirs.desired, 'p3.json'));
    await waitFor(() => !portsOf(ovs, 'br-int').includes(name('qvo', 2)) && !portsOf(ovs, 'br-int').includes(name('tap', 3)), WAIT, 'all unplugged');
    await waitFor(() => vifd!.logs.some((l) => l.includes('unused OVS bridge br-int kept')), WAIT, 'the log says br-int is kept');
    await new Promise((r) => setTimeout(r, 3000)); // a resync later, too
    expect(vsctl(ovs, 'list-br').split('\n')).toContain('br-int');
    expect(vifd!.logs.find((l) => l.includes('unused OVS bridge br-int kept'))).toMatch(/OVN's integration bridge/);
    await waitFor(() => released(2) && released(3), WAIT, 'all released');
  }, TEST);
});
