// The state-directory lock is arbitrated by the kernel: whatever the lock
// file says (empty, as between create and pid write; a stale pid), a second
// taker is refused while the first holds it, and the lock is free once the
// holder releases it (or dies: abstract socket names go with the process).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockName, lockStateDir, StateLockedError } from '../../src/state/lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'vifd-lock-'));
  dirs.push(d);
  return d;
};

describe('state directory lock', () => {
  it('refuses a second taker, even when the lock file is empty or names a dead pid', async () => {
    const dir = tempDir();
    const first = await lockStateDir(dir);
    for (const content of ['', '999999999\n', 'garbage']) {
      writeFileSync(join(dir, 'vifd.lock'), content);
      const error = await lockStateDir(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateLockedError);
      expect((error as StateLockedError).code).toBe('STATE_DIR_LOCKED');
    }
    await first.release();
    const again = await lockStateDir(dir);
    await again.release();
  });

  it('many takers at the same instant: exactly one wins', async () => {
    const dir = tempDir();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => lockStateDir(dir)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof StateLockedError)).toHaveLength(19);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });

  it('names the lock after the real path: two spellings of one directory share it', async () => {
    const dir = tempDir();
    expect(lockName(dir)).toBe(lockName(`${dir}/./`));
    expect(lockName(dir)).not.toBe(lockName(tempDir()));
  });
});
