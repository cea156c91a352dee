// npm run soak -- --minutes M [--bindings K] [--seed S] [--rate R] [--tap-deletes D] [--keep] [--heap-snapshot]
// Runs the real vifd under seeded churn on a throwaway namespace and prints,
// per minute, heap used after a full GC, RSS, open fds and child processes,
// then a verdict line (heap slope per hour, every desired file matching its
// device, memory given back once everything is removed). See README.md.
// Exit 0: every file matches its device, nothing leaked, memory given back,
// vifd exited 0 on SIGTERM. Exit 1 otherwise (the slope is reported, not judged).
import { parseArgs } from 'node:util';
import { runSoak } from './run.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    bindings: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: '20' },
    'tap-deletes': { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
  },
});

const num = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`soak: --${name} must be a number >= ${min}\n`);
    process.exit(2);
  }
  return n;
};

const log = (line: string) => process.stdout.write(line + '\n');
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    // runSoak's finally removes the namespace and stops vifd: make the main loop fail fast.
    process.stderr.write(`soak: ${signal}: cleaning up\n`);
    process.exitCode = 130;
    abort.abort();
  });
}
const abort = new AbortController();

const result = await runSoak({
  minutes: num('minutes', values.minutes, 1),
  bindings: num('bindings', values.bindings, 1),
  seed: num('seed', values.seed, 0),
  changesPerSecond: num('rate', values.rate, 0.1),
  tapDeletesPerSecond: num('tap-deletes', values['tap-deletes'], 0),
  keep: values.keep || values['heap-snapshot'],
  heapSnapshot: values['heap-snapshot'],
  log,
  signal: abort.signal,
}).catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  return undefined;
});
process.exit(interrupted ? 130 : result?.ok ? 0 : 1);
