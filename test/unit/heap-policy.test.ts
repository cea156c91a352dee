// The daemon's V8 heap policy (src/cli/heap-policy.ts) rests on V8 reading
// its flags as it runs: set after start, they must still keep the young
// generation at its first size. Checked in a child process (this worker's
// own V8 is left alone), against V8's defaults in the same run.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyHeapPolicy, DEFAULT_V8_FLAGS } from '../../src/cli/heap-policy.js';

/** The young generation's size (MB) after a burst of objects that survive, with these flags set at run time. */
function youngGenerationMb(flags: string): number {
  const script = `
    import { setFlagsFromString, getHeapSpaceStatistics } from 'node:v8';
    const flags = process.env.FLAGS;
    if (flags) setFlagsFromString(flags);
    const kept = [];
    for (let i = 0; i < 400000; i++) kept.push({ i, name: 'tap' + i, up: i % 2 === 0 });
    const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(space.space_size / 1048576, kept.length);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, FLAGS: flags } });
  return Number(out.trim().split(' ')[0]);
}

describe('heap policy', () => {
  it('VIFD_V8_FLAGS replaces the default; empty means V8 defaults', () => {
    expect(applyHeapPolicy({ VIFD_V8_FLAGS: '' })).toBe('');
    expect(applyHeapPolicy({ VIFD_V8_FLAGS: '  ' })).toBe('');
  });

  it('set at run time, the default flags keep the young generation small where V8 defaults grow it', () => {
    const withPolicy = youngGenerationMb(DEFAULT_V8_FLAGS);
    const defaults = youngGenerationMb('');
    expect(withPolicy).toBeLessThanOrEqual(4);
    expect(defaults).toBeGreaterThan(withPolicy * 2);
  });
});
