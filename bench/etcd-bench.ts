// Benchmark: a fleet on one etcd. H vifd processes, each on its own throwaway
// netns as one simulated host, P bridge bindings each, written to one private
// etcd in one burst (one transaction per host): time until every status in
// etcd is Ready. Then etcd is restarted: time until every watch has resumed,
// and how many full relists happened (goal: none).
//
//   npm run bench:etcd -- [--hosts 20] [--bindings 50] [--down-ms 1000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdClient } from '../src/sources/etcd/client.js';
import { HOSTS_ROOT, bindingsPrefix, parseHostKey } from '../src/sources/etcd/keys.js';
import { TestEtcd } from '../test/helpers/etcd.js';
import { createNetns, deleteNetns, uniqueNetnsName } from '../test/helpers/netns.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '20' },
    bindings: { type: 'string', default: '50' },
    'down-ms': { type: 'string', default: '1000' },
  },
});
const H = Number(values.hosts);
const P = Number(values.bindings);
const DOWN_MS = Number(values['down-ms']);
const BIN = resolve(import.meta.dirname, '../../bin/vifd.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => (ms / 1000).toFixed(2);

const port = (h: number, i: number) => `${(0x40000000 + h * 0x10000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const mac = (h: number, i: number) => `fa:16:3e:${h.toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

interface SimHost {
  name: string;
  netns: string;
  root: string;
  child?: ChildProcess;
}

const hosts: SimHost[] = [];
let etcd: TestEtcd | undefined;

function summary(h: SimHost): Record<string, number> | undefined {
  try {
    return JSON.parse(readFileSync(join(h.root, 'state', 'summary.json'), 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

async function cleanup(): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      const child = h.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      deleteNetns(h.netns);
      rmSync(h.root, { recursive: true, force: true });
    }),
  );
  await etcd?.stop();
}

async function main(): Promise<void> {
  etcd = await TestEtcd.start();
  const client = new EtcdClient([etcd.url]);
  for (let h = 0; h < H; h++) {
    const netns = uniqueNetnsName(`eb${h}`);
    const sim: SimHost = { name: `sim-${h}-${netns}`, netns, root: mkdtempSync(join(tmpdir(), 'vifd-etcdbench-')) };
    hosts.push(sim);
    createNetns(netns);
  }
  for (const sim of hosts) {
    sim.child = spawn(
      process.execPath,
      [BIN, 'run', '--desired-dir', join(sim.root, 'desired'), '--state-dir', join(sim.root, 'state'), '--netns', sim.netns, '--etcd', etcd.url, '--hostname', sim.name],
      { stdio: 'ignore', env: { ...process.env, VIFD_LOG_LEVEL: 'warn' } },
    );
  }
  // Every vifd is up (alive key present, lease granted) before the burst.
  const aliveMs = await waitUntil('all hosts alive', 60_000, async () => {
    const { kvs } = await client.rangePrefix(HOSTS_ROOT, { keysOnly: true });
    return kvs.filter((kv) => parseHostKey(kv.key)?.kind === 'alive').length === H;
  });
  console.log(`${H} vifd processes up and alive in etcd after ${secs(aliveMs)} s`);

  const burstStart = performance.now();
  await Promise.all(
    hosts.map((sim, h) =>
      client.txn(
        Array.from({ length: P }, (_, i) => ({
          put: {
            key: `${bindingsPrefix(sim.name)}${port(h, i)}`,
            value: JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(h, i), mac: mac(h, i), vif: { type: 'bridge', bridge: `brb${i % 5}` } }),
          },
        })),
      ),
    ),
  );
  const writeMs = performance.now() - burstStart;
  let ready = 0;
  await waitUntil('every status Ready', 300_000, async () => {
    const { kvs } = await client.rangePrefix(HOSTS_ROOT);
    ready = kvs.filter((kv) => parseHostKey(kv.key)?.kind === 'status' && (JSON.parse(kv.value) as { phase?: string }).phase === 'Ready').length;
    return ready === H * P;
  });
  const readyMs = performance.now() - burstStart;
  console.log(`burst: ${H * P} bindings written in ${secs(writeMs)} s; every status Ready in etcd after ${secs(readyMs)} s (${Math.round((H * P) / (readyMs / 1000))} bindings/s)`);

  await waitUntil('summaries', 10_000, () => hosts.every((h) => summary(h)?.['etcdStale'] === 0));
  const resumesBefore = hosts.map((h) => summary(h)?.['etcdResumes'] ?? 0);
  const relistsBefore = hosts.reduce((n, h) => n + (summary(h)?.['etcdRelists'] ?? 0), 0);
  const restartStart = performance.now();
  await etcd.kill();
  await waitUntil('every host stale', 30_000, () => hosts.every((h) => summary(h)?.['etcdStale'] === 1));
  await sleep(DOWN_MS);
  await etcd.launch();
  const upAt = performance.now();
  const resumedAt = new Array<number>(H).fill(0);
  await waitUntil('every watch resumed', 60_000, () => {
    hosts.forEach((h, i) => {
      const s = summary(h);
      if (!resumedAt[i] && s && s['etcdStale'] === 0 && (s['etcdResumes'] ?? 0) > resumesBefore[i]!) resumedAt[i] = performance.now();
    });
    return resumedAt.every((t) => t > 0);
  });
  const lastResume = Math.max(...resumedAt);
  const relists = hosts.reduce((n, h) => n + (summary(h)?.['etcdRelists'] ?? 0), 0) - relistsBefore;
  const sorted = resumedAt.map((t) => t - upAt).sort((a, b) => a - b);
  console.log(
    `etcd restart (down ${secs(upAt - restartStart)} s): every watch resumed ${secs(lastResume - upAt)} s after etcd was back ` +
      `(median ${secs(sorted[Math.floor(H / 2)]!)} s; capped backoff 5 s), ${secs(lastResume - restartStart)} s after the restart began; full relists: ${relists}`,
  );
  const { kvs } = await client.rangePrefix(HOSTS_ROOT);
  const stillReady = kvs.filter((kv) => parseHostKey(kv.key)?.kind === 'status' && (JSON.parse(kv.value) as { phase?: string }).phase === 'Ready').length;
  console.log(`after the restart: ${stillReady}/${H * P} statuses Ready in etcd`);
}

let exitCode = 0;
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
try {
  await main();
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
