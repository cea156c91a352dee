// The daemon's V8 heap policy (src/cli/heap-policy.ts) rests on V8 reading
// its flags as it runs: set after start, they must still keep the young
// generation at its first size. Checked in child processes that run the real
// applyHeapPolicy (this worker's own V8 is left alone), against V8's defaults
// (VIFD_V8_FLAGS empty) in the same run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { applyHeapPolicy } from '../../src/cli/heap-policy.js';

const dir = mkdtempSync(join(tmpdir(), 'vifd-heap-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** The real module, bundled for the child processes. */
const policy = join(dir, 'heap-policy.mjs');
buildSync({ entryPoints: [join(import.meta.dirname, '../../src/cli/heap-policy.ts')], outfile: policy, format: 'esm', platform: 'node', logLevel: 'silent' });

/** The young generation's size (MB) after a burst of objects that survive, in a process that applied the policy under `env`. */
function youngGenerationMb(env: Record<string, string>): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { applyHeapPolicy } from ${JSON.stringify(policy)};
    applyHeapPolicy();
    const kept = [];
    for (let i = 0; i < 400000; i++) kept.push({ i, name: 'tap' + i, up: i % 2 === 0 });
    const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(space.space_size / 1048576, kept.length);`;
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  if (!('VIFD_V8_FLAGS' in env)) delete childEnv['VIFD_V8_FLAGS'];
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: childEnv });
  return Number(out.trim().split(' ')[0]);
}

describe('heap policy', () => {
  it('VIFD_V8_FLAGS replaces the default; empty means V8 defaults', () => {
    expect(applyHeapPolicy({ VIFD_V8_FLAGS: '' })).toBe('');
    expect(applyHeapPolicy({ VIFD_V8_FLAGS: '  ' })).toBe('');
  });

  it('set at run time, the default flags keep the young generation small where V8 defaults grow it', () => {
    const withPolicy = youngGenerationMb({});
    const defaults = youngGenerationMb({ VIFD_V8_FLAGS: '' });
    expect(withPolicy).toBeLessThanOrEqual(4);
    expect(defaults).toBeGreaterThan(withPolicy * 2);
  });
});
