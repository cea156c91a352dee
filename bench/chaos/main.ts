// npm run chaos -- --seconds S --seed N --bindings K [--kinds bridge,ovs,...]
//   [--faults N] [--bound-ms MS] [--netns NAME] [--keep] [--verbose]
// Exit 0: every fault repaired within the bound, no leak, no duplicate OVS
// port, no foreign device changed. Exit 1 otherwise.
import { parseArgs } from 'node:util';
import { cleanupAll, runChaos } from '../../test/support/chaos/run.js';
import { ALL_KINDS, type VifKind } from '../../test/support/chaos/world.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    bindings: { type: 'string', default: '50' },
    kinds: { type: 'string' },
    faults: { type: 'string' },
    'bound-ms': { type: 'string', default: '10000' },
    netns: { type: 'string' },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`chaos: --${name} must be a non-negative number\n`);
    process.exit(2);
  }
  return n;
};

let kinds: VifKind[] | undefined;
if (values.kinds) {
  kinds = values.kinds.split(',').map((k) => k.trim()) as VifKind[];
  const bad = kinds.filter((k) => !ALL_KINDS.includes(k));
  if (bad.length > 0) {
    process.stderr.write(`chaos: unknown kinds ${bad.join(', ')} (known: ${ALL_KINDS.join(', ')})\n`);
    process.exit(2);
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`chaos: ${signal}: cleaning up\n`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const result = await runChaos({
  seconds: num('seconds', values.seconds),
  seed: num('seed', values.seed),
  bindings: num('bindings', values.bindings),
  ...(kinds ? { kinds } : {}),
  ...(values.faults !== undefined ? { maxFaults: num('faults', values.faults) } : {}),
  boundMs: num('bound-ms', values['bound-ms']),
  ...(values.netns ? { netnsName: values.netns } : {}),
  keep: values.keep,
  verbose: values.verbose,
});
if (result.table) process.stdout.write('\n' + result.table + '\n');
if (result.failures.length > 0) {
  process.stdout.write(`\nFAILED (${result.failures.length}):\n${result.failures.map((f) => `  - ${f}`).join('\n')}\n(logs kept in ${result.root})\n`);
}
process.exit(result.ok ? 0 : 1);
