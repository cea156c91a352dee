// Issue 17 §5: no helper process outlives vifd. After a SIGKILL of the
// daemon, none of its children (the long-lived netlink stream helper, and any command
// run through src/host/run.ts: ip -batch, vdptool, the netlink helper) is
// left alive.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('children');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
const strays: number[] = [];

/** pid → ppid for every process, from /proc. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  return table;
}

function descendantsOf(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of table) if (parent === p) { out.push(child); walk(child); }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    // a zombie still has a /proc entry; it is no longer running
    return !/^\S+ \(.*\) Z/u.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
};
/** Processes whose command line names the test's namespace (an `ip -n NS monitor` left over). */
const namingNetns = () => [...processTable().keys()].filter((pid) => pid !== process.pid && cmdline(pid).includes(netns));

beforeAll(() => {
  createNetns(netns);
  execFileSync('ip', ['-n', netns, 'link', 'add', 'br-ch', 'type', 'bridge']);
  dirs = makeDirs('children');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  for (const pid of [...strays, ...namingNetns()]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('helper processes die with vifd', () => {
  it('SIGKILL of vifd leaves no child behind (the netlink stream helper included)', async () => {
    writeBinding(dirs, 'a.json', bridgeBinding(1, 'br-ch'));
    vifd = VifdProcess.run(dirs, netns);
    const pid = vifd.child.pid!;
    await waitFor(() => readStatuses(dirs).get(bridgeBinding(1, 'br-ch')['port'] as string)?.phase === 'Ready', 20_000, 'Ready');
    let children: number[] = [];
    await waitFor(() => (children = descendantsOf(pid)).some((c) => cmdline(c).includes('--stream')), 5000, 'netlink stream helper child');
    strays.push(...children);
    const monitor = children.find((c) => cmdline(c).includes('--stream'))!;
    expect(cmdline(monitor)).toContain(netns);
    await vifd.stop('SIGKILL');
    await waitFor(() => children.every((c) => !alive(c)), 5000, 'children gone');
    expect(children.filter(alive).map(cmdline)).toEqual([]);
    expect(namingNetns().map(cmdline)).toEqual([]);
  });

  it('a command run through the runner (as vdptool and the netlink helper are) dies with its parent', async () => {
    // A Node process that starts `sleep` through execaGuarded, then is SIGKILLed.
    const runModule = resolve(import.meta.dirname, '../../dist/src/host/run.js');
    const script = `const { execaGuarded } = await import(${JSON.stringify(runModule)});
      const child = execaGuarded('sleep', ['1000'], { reject: false });
      console.log(child.pid); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sleeperPid = await new Promise<number>((resolvePid) => parent.stdout!.once('data', (d: Buffer) => resolvePid(Number(String(d).trim()))));
    strays.push(sleeperPid, parent.pid!);
    expect(alive(sleeperPid)).toBe(true);
    expect(cmdline(sleeperPid)).toContain('sleep 1000');
    parent.kill('SIGKILL');
    await waitFor(() => !alive(sleeperPid), 5000, 'sleep gone');
    expect(alive(sleeperPid)).toBe(false);
  });
});
