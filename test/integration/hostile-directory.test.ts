// A careless operator and a hostile desired directory, against the real
// daemon: quick second edits, a path in "port", the directory removed,
// moved or swapped, FIFOs, mode-000 files, lists with a bad item, symlinks
// out of the directory, duplicate keys, files that name no port.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, VIFD_BIN, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('hostile-dir');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let outside: string;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
const phaseOf = (n: number) => readStatuses(dirs).get(portUuid(n))?.phase;
const waitPhase = (n: number, phase: string, ms = 15_000) => waitFor(() => phaseOf(n) === phase, ms, `${portUuid(n)} ${phase} (is ${phaseOf(n)})`);
const gone = (n: number) => waitFor(() => !linksIn(netns).has(tapOf(n)) && !readStatuses(dirs).has(portUuid(n)), 15_000, `${tapOf(n)} unplugged`);

function api(path: string): { status: number; body: string } {
  const out = execFileSync('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', '--max-time', '3', '--unix-socket', join(dirs.state, 'vifd.sock'), `http://vifd${path}`], { encoding: 'utf8' });
  const at = out.lastIndexOf('\n');
  return { status: Number(out.slice(at + 1)), body: out.slice(0, at) };
}

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('hostile-dir');
  outside = mkdtempSync(join(tmpdir(), 'vifd-hostile-outside-'));
  // A FIFO present at start must not stop vifd before its API exists.
  execFileSync('mkfifo', [join(dirs.desired, 'pipe.json')]);
  writeBinding(dirs, 'b1.json', bridgeBinding(1, 'brq-h1'));
  vifd = VifdProcess.run(dirs, netns, ['--resync-seconds', '600']);
  await waitPhase(1, 'Ready');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
  rmSync(outside, { recursive: true, force: true });
});

describe('a hostile desired directory', () => {
  it('a FIFO is refused without blocking: the API answers and other files apply', async () => {
    expect(api('/healthz').status).toBe(200);
    const fifo = api('/v1/status');
    const documents = (JSON.parse(fifo.body) as { invalidDocuments: Array<{ source: string; problems: Array<{ message: string }> }> }).invalidDocuments;
    expect(documents.find((d) => d.source === 'file:pipe.json')?.problems[0]?.message).toMatch(/not a regular file/u);
    // A FIFO created while running, and a symlink to one.
    execFileSync('mkfifo', [join(outside, 'fifo')]);
    symlinkSync(join(outside, 'fifo'), join(dirs.desired, 'link-to-fifo.json'));
    execFileSync('mkfifo', [join(dirs.desired, 'pipe2.json')]);
    writeBinding(dirs, 'b2.json', bridgeBinding(2, 'brq-h1'));
    await waitPhase(2, 'Ready');
    expect(api('/healthz').status).toBe(200);
    for (const f of ['pipe.json', 'pipe2.json', 'link-to-fifo.json']) unlinkSync(join(dirs.desired, f));
  });

  it('the last of two quick atomic writes always wins', async () => {
    // Files that have been stable a while, each edited twice 28-44 ms apart
    // (the old directory source lost the second write of 9 of 12 such pairs).
    const pairs = Array.from({ length: 12 }, (_, i) => 50 + i);
    for (const n of pairs) writeBinding(dirs, `q${n}.json`, bridgeBinding(n, 'brq-h1', { mtu: 1400 }));
    await waitFor(() => pairs.every((n) => phaseOf(n) === 'Ready'), 15_000, 'pairs Ready');
    await new Promise((r) => setTimeout(r, 1000));
    for (const [i, n] of pairs.entries()) {
      writeBinding(dirs, `q${n}.json`, bridgeBinding(n, 'brq-h1', { mtu: 1450 }));
      await new Promise((r) => setTimeout(r, 28 + (i % 5) * 4));
      writeBinding(dirs, `q${n}.json`, bridgeBinding(n, 'brq-h2', { mtu: 1300 + i }));
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitFor(() => pairs.every((n, i) => linksIn(netns).get(tapOf(n))?.mtu === 1300 + i && linksIn(netns).get(tapOf(n))?.master === 'brq-h2'), 5000, 'every second write applied');
    for (const n of pairs) unlinkSync(join(dirs.desired, `q${n}.json`));
    for (const n of pairs) await gone(n);
  });

  it('a "port" naming a path writes and deletes nothing outside the state directory', async () => {
    const precious = join(outside, 'precious.json');
    writeFileSync(precious, '{"keep":"me"}\n');
    const port = `../../../../../../../../..${outside}/precious`;
    writeBinding(dirs, 'evil.json', { ...bridgeBinding(9, 'brq-h1'), port, mac: 'not-a-mac' });
    writeBinding(dirs, 'evil-list.json', { apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [{ ...bridgeBinding(9, 'brq-h1'), port }] });
    await waitFor(() => (JSON.parse(api('/v1/status').body) as { invalidDocuments: Array<{ source: string }> }).invalidDocuments.some((d) => d.source === 'file:evil-list.json'), 5000, 'evil documents seen');
    unlinkSync(join(dirs.desired, 'evil.json'));
    unlinkSync(join(dirs.desired, 'evil-list.json'));
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(precious, 'utf8')).toBe('{"keep":"me"}\n');
    expect(readdirSync(outside).sort()).toEqual(['fifo', 'precious.json']);
  });

  it('one bad item of a list makes only that item Invalid; the others apply and keep taking edits', async () => {
    const items = (mtu: number, bad: boolean) => ({
      apiVersion: 'vifd/v1',
      kind: 'PortBindingList',
      items: [bridgeBinding(3, 'brq-h1', { mtu }), bad ? { ...bridgeBinding(4, 'brq-h1'), mtu: 5 } : bridgeBinding(4, 'brq-h1'), bridgeBinding(5, 'brq-h1')],
    });
    writeBinding(dirs, 'list.json', items(1450, false));
    await waitPhase(4, 'Ready');
    writeBinding(dirs, 'list.json', items(1440, true));
    await waitPhase(4, 'Invalid');
    await waitFor(() => linksIn(netns).get(tapOf(3))?.mtu === 1440, 5000, 'item 3 edited while item 4 is bad');
    await waitPhase(3, 'Ready');
    await waitPhase(5, 'Ready');
    expect(readStatuses(dirs).get(portUuid(4))?.problems?.[0]?.path).toBe('items[1].mtu');
    expect(linksIn(netns).has(tapOf(4))).toBe(true); // its last valid version stays applied
  });

  it('duplicate keys are Invalid and do not move a binding to another port', async () => {
    const text = JSON.stringify(bridgeBinding(6, 'brq-h1')).replace(/\}$/u, `,"port":"${portUuid(7)}"}`);
    writeBinding(dirs, 'dup.json', text);
    await waitFor(() => (JSON.parse(api('/v1/status').body) as { invalidDocuments: Array<{ source: string; problems: Array<{ message: string }> }> }).invalidDocuments.find((d) => d.source === 'file:dup.json')?.problems[0]?.message === 'duplicate key "port"', 5000, 'dup.json Invalid');
    expect(linksIn(netns).has(tapOf(7))).toBe(false);
    unlinkSync(join(dirs.desired, 'dup.json'));
  });

  it('a symlink out of the directory is not read; its content never reaches a log or status; state is root-only', async () => {
    const secret = join(outside, 'secret.txt');
    writeFileSync(secret, 'root:$6$TOPSECRET$xyz:19000:0:99999:7:::\n');
    symlinkSync(secret, join(dirs.desired, 'shadow.json'));
    writeBinding(dirs, 'junk.json', 'TOPSECRET2 is not json');
    await waitFor(() => (JSON.parse(api('/v1/status').body) as { invalidDocuments: Array<{ source: string }> }).invalidDocuments.some((d) => d.source === 'file:junk.json'), 5000, 'junk listed');
    const documents = (JSON.parse(api('/v1/status').body) as { invalidDocuments: Array<{ source: string; problems: Array<{ message: string }> }> }).invalidDocuments;
    expect(documents.find((d) => d.source === 'file:shadow.json')?.problems[0]?.message).toMatch(/outside the desired directory/u);
    const out = execFileSync(process.execPath, [VIFD_BIN, 'status', '--state-dir', dirs.state], { encoding: 'utf8' });
    expect(out).toMatch(/invalid document file:junk.json: \(document\): not valid JSON/u);
    const everything = [vifd!.logs.join('\n'), out, JSON.stringify(documents), readFileSync(join(dirs.state, 'summary.json'), 'utf8')].join('\n');
    expect(everything).not.toContain('TOPSECRET');
    expect(statSync(dirs.state).mode & 0o777).toBe(0o700);
    expect(statSync(join(dirs.state, 'status', `${portUuid(1)}.json`)).mode & 0o777).toBe(0o600);
    unlinkSync(join(dirs.desired, 'shadow.json'));
    unlinkSync(join(dirs.desired, 'junk.json'));
  });

  it('mode 000 files are seen: a new one applies, a deleted one unplugs', async () => {
    const path = join(dirs.desired, 'b8.json');
    writeFileSync(join(dirs.desired, '.b8.tmp'), JSON.stringify(bridgeBinding(8, 'brq-h1')));
    chmodSync(join(dirs.desired, '.b8.tmp'), 0);
    renameSync(join(dirs.desired, '.b8.tmp'), path);
    await waitPhase(8, 'Ready', 5000);
    chmodSync(join(dirs.desired, 'b2.json'), 0);
    await new Promise((r) => setTimeout(r, 200));
    unlinkSync(join(dirs.desired, 'b2.json'));
    await gone(2);
    unlinkSync(path);
    await gone(8);
  });

  it('rm -rf; mkdir; cp: what is copied back is never unplugged, the rest goes once the new directory settles', async () => {
    writeBinding(dirs, 'b2.json', bridgeBinding(2, 'brq-h1'));
    await waitPhase(2, 'Ready');
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    const saved = readFileSync(join(dirs.desired, 'b1.json'), 'utf8');
    rmSync(dirs.desired, { recursive: true });
    await new Promise((r) => setTimeout(r, 1500)); // a slow operator: the directory is gone a while
    expect(linksIn(netns).has(tapOf(2))).toBe(true); // nothing removed while it is missing
    await vifd!.waitForLog(/desired directory is gone/u);
    mkdirSync(dirs.desired);
    writeFileSync(join(dirs.desired, 'b1.json'), saved);
    writeBinding(dirs, 'b10.json', bridgeBinding(10, 'brq-h1')); // new files apply in the new directory
    await waitPhase(10, 'Ready');
    await gone(2); // b2.json is not in the new directory
    expect(linksIn(netns).get(tapOf(1))!.ifindex).toBe(before);
    expect(phaseOf(1)).toBe('Ready');
  });

  it('moved away and recreated, or replaced by a symlink to another directory: the new one is followed', async () => {
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    const moved = `${dirs.desired}.old`;
    renameSync(dirs.desired, moved);
    mkdirSync(dirs.desired);
    writeFileSync(join(dirs.desired, 'b1.json'), readFileSync(join(moved, 'b1.json')));
    writeBinding(dirs, 'b11.json', bridgeBinding(11, 'brq-h1'));
    await waitPhase(11, 'Ready');
    await gone(10);
    writeBinding({ ...dirs, desired: moved }, 'b12.json', bridgeBinding(12, 'brq-h1')); // the old one is not watched
    // Now a symlink to another directory.
    const other = join(dirs.root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'b1.json'), readFileSync(join(dirs.desired, 'b1.json')));
    writeFileSync(join(other, 'b13.json'), JSON.stringify(bridgeBinding(13, 'brq-h1')));
    rmSync(dirs.desired, { recursive: true });
    symlinkSync(other, dirs.desired);
    await waitPhase(13, 'Ready');
    await gone(11);
    writeBinding(dirs, 'b14.json', bridgeBinding(14, 'brq-h1')); // through the symlink
    await waitPhase(14, 'Ready');
    expect(linksIn(netns).has(tapOf(12))).toBe(false);
    expect(linksIn(netns).get(tapOf(1))!.ifindex).toBe(before);
    rmSync(moved, { recursive: true });
  });

  it('a Kubernetes ConfigMap-style ..data swap applies the new version', async () => {
    // The desired dir is a symlink to `other` now; lay out a ConfigMap in it.
    const d = dirs.desired;
    for (const f of readdirSync(d)) if (f !== 'b1.json') unlinkSync(join(d, f));
    await gone(13);
    const version = (name: string, mtu: number) => {
      mkdirSync(join(d, name));
      writeFileSync(join(d, name, 'cm.json'), JSON.stringify(bridgeBinding(15, 'brq-h1', { mtu })));
    };
    version('..2026_12_01_a', 1410);
    symlinkSync('..2026_12_01_a', join(d, '..data'));
    symlinkSync('..data/cm.json', join(d, 'cm.json'));
    await waitFor(() => linksIn(netns).get(tapOf(15))?.mtu === 1410, 5000, 'configmap v1');
    version('..2026_12_01_b', 1420);
    symlinkSync('..2026_12_01_b', join(d, '..data_tmp'));
    renameSync(join(d, '..data_tmp'), join(d, '..data'));
    rmSync(join(d, '..2026_12_01_a'), { recursive: true });
    await waitFor(() => linksIn(netns).get(tapOf(15))?.mtu === 1420, 5000, 'configmap v2');
    expect(existsSync(join(d, 'cm.json'))).toBe(true);
  });

  it('a document symlinked to a file in a subdirectory: an in-place edit of the target is read at once (the resync is 600 s away)', async () => {
    const d = dirs.desired;
    mkdirSync(join(d, 'conf'));
    writeFileSync(join(d, 'conf', 's.json'), JSON.stringify(bridgeBinding(16, 'brq-h1', { mtu: 1400 })));
    symlinkSync('conf/s.json', join(d, 's.json'));
    await waitFor(() => linksIn(netns).get(tapOf(16))?.mtu === 1400, 5000, 'symlinked v1');
    await new Promise((r) => setTimeout(r, 3000)); // past the re-check after a read and any settling resync
    writeFileSync(join(d, 'conf', 's.json'), JSON.stringify(bridgeBinding(16, 'brq-h1', { mtu: 1430 }))); // in place: no event on the directory itself
    await waitFor(() => linksIn(netns).get(tapOf(16))?.mtu === 1430, 5000, 'symlinked v2, edited in place');
  });
});
