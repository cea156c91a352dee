// Benchmark of the API: N PUTs of `bridge` bindings from C concurrent clients
// over the unix socket against the real daemon in a throwaway namespace. It
// reports the API's latency (p50/p99/max), the time until every binding is
// Ready (seen on the watch stream), then the same for DELETE until all gone.
//
//   npm run bench:api -- [--bindings 1000] [--clients 8] [--bridges 50] [--profile DIR]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient } from '../src/api/client.js';

const { values } = parseArgs({
  options: {
    bindings: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '8' },
    bridges: { type: 'string', default: '50' },
    'timeout-seconds': { type: 'string', default: '180' },
    /** Write a CPU profile of the daemon into this directory. */
    profile: { type: 'string' },
  },
});
const N = Number(values.bindings);
const CLIENTS = Number(values.clients);
const B = Number(values.bridges);
const TIMEOUT_MS = Number(values['timeout-seconds']) * 1000;
const BIN = resolve(import.meta.dirname, '../../bin/vifd.js');

const port = (i: number) => `${(0x40000000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const mac = (i: number) => `fa:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const doc = (i: number) => ({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(i), mac: mac(i), vif: { type: 'bridge', bridge: `brapi-${i % B}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Runs `op(i)` for i in [0, n) from `clients` concurrent workers; returns per-call ms. */
async function drive(n: number, clients: number, op: (i: number) => Promise<number>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        const status = await op(i);
        latencies.push(performance.now() - t);
        if (status >= 300) throw new Error(`request ${i} answered HTTP ${status}`);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

function describe(label: string, latencies: number[], wallMs: number): string {
  return `${label}: ${latencies.length} requests in ${(wallMs / 1000).toFixed(2)} s (${Math.round(latencies.length / (wallMs / 1000))}/s); latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const netns = `vifdb-api-${randomBytes(3).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'vifd-apibench-'));
  const desired = join(root, 'desired');
  const state = join(root, 'state');
  mkdirSync(desired);
  execFileSync('ip', ['netns', 'add', netns]);
  const nodeArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
  const daemon = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--desired-dir', desired, '--state-dir', state, '--netns', netns], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VIFD_LOG_LEVEL: 'warn' } });
  const client = new ApiClient({ kind: 'unix', path: join(state, 'vifd.sock') }, undefined, CLIENTS);
  const watcher = new ApiClient({ kind: 'unix', path: join(state, 'vifd.sock') });
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await client.request('GET', '/readyz').then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('vifd did not become ready');
      await sleep(50);
    }
    const ready = new Set<string>();
    const present = new Set<string>();
    const watch = watcher.watch(undefined, (e) => {
      if (e.type === 'ADDED' || e.type === 'MODIFIED') {
        present.add(e.port);
        if (e.status.phase === 'Ready') ready.add(e.port);
        else ready.delete(e.port);
      } else if (e.type === 'DELETED') {
        present.delete(e.port);
        ready.delete(e.port);
      }
    });
    const until = async (check: () => boolean, what: string) => {
      const end = Date.now() + TIMEOUT_MS;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(5);
      }
    };

    console.log(`api-bench: ${N} bridge bindings over ${B} bridges, ${CLIENTS} concurrent clients, unix socket, netns ${netns}`);
    const t0 = performance.now();
    const puts = await drive(N, CLIENTS, async (i) => (await client.request('PUT', `/v1/bindings/${port(i)}`, doc(i))).status);
    const putWall = performance.now() - t0;
    console.log(describe('PUT', puts, putWall));
    await until(() => ready.size === N, 'all Ready');
    const readyMs = performance.now() - t0;
    const taps = (JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show', 'type', 'tun'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as unknown[]).length;
    console.log(`all ${N} Ready (watch) ${(readyMs / 1000).toFixed(2)} s after the first PUT; ${taps} taps in the namespace`);

    const t1 = performance.now();
    const dels = await drive(N, CLIENTS, async (i) => (await client.request('DELETE', `/v1/bindings/${port(i)}`)).status);
    console.log(describe('DELETE', dels, performance.now() - t1));
    await until(() => present.size === 0, 'all gone');
    console.log(`all ${N} gone (watch) ${((performance.now() - t1) / 1000).toFixed(2)} s after the first DELETE`);

    const metrics = (await client.request<string>('GET', '/metrics')).body;
    const pick = (name: string) => new RegExp(`^${name} (\\S+)$`, 'mu').exec(metrics)?.[1] ?? '?';
    console.log(`daemon: ${pick('vifd_reconcile_rounds_total')} reconcile rounds, ${pick('vifd_host_commands_total')} host commands`);
    watch.close();
  } finally {
    client.destroy();
    watcher.destroy();
    daemon.kill('SIGTERM');
    await new Promise((r) => (daemon.exitCode !== null ? r(undefined) : daemon.once('exit', r)));
    try {
      execFileSync('ip', ['netns', 'del', netns]);
    } catch {
      // already gone
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
