// A hostile environment around the real daemon: a full and a read-only state
// filesystem, its API socket taken, two starts at the same instant, a hung
// ovsdb-server, the link monitor killed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { startOvs, stopOvs, type PrivateOvs } from '../helpers/ovs.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { readiness, waitReady, waitServing } from '../support/readiness.js';

const netns = uniqueNetnsName('hostile-st');
let dirs: VifdDirs;
let mounted: string | undefined;
const running: VifdProcess[] = [];
let ovs: PrivateOvs | undefined;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
const start = (d: VifdDirs, extra: string[] = []) => {
  const p = VifdProcess.run(d, netns, ['--resync-seconds', '600', ...extra]);
  running.push(p);
  return p;
};
const exited = (p: VifdProcess) => p.child.exitCode !== null || p.child.signalCode !== null;

function tempFiles(state: string): string[] {
  return [state, join(state, 'status')].flatMap((d) => readdirSync(d).filter((n) => n.endsWith('.tmp')));
}

/** Link event subscribers (the netlink stream helper) watching this namespace. */
function monitors(): number[] {
  const out = spawnSync('pgrep', ['-f', `vifd-netlink --stream --netns ${netns}`], { encoding: 'utf8' }).stdout.trim();
  return out === '' ? [] : out.split('\n').map(Number);
}

beforeAll(() => {
  createNetns(netns);
  dirs = makeDirs('hostile-st');
});

afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  if (mounted) spawnSync('umount', ['-l', mounted]);
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('a failing state filesystem', () => {
  let d: VifdDirs;
  let vifd: VifdProcess;

  it('full (ENOSPC): host work goes on, readiness says so, writes land once space returns, no temp files leak', async () => {
    mounted = join(dirs.root, 'statefs');
    mkdirSync(mounted);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mounted]);
    d = { root: dirs.root, desired: join(dirs.root, 'desired-fs'), state: join(mounted, 'state') };
    mkdirSync(d.desired);
    for (let n = 1; n <= 3; n++) writeBinding(d, `b${n}.json`, bridgeBinding(n, 'brq-fs'));
    vifd = start(d);
    await waitFor(() => [1, 2, 3].every((n) => readStatuses(d).get(portUuid(n))?.phase === 'Ready'), 15_000, 'Ready');
    // Fill the filesystem.
    spawnSync('dd', ['if=/dev/zero', `of=${join(mounted, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    ipIn(netns, 'link', 'del', tapOf(1));
    writeBinding(d, 'b4.json', bridgeBinding(4, 'brq-fs'));
    // The tap is recreated and the new one made although nothing can be written.
    await waitFor(() => {
      const links = linksIn(netns);
      return links.get(tapOf(1))?.master === 'brq-fs' && links.get(tapOf(1))!.ifindex !== before && links.get(tapOf(4))?.master === 'brq-fs';
    }, 10_000, 'repaired and plugged on a full disk');
    await waitFor(async () => (await readiness(d.state)).state === 'not-ready', 10_000, 'not ready');
    expect(await readiness(d.state)).toMatchObject({ reason: expect.stringMatching(/state directory writes failing \(ENOSPC/u) });
    expect(readStatuses(d).has(portUuid(4))).toBe(false);
    await vifd.waitForLog(/state directory write failed/u);
    await new Promise((r) => setTimeout(r, 1500)); // several retries while full
    expect(tempFiles(d.state)).toEqual([]);
    // Space again: what was pending lands by itself.
    unlinkSync(join(mounted, 'fill'));
    await waitFor(() => readStatuses(d).get(portUuid(4))?.phase === 'Ready', 40_000, 'status written after space returned');
    await waitReady(d.state, { timeoutMs: 10_000 });
    expect(tempFiles(d.state)).toEqual([]);
  }, 90_000);

  it('read-only: a removed binding loses its status file once the filesystem is writable again', async () => {
    execFileSync('mount', ['-o', 'remount,ro', mounted!]);
    unlinkSync(join(d.desired, 'b2.json'));
    await waitFor(() => !linksIn(netns).has(tapOf(2)), 10_000, 'unplugged on a read-only state dir');
    expect(readStatuses(d).has(portUuid(2))).toBe(true); // could not be removed yet
    execFileSync('mount', ['-o', 'remount,rw', mounted!]);
    await waitFor(() => !readStatuses(d).has(portUuid(2)), 40_000, 'stale status removed');
    await vifd.stop();
    expect(tempFiles(d.state)).toEqual([]);
    spawnSync('umount', [mounted!]);
    mounted = undefined;
  }, 90_000);
});

describe('start-up that cannot complete, and racing starts', () => {
  it('an API socket taken by another listener stops vifd with a clear error, leaving no child and no lock', async () => {
    const d = { root: dirs.root, desired: join(dirs.root, 'desired-sock'), state: join(dirs.root, 'state-sock') };
    mkdirSync(d.desired);
    mkdirSync(d.state);
    writeBinding(d, 'b20.json', bridgeBinding(20, 'brq-sock'));
    const taken: Server = createServer((s) => s.end());
    await new Promise<void>((resolve) => taken.listen(join(d.state, 'vifd.sock'), resolve));
    try {
      const vifd = start(d);
      const code = await Promise.race([vifd.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
      expect(code).toBe(1);
      expect(vifd.logs.join('\n')).toContain('API_SOCKET_IN_USE');
      expect(monitors()).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    // The lock went with it: the next start runs.
    const again = start(d);
    await waitServing(d.state, { timeoutMs: 15_000, alive: () => !exited(again) });
    await waitFor(() => readStatuses(d).get(portUuid(20))?.phase === 'Ready', 15_000, 'Ready');
    await again.stop();
  }, 60_000);

  it('two vifd started at the same instant: exactly one runs, the other exits 1 and changes no status', async () => {
    const d = { root: dirs.root, desired: join(dirs.root, 'desired-race'), state: join(dirs.root, 'state-race') };
    mkdirSync(d.desired);
    writeBinding(d, 'b21.json', bridgeBinding(21, 'brq-race'));
    for (let round = 0; round < 8; round++) {
      const a = start(d);
      const b = start(d);
      // Exactly one has exited, and the API answers: the other one runs.
      await waitFor(async () => exited(a) !== exited(b) && (await readiness(d.state)).state !== 'down', 20_000, `round ${round}: one runs, one exits`);
      const [winner, loser] = exited(b) ? [a, b] : [b, a];
      expect(await loser.exited).toBe(1);
      expect(loser.logs.join('\n')).toContain('STATE_DIR_LOCKED');
      await waitFor(() => readStatuses(d).get(portUuid(21))?.phase === 'Ready', 15_000, 'Ready');
      await winner.stop(round % 2 === 0 ? 'SIGTERM' : 'SIGKILL');
    }
    expect(readStatuses(d).get(portUuid(21))?.phase).toBe('Ready');
  }, 120_000);
});

describe('parts of the host that stop answering', () => {
  it('a hung ovsdb-server does not stall Linux bridge bindings; OVS ones say it is not answering', async () => {
    ovs = startOvs(netns);
    const d = { root: dirs.root, desired: join(dirs.root, 'desired-ovs'), state: join(dirs.root, 'state-ovs') };
    mkdirSync(d.desired);
    writeBinding(d, 'b30.json', bridgeBinding(30, 'brq-ovs'));
    const ovsDoc = (n: number) => ({ ...bridgeBinding(n, 'x'), vif: { type: 'ovs', bridge: 'br-hung', datapathType: 'netdev', profile: {} } });
    writeBinding(d, 'b31.json', ovsDoc(31));
    const vifd = start(d, ['--ovsdb', ovs.address]);
    await waitFor(() => [30, 31].every((n) => readStatuses(d).get(portUuid(n))?.phase === 'Ready'), 20_000, 'Ready');
    const pid = readFileSync(join(ovs.dir, 'ovsdb-server.pid'), 'utf8').trim();
    execFileSync('kill', ['-STOP', pid]);
    try {
      writeBinding(d, 'b32.json', bridgeBinding(32, 'brq-ovs'));
      writeBinding(d, 'b33.json', ovsDoc(33));
      // Each would wait out a 5 s OVSDB read before; now a round of Linux
      // bindings does not read OVSDB at all.
      await waitFor(() => readStatuses(d).get(portUuid(32))?.phase === 'Ready', 4000, 'bridge binding Ready while OVSDB hangs');
      ipIn(netns, 'link', 'del', tapOf(30));
      await waitFor(() => linksIn(netns).get(tapOf(30))?.master === 'brq-ovs', 4000, 'bridge tap repaired while OVSDB hangs');
      await waitFor(() => /not answering/u.test(readStatuses(d).get(portUuid(33))?.message ?? ''), 15_000, 'OVS binding says OVSDB is not answering');
    } finally {
      execFileSync('kill', ['-CONT', pid]);
    }
    await waitFor(() => readStatuses(d).get(portUuid(33))?.phase === 'Ready', 30_000, 'OVS binding Ready once OVSDB answers');
    await vifd.stop();
  }, 90_000);

  it('events lost while the link event helper was down are caught up at once (not at the next resync)', async () => {
    const d = { root: dirs.root, desired: join(dirs.root, 'desired-mon'), state: join(dirs.root, 'state-mon') };
    mkdirSync(d.desired);
    writeBinding(d, 'b40.json', bridgeBinding(40, 'brq-mon'));
    const vifd = start(d);
    await waitFor(() => readStatuses(d).get(portUuid(40))?.phase === 'Ready', 15_000, 'Ready');
    for (let i = 0; i < 3; i++) {
      const [pid] = monitors();
      expect(pid).toBeDefined();
      const before = linksIn(netns).get(tapOf(40))!.ifindex;
      // Kill the monitor and delete the tap in its restart gap.
      execFileSync('kill', ['-9', String(pid)]);
      ipIn(netns, 'link', 'del', tapOf(40));
      await waitFor(() => {
        const tap = linksIn(netns).get(tapOf(40));
        return tap !== undefined && tap.ifindex !== before && tap.master === 'brq-mon';
      }, 10_000, `repair ${i} after a monitor gap (resync is 600 s away)`);
      await waitFor(() => monitors().length === 1, 10_000, 'monitor back');
    }
    await vifd.waitForLog(/netlink stream helper exited; restarting/u);
    await vifd.stop();
    rmSync(d.state, { recursive: true, force: true });
  }, 60_000);
});
