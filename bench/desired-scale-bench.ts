// Micro-benchmark of the desired side at scale, in process (no root, no
// daemon): N desired files in a directory watched by the DirectorySource,
// bridge bindings spread over N/20 bridges or all on one bridge (an OVS
// br-int is the normal case). For each N it reports
// - event→onChange: one file rewritten, until `desiredChanged(ports)` would
//   reach the reconciler (median of the runs), and the process CPU spent
//   from the write until the source is idle again;
// - store: one store.set() of a changed document plus view(), median;
// - keys: keysForLinkNames for one tap, median;
// - resync: DirectorySource.resync() of an unchanged directory (wall, CPU).
//
//   npm run bench:desired -- [--sizes 100,1000,5000,10000] [--runs 9]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseDocumentText } from '../src/desired/parse.js';
import { DesiredStore } from '../src/desired/store.js';
import { keysForLinkNames } from '../src/plan/event-keys.js';
import { DEFAULT_OWNERSHIP } from '../src/model/ownership.js';
import { DirectorySource } from '../src/sources/directory-source.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,5000,10000' }, runs: { type: 'string', default: '9' } } });
const SIZES = values.sizes.split(',').map(Number);
const RUNS = Number(values.runs);

const portOf = (i: number) => `${(i + 1).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const macOf = (i: number, v: number) => `fa:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${((i + v) & 255).toString(16).padStart(2, '0')}`;
const docOf = (i: number, bridge: string, v = 0) =>
  JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: portOf(i), mac: macOf(i, v), mtu: 1400 + (v % 50), vif: { type: 'bridge', bridge } });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

interface Row {
  n: number;
  layout: string;
  eventMs: number;
  eventCpuMs: number;
  storeMs: number;
  keysMs: number;
  resyncMs: number;
  resyncCpuMs: number;
}

async function measure(n: number, oneBridge: boolean): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-desired-bench-'));
  const bridgeOf = (i: number) => (oneBridge ? 'br-int' : `br${i % Math.max(1, Math.floor(n / 20))}`);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `p${i}.json`), docOf(i, bridgeOf(i)));
  const store = new DesiredStore();
  let waiter: { port: string; resolve: () => void } | undefined;
  const source = new DirectorySource({
    dir,
    store,
    logger: pino({ level: 'silent' }),
    quietMs: 1,
    onChange: (ports) => {
      store.view(); // the round the change starts reads the view
      if (waiter && ports.has(waiter.port)) waiter.resolve();
    },
  });
  await source.start();
  await sleep(300 + n / 10); // the watch set-up and its first resync
  const eventMs: number[] = [];
  const eventCpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const i = (r * 7919) % n;
    const reached = new Promise<void>((resolve) => (waiter = { port: portOf(i), resolve }));
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    writeFileSync(join(dir, `p${i}.json`), docOf(i, bridgeOf(i), r + 1));
    await reached;
    eventMs.push(performance.now() - t0);
    await sleep(200); // re-check and whatever the watcher does after the event
    eventCpu.push(cpuMs(cpu));
  }
  // The store alone: one changed document, then the view the planner reads.
  const storeMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const i = (r * 104729) % n;
    const parsed = parseDocumentText(docOf(i, bridgeOf(i), 100 + r));
    const t0 = performance.now();
    store.set(`file:p${i}.json`, parsed);
    store.view();
    storeMs.push(performance.now() - t0);
  }
  const keysMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const tap = `tap${portOf((r * 31) % n)}`.slice(0, 14);
    const t0 = performance.now();
    keysForLinkNames([tap], store.view(), undefined, DEFAULT_OWNERSHIP, new Set());
    keysMs.push(performance.now() - t0);
  }
  const resyncMs: number[] = [];
  const resyncCpu: number[] = [];
  for (let r = 0; r < 3; r++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await source.resync();
    resyncMs.push(performance.now() - t0);
    resyncCpu.push(cpuMs(cpu));
  }
  await source.stop();
  rmSync(dir, { recursive: true, force: true });
  return { n, layout: oneBridge ? '1 bridge' : 'N/20 bridges', eventMs: median(eventMs), eventCpuMs: median(eventCpu), storeMs: median(storeMs), keysMs: median(keysMs), resyncMs: median(resyncMs), resyncCpuMs: median(resyncCpu) };
}

const rows: Row[] = [];
for (const oneBridge of [false, true]) for (const n of SIZES) rows.push(await measure(n, oneBridge));
const f = (x: number) => x.toFixed(x < 10 ? 2 : 1);
console.log('N      layout        event→onChange ms  event CPU ms  store set+view ms  keysForLinkNames ms  resync ms  resync CPU ms');
for (const r of rows) {
  console.log(
    `${String(r.n).padEnd(6)} ${r.layout.padEnd(13)} ${f(r.eventMs).padStart(17)}  ${f(r.eventCpuMs).padStart(12)}  ${f(r.storeMs).padStart(17)}  ${f(r.keysMs).padStart(19)}  ${f(r.resyncMs).padStart(9)}  ${f(r.resyncCpuMs).padStart(13)}`,
  );
}
