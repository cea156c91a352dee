// The real `vifd run --netns` against real kernel devices in a throwaway
// namespace: Linux bridge bindings end to end.
import { execFileSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, VIFD_BIN, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('bridge');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);

function phases(): Record<string, string> {
  return Object.fromEntries([...readStatuses(dirs)].map(([port, s]) => [port, s.phase]));
}

async function waitPhase(n: number, phase: string, what = `${portUuid(n)} ${phase}`): Promise<void> {
  await waitFor(() => readStatuses(dirs).get(portUuid(n))?.phase === phase, 15_000, what);
}

beforeAll(() => {
  createNetns(netns);
  dirs = makeDirs('bridge');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('bridge bindings on a real kernel', () => {
  it('converges several bindings on two bridges', async () => {
    for (let n = 1; n <= 4; n++) writeBinding(dirs, `b${n}.json`, bridgeBinding(n, n <= 2 ? 'brq-one' : 'brq-two', { mtu: 1450 }));
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => [1, 2, 3, 4].every((n) => readStatuses(dirs).get(portUuid(n))?.phase === 'Ready'), 15_000, 'all Ready');
    const links = linksIn(netns);
    for (let n = 1; n <= 4; n++) {
      const tap = links.get(tapOf(n))!;
      expect(tap, tapOf(n)).toBeDefined();
      expect(tap.master).toBe(n <= 2 ? 'brq-one' : 'brq-two');
      expect(tap.mtu).toBe(1450);
      expect(tap.flags).toContain('UP');
      expect(tap.group).toBe('4242');
      expect(tap.ifalias).toBe(`vifd:port:${portUuid(n)}`);
      expect(tap.address).toBe(`fe:${bridgeBinding(n, 'x')['mac']!.toString().slice(3)}`);
      expect(tap.linkinfo?.info_data?.['persist']).toBe(true);
    }
    expect(links.get('brq-one')).toMatchObject({ group: '4242', ifalias: 'vifd:bridge' });
    const status = readStatuses(dirs).get(portUuid(1))!;
    expect(status.libvirt).toContain(`<target dev='${tapOf(1)}' managed='no'/>`);
    expect(status.libvirt).toContain(`<mtu size='1450'/>`);
    expect(status.devices[0]).toMatchObject({ name: tapOf(1), master: 'brq-one', mtu: 1450 });
  });

  it('changes MTU and bridge in place (same ifindex)', async () => {
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    writeBinding(dirs, 'b1.json', bridgeBinding(1, 'brq-two', { mtu: 1400 }));
    await waitFor(() => {
      const tap = linksIn(netns).get(tapOf(1));
      return tap?.mtu === 1400 && tap.master === 'brq-two';
    }, 10_000, 'tap moved with new MTU');
    expect(linksIn(netns).get(tapOf(1))!.ifindex).toBe(before);
    await waitPhase(1, 'Ready');
  });

  it('SIGHUP resyncs at once (systemctl reload) and vifd keeps running', async () => {
    const resyncs = () => (JSON.parse(readFileSync(join(dirs.state, 'summary.json'), 'utf8')) as { resyncs?: number }).resyncs ?? 0;
    const before = resyncs();
    vifd!.child.kill('SIGHUP');
    await waitFor(() => resyncs() > before, 5_000, 'a resync after SIGHUP');
    expect(vifd!.child.exitCode).toBeNull();
  });

  it('repairs a tap deleted, set down or detached behind its back', async () => {
    ipIn(netns, 'link', 'set', tapOf(3), 'down');
    ipIn(netns, 'link', 'set', tapOf(4), 'nomaster');
    ipIn(netns, 'link', 'del', tapOf(2));
    await waitFor(() => {
      const links = linksIn(netns);
      return links.get(tapOf(3))?.flags.includes('UP') === true && links.get(tapOf(4))?.master === 'brq-two' && links.get(tapOf(2))?.master === 'brq-one';
    }, 10_000, 'repair');
  });

  it('unplugs on delete and removes a bridge it made only when its last binding goes', async () => {
    // brq-one now holds only binding 2 (binding 1 moved to brq-two).
    unlinkSync(join(dirs.desired, 'b2.json'));
    await waitFor(() => !linksIn(netns).has(tapOf(2)), 10_000, 'tap 2 gone');
    await waitFor(() => !linksIn(netns).has('brq-one'), 10_000, 'unused brq-one removed');
    await waitFor(() => !readStatuses(dirs).has(portUuid(2)), 5_000, 'status file of the unplugged binding removed');
    unlinkSync(join(dirs.desired, 'b3.json'));
    await waitFor(() => !linksIn(netns).has(tapOf(3)), 10_000, 'tap 3 gone');
    expect(linksIn(netns).has('brq-two')).toBe(true); // bindings 1 and 4 still use it
  });

  it('uses an operator\'s bridge and never changes or removes it', async () => {
    ipIn(netns, 'link', 'add', 'br-op', 'type', 'bridge');
    ipIn(netns, 'link', 'add', 'op-veth0', 'type', 'veth', 'peer', 'name', 'op-veth1');
    ipIn(netns, 'link', 'set', 'op-veth0', 'master', 'br-op');
    const before = linksIn(netns).get('br-op')!;
    writeBinding(dirs, 'op.json', bridgeBinding(10, 'br-op'));
    await waitPhase(10, 'Ready');
    expect(linksIn(netns).get(tapOf(10))?.master).toBe('br-op');
    unlinkSync(join(dirs.desired, 'op.json'));
    await waitFor(() => !linksIn(netns).has(tapOf(10)), 10_000, 'tap 10 gone');
    const after = linksIn(netns).get('br-op')!;
    expect(after).toMatchObject({ ifindex: before.ifindex, mtu: before.mtu, flags: before.flags, group: 'default' });
    expect(after.ifalias).toBeUndefined();
  });

  it('an invalid edit is reported and the last valid version stays applied', async () => {
    writeBinding(dirs, 'b4.json', { ...bridgeBinding(4, 'brq-two'), mtu: 12 });
    await waitPhase(4, 'Invalid');
    const status = readStatuses(dirs).get(portUuid(4))!;
    expect(status.problems).toEqual([{ path: 'mtu', message: expect.stringMatching(/68/) }]);
    expect(status.message).toMatch(/last valid version stays applied/);
    expect(linksIn(netns).get(tapOf(4))?.master).toBe('brq-two');
    writeBinding(dirs, 'b4.json', bridgeBinding(4, 'brq-two'));
    await waitPhase(4, 'Ready');
  });

  it('a half-written file is not applied until it parses; swap and temp files are ignored', async () => {
    const full = JSON.stringify(bridgeBinding(11, 'brq-two'), null, 2);
    const path = join(dirs.desired, 'half.json');
    writeFileSync(path, full.slice(0, 40));
    writeFileSync(join(dirs.desired, '.half.json.swp'), 'garbage');
    writeFileSync(join(dirs.desired, 'half.json~'), 'garbage');
    writeFileSync(join(dirs.desired, 'notes.txt'), 'garbage');
    await new Promise((r) => setTimeout(r, 500));
    expect(linksIn(netns).has(tapOf(11))).toBe(false);
    writeFileSync(path, full);
    await waitPhase(11, 'Ready');
    expect(linksIn(netns).get(tapOf(11))?.master).toBe('brq-two');
  });

  it('refuses a file over 1 MiB', async () => {
    const doc = { ...bridgeBinding(12, 'brq-two'), padding: 'x'.repeat(1024 * 1024 + 10) };
    writeFileSync(join(dirs.desired, 'huge.json'), JSON.stringify(doc));
    await new Promise((r) => setTimeout(r, 500));
    expect(linksIn(netns).has(tapOf(12))).toBe(false);
    await vifd!.waitForLog(/^(?=.*huge\.json)(?=.*1048576-byte limit)/u);
    unlinkSync(join(dirs.desired, 'huge.json'));
  });

  it('a foreign device holding a desired name is a Conflict and stays untouched', async () => {
    ipIn(netns, 'tuntap', 'add', 'dev', tapOf(13), 'mode', 'tap');
    const before = linksIn(netns).get(tapOf(13))!;
    writeBinding(dirs, 'c13.json', bridgeBinding(13, 'brq-two'));
    await waitPhase(13, 'Conflict');
    expect(readStatuses(dirs).get(portUuid(13))!.message).toMatch(/not own/);
    const after = linksIn(netns).get(tapOf(13))!;
    expect(after).toMatchObject({ ifindex: before.ifindex, group: 'default', flags: before.flags });
    expect(after.master).toBeUndefined();
    // Once the operator removes it, vifd plugs the binding.
    ipIn(netns, 'link', 'del', tapOf(13));
    await waitPhase(13, 'Ready');
  });

  it('two bindings claiming one tap name: the first keeps it', async () => {
    writeBinding(dirs, 'd14.json', bridgeBinding(14, 'brq-two', { vif: { type: 'bridge', bridge: 'brq-two', tap: 'shared-tap' } }));
    await waitPhase(14, 'Ready');
    writeBinding(dirs, 'd15.json', bridgeBinding(15, 'brq-two', { vif: { type: 'bridge', bridge: 'brq-two', tap: 'shared-tap' } }));
    await waitPhase(15, 'Conflict');
    expect(readStatuses(dirs).get(portUuid(15))!.message).toMatch(`claimed by port ${portUuid(14)}`);
    expect(linksIn(netns).get('shared-tap')?.ifalias).toBe(`vifd:port:${portUuid(14)}`);
  });

  it('vifd plan reports nothing to do on a converged namespace and changes nothing', async () => {
    const out = execFileSync(process.execPath, [VIFD_BIN, 'plan', '--desired-dir', dirs.desired, '--netns', netns], { encoding: 'utf8' });
    expect(out).toMatch(/^0 action\(s\)/m);
  });

  it('exits 0 on SIGTERM, tears nothing down, and a restart recreates nothing', async () => {
    const before = linksIn(netns);
    expect(await vifd!.stop('SIGTERM')).toBe(0);
    expect([...linksIn(netns).keys()].sort()).toEqual([...before.keys()].sort());
    vifd = VifdProcess.run(dirs, netns);
    await waitReady(dirs.state, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const after = linksIn(netns);
    for (const [name, link] of before) expect(after.get(name)?.ifindex, name).toBe(link.ifindex);
    expect(vifd.logs.some((l) => l.includes('round applied'))).toBe(false);
    expect(phases()[portUuid(1)]).toBe('Ready');
  });

  it('a second vifd on the same state directory is refused', async () => {
    const second = VifdProcess.run(dirs, netns);
    expect(await second.exited).toBe(1);
    expect(second.logs.join('\n')).toMatch(/already runs on state directory/);
  });
});
