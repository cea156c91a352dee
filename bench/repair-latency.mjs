// Event repair latency with N bridge bindings: delete one tap behind vifd's
// back, time from the kernel's deletion event to its re-creation event (an
// `ip monitor` of the bench's own), K times; and the processes vifd started
// per repair (vifd_host_commands_total). REPO is a built checkout, so two
// builds compare in one sitting. Plain JS: it runs against any build.
//   node bench/repair-latency.mjs REPO [N] [K]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
const [repo, nArg = '1000', kArg = '20'] = process.argv.slice(2);
const N = Number(nArg), K = Number(kArg), B = 50;
const netns = `linkmodel-bench-${process.pid}`;
const port = (i) => `${(0x30000000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const mac = (i) => `fa:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const tapOf = (i) => `tap${port(i)}`.slice(0, 14);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const root = mkdtempSync(join(tmpdir(), 'lm-bench-'));
const desired = join(root, 'desired'), state = join(root, 'state');
mkdirSync(desired);
execFileSync('ip', ['netns', 'add', netns]);
let vifd, monitor;
try {
  writeFileSync(join(desired, 'all.json'), JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items: Array.from({ length: N }, (_, i) => ({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(i), mac: mac(i), vif: { type: 'bridge', bridge: `brbench-${i % B}` } })) }));
  vifd = spawn(process.execPath, [join(repo, 'bin/vifd.js'), 'run', '--desired-dir', desired, '--state-dir', state, '--netns', netns, '--resync-seconds', '3600'], { stdio: 'ignore', env: { ...process.env, VIFD_LOG_LEVEL: 'warn', RUNTIME_DIRECTORY: join(root, 'run') } });
  const ready = () => { try { return readdirSync(join(state, 'status')).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(state, 'status', f), 'utf8')).phase).filter((p) => p === 'Ready').length; } catch { return 0; } };
  const t0 = Date.now();
  while (ready() < N) { if (Date.now() - t0 > 40_000) throw new Error(`only ${ready()} Ready`); await sleep(200); }
  console.log(`cold start ${N} Ready: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await sleep(1000);
  const metrics = () => execFileSync('curl', ['-s', '--unix-socket', join(state, 'vifd.sock'), 'http://vifd/metrics'], { encoding: 'utf8' });
  const spawned = () => [...metrics().matchAll(/^vifd_host_commands_total(?:\{[^}]*\})? (\d+)$/gmu)].reduce((a, m) => a + Number(m[1]), 0);
  monitor = spawn('ip', ['-n', netns, 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const waiting = new Map();
  const deletedAt = new Map();
  createInterface({ input: monitor.stdout }).on('line', (line) => {
    if (line.startsWith('Deleted')) {
      const d = /^Deleted \d+: ([^:@\s]+)/u.exec(line);
      if (d && !deletedAt.has(d[1])) deletedAt.set(d[1], performance.now());
      return;
    }
    const m = /^(\d+): ([^:@\s]+)/u.exec(line);
    const w = m && waiting.get(m[2]);
    if (w && Number(m[1]) !== w.oldIndex) { waiting.delete(m[2]); w.resolve(performance.now()); }
  });
  await sleep(300);
  const before = spawned();
  const lat = [];
  for (let k = 0; k < K; k++) {
    const tap = tapOf((k * 37) % N);
    const oldIndex = JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show', 'dev', tap], { encoding: 'utf8' }))[0].ifindex;
    const back = new Promise((resolve) => waiting.set(tap, { resolve, oldIndex }));
    deletedAt.delete(tap);
    spawn('ip', ['-n', netns, 'link', 'del', tap], { stdio: 'ignore' }); // not waited for: the monitor lines are read as they come
    const at = await Promise.race([back, sleep(10_000).then(() => NaN)]);
    lat.push(at - deletedAt.get(tap)); // from the kernel's deletion event to its creation event
    await sleep(400); // the round and its verify done
  }
  const per = (spawned() - before) / K;
  lat.sort((a, b) => a - b);
  console.log(`repairs ${K}: p50 ${lat[Math.floor(K / 2)].toFixed(1)} ms, p90 ${lat[Math.floor(K * 0.9)].toFixed(1)} ms, max ${lat[K - 1].toFixed(1)} ms; processes spawned per repair: ${per.toFixed(1)}`);
  console.log(metrics().split('\n').filter((l) => l.startsWith('vifd_host_commands_total') || l.startsWith('vifd_netlink_requests_total')).join('\n'));
} finally {
  monitor?.kill();
  vifd?.kill('SIGKILL');
  await sleep(300);
  execFileSync('ip', ['netns', 'del', netns]);
  rmSync(root, { recursive: true, force: true });
}
