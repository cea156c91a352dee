// What the parent-death guard costs per host command: `ip -V` started bare,
// through native/build/vifd-guard, and through `setpriv --pdeathsig KILL`,
// interleaved, N times each (N = $N, default 300). Prints medians and the
// ratio to the bare start (the floor, measured in the same run).
import { execa } from 'execa';
import { childGuard } from '../src/host/run.js';

const n = Number(process.env['N'] ?? 300);
const guard = childGuard();
const variants: Array<[string, string, string[]]> = [
  ['bare', 'ip', ['-V']],
  ...(guard.kind === 'guard' ? [['vifd-guard', guard.path, [String(process.pid), 'ip', '-V']] as [string, string, string[]]] : []),
  ['setpriv', 'setpriv', ['--pdeathsig', 'KILL', '--', 'ip', '-V']],
];
const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let i = 0; i < n; i++) {
  for (const [name, file, args] of variants) {
    const t = process.hrtime.bigint();
    await execa(file, args);
    times.get(name)!.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const floor = median(times.get('bare')!);
for (const [name, xs] of times) console.log(`${name.padEnd(11)} median ${median(xs).toFixed(2)} ms  x${(median(xs) / floor).toFixed(2)} of bare`);
