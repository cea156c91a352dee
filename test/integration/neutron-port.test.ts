// Neutron's port as input, from the directory and the API, on the real
// daemon; `vifd validate` and `vifd plan` take it too.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { waitForApi } from '../helpers/api-watch.js';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { makeDirs, readStatuses, removeDirs, VifdProcess, VIFD_BIN, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('neutron');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let client: ApiClient;
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/neutron-port-ovs.json'), 'utf8')) as Record<string, unknown>;
const P1 = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const P2 = '4f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const linuxBridgePort = (id: string, network: string) => ({
  ...fixture,
  id,
  network_id: network,
  'binding:vif_type': 'bridge',
  'binding:vif_details': { port_filter: true },
});
const doc = (neutronPort: unknown) => ({ apiVersion: 'vifd/v1', kind: 'NeutronPort', neutronPort, mtu: 1450 });

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('neutron');
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

describe('NeutronPort documents', () => {
  it('validate and plan take a NeutronPort file; an unbound one is Invalid naming the field', () => {
    const good = join(dirs.root, 'good.json');
    const bad = join(dirs.root, 'bad.json');
    writeFileSync(good, JSON.stringify(doc(linuxBridgePort(P1, '6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'))));
    writeFileSync(bad, JSON.stringify(doc({ ...linuxBridgePort(P1, 'x'), 'binding:vif_type': 'binding_failed' })));
    expect(execFileSync(process.execPath, [VIFD_BIN, 'validate', good], { encoding: 'utf8' })).toContain('ok (1 binding)');
    const invalid = spawnSync(process.execPath, [VIFD_BIN, 'validate', bad], { encoding: 'utf8' });
    expect(invalid.status).toBe(1);
    expect(invalid.stdout).toContain('neutronPort.binding:vif_type: "binding_failed"');
    const planDir = join(dirs.root, 'plan');
    execFileSync('mkdir', ['-p', planDir]);
    writeFileSync(join(planDir, 'n.json'), readFileSync(good));
    const plan = execFileSync(process.execPath, [VIFD_BIN, 'plan', '--desired-dir', planDir, '--netns', netns], { encoding: 'utf8' });
    expect(plan).toContain('brq6a1c2b3d-4e');
    expect(plan).not.toContain('tap3f2a8c71-5b'); // Nova's Linux bridge VIF: libvirt makes the tap
  });

  it('from the directory: plugged as Neutron describes it (the bridge; the tap is the hypervisor\'s, as with Nova), the status names the kind', async () => {
    writeBinding(dirs, 'n1.json', doc(linuxBridgePort(P1, '6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d')));
    await waitFor(() => readStatuses(dirs).get(P1)?.phase === 'Ready', 15_000, 'Ready');
    expect(linksIn(netns).get('brq6a1c2b3d-4e')?.ifalias).toBe('vifd:bridge');
    expect(linksIn(netns).has('tap3f2a8c71-5b')).toBe(false);
    const status = readStatuses(dirs).get(P1) as unknown as { documentKind: string; libvirt: string; attached: boolean };
    expect(status.documentKind).toBe('NeutronPort');
    expect(status.libvirt).toContain("<interface type='bridge'>");
    expect(status.libvirt).toContain("<source bridge='brq6a1c2b3d-4e'/>");
    expect(status.libvirt).toContain("<mac address='fa:16:3e:5d:12:7a'/>");
    expect(status.attached).toBe(false);
    // The hypervisor makes its tap on the bridge (as libvirt does for type='bridge').
    ipIn(netns, 'tuntap', 'add', 'tap3f2a8c71-5b', 'mode', 'tap');
    ipIn(netns, 'link', 'set', 'tap3f2a8c71-5b', 'master', 'brq6a1c2b3d-4e', 'up');
    await new Promise((r) => setTimeout(r, 500)); // a round has looked at the new tap
    expect(linksIn(netns).get('tap3f2a8c71-5b')?.group).not.toBe('4242'); // never taken over
  });

  it('through the API, and kept as sent across a restart', async () => {
    const body = doc({ ...linuxBridgePort(P2, '7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'), mac_address: 'fa:16:3e:5d:12:7b' });
    const put = await client.request<{ generation: number }>('PUT', `/v1/bindings/${P2}`, body);
    expect(put.status).toBe(201);
    await waitFor(() => readStatuses(dirs).get(P2)?.phase === 'Ready', 15_000, 'Ready');
    const failed = await client.request<{ problems: Array<{ path: string }> }>('PUT', `/v1/bindings/${P2}`, doc({ ...linuxBridgePort(P2, 'x'), 'binding:vnic_type': 'direct' }));
    expect(failed.status).toBe(400);
    expect(failed.body.problems[0]?.path).toBe('neutronPort.binding:vnic_type');
    client.destroy();
    await vifd!.stop();
    vifd = VifdProcess.run(dirs, netns);
    client = new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') });
    await waitForApi(client);
    await waitFor(() => (readStatuses(dirs).get(P2) as unknown as { documentKind?: string } | undefined)?.documentKind === 'NeutronPort', 15_000, 'kind kept');
    expect(linksIn(netns).get('brq7a1c2b3d-4e')?.ifalias).toBe('vifd:bridge');
  });
});
