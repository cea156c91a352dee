// vifd under systemd (Type=notify), against a stand-in notify socket: READY=1
// once the first round over every source finished, STATUS= with the counts,
// WATCHDOG=1 every WATCHDOG_USEC/2 while the loop makes progress and none once
// a round is wedged (VIFD_TEST_WEDGE=1 + SIGUSR2, a test-only hook), STOPPING=1
// on SIGTERM; the vifd-notify helper dies with vifd.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { NotifyListener } from '../helpers/notify-listener.js';
import { bridgeBinding, makeDirs, VIFD_BIN, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('notify');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let listener: NotifyListener | undefined;

beforeAll(() => {
  createNetns(netns);
  dirs = makeDirs('notify');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  listener?.stop();
  deleteNetns(netns);
  removeDirs(dirs);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(notifySocket: string, env: Record<string, string> = {}): VifdProcess {
  return new VifdProcess(['run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', netns], {
    NOTIFY_SOCKET: notifySocket,
    WATCHDOG_USEC: '1000000', // WatchdogSec=1s: a ping every 500 ms
    ...env,
  });
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
}

describe('systemd notify and watchdog', () => {
  it('READY=1 after the first round, STATUS= with the counts, WATCHDOG=1 while idle, STOPPING=1 on SIGTERM', async () => {
    writeBinding(dirs, 'one.json', bridgeBinding(1, 'brntf0'));
    listener = await NotifyListener.start(join(dirs.root, 'notify.sock'));
    vifd = start(listener.address);
    await waitFor(() => listener!.with('READY=1').length > 0, 30_000, 'READY=1');
    // When READY=1 arrives the first round has finished and recorded its status.
    expect(readStatuses(dirs).get(portUuid(1))?.phase).toBe('Ready');
    const summary = JSON.parse(readFileSync(join(dirs.state, 'summary.json'), 'utf8')) as { rounds: number };
    expect(summary.rounds).toBeGreaterThanOrEqual(1);
    const ready = listener.with('READY=1');
    expect(ready).toHaveLength(1);
    expect(ready[0]!.lines).toContain('STATUS=running: 1 binding (1 Ready)');
    // Sent by vifd's own long-lived helper (hence NotifyAccess=all in the unit).
    const helper = ready[0]!.pid;
    expect(helper).not.toBe(vifd.child.pid);
    expect(parentOf(helper)).toBe(vifd.child.pid);

    const before = listener.with('WATCHDOG=1').length;
    await sleep(3000);
    expect(listener.with('WATCHDOG=1').length - before).toBeGreaterThanOrEqual(3);

    writeBinding(dirs, 'two.json', bridgeBinding(2, 'brntf0'));
    await waitFor(() => listener!.last('STATUS') === 'running: 2 bindings (2 Ready)', 15_000, 'STATUS with 2 Ready');

    expect(await vifd.stop('SIGTERM')).toBe(0);
    const stopping = listener.with('STOPPING=1');
    expect(stopping).toHaveLength(1);
    expect(stopping[0]!.at).toBeGreaterThan(ready[0]!.at);
    await waitFor(() => !alive(helper), 5000, 'vifd-notify gone');
    vifd = undefined;
    listener.stop();
  });

  it('a wedged round stops the WATCHDOG=1 pings; the helper dies with vifd', async () => {
    listener = await NotifyListener.start(`@vifd-test-${randomBytes(4).toString('hex')}`); // abstract socket, as systemd's
    vifd = start(listener.address, { VIFD_TEST_WEDGE: '1' });
    await waitFor(() => listener!.with('READY=1').length > 0, 30_000, 'READY=1');
    const helper = listener.with('READY=1')[0]!.pid;
    const readyCount = listener.with('WATCHDOG=1').length;
    await waitFor(() => listener!.with('WATCHDOG=1').length >= readyCount + 2, 10_000, 'pings while healthy');

    vifd.child.kill('SIGUSR2'); // test hook: host snapshots hang from now on
    writeBinding(dirs, 'three.json', bridgeBinding(3, 'brntf0')); // a round starts and hangs
    await waitFor(() => vifd!.logs.some((l) => l.includes('reconcile round wedged')), 15_000, 'wedge noticed');
    const pingsAtWedge = listener.with('WATCHDOG=1').length;
    await sleep(3000); // six ping periods
    expect(listener.with('WATCHDOG=1').length).toBe(pingsAtWedge);
    // The status file of the new binding was never written: the round really hangs.
    expect(readStatuses(dirs).has(portUuid(3))).toBe(false);

    expect(alive(helper)).toBe(true);
    await vifd.stop('SIGKILL');
    vifd = undefined;
    await waitFor(() => !alive(helper), 5000, 'vifd-notify gone after SIGKILL of vifd (PR_SET_PDEATHSIG)');
  });
});

describe('journald', () => {
  it('with stdout the stream JOURNAL_STREAM names, every line carries its syslog priority (<4> warning, <6> info)', async () => {
    writeFileSync(join(dirs.state, 'intent.json'), '{not json'); // vifd warns: corrupt intent journal ignored
    const out = join(dirs.root, 'journal-stream');
    const fd = openSync(out, 'w');
    const st = fstatSync(fd, { bigint: true });
    const child = spawn(process.execPath, [VIFD_BIN, 'run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', netns], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}`, VIFD_LOG_LEVEL: 'info' },
    });
    closeSync(fd);
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => readFileSync(out, 'utf8').includes('"msg":"vifd running"'), 30_000, 'vifd running');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).toMatch(/^<[2-7]>\{/);
    expect(lines.find((l) => l.includes('corrupt intent journal ignored'))).toMatch(/^<4>\{"level":40/);
    expect(lines.find((l) => l.includes('"msg":"vifd running"'))).toMatch(/^<6>\{"level":30/);
  });
});
