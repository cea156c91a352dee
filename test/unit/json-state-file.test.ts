import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asObject, readJsonState } from '../../src/state/json-state-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vifd-json-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const count = (json: unknown): number | undefined => {
  const n = asObject(json)?.['n'];
  return typeof n === 'number' ? n : undefined;
};

describe('readJsonState', () => {
  it('a missing file is the empty state, not corrupt', async () => {
    expect(await readJsonState(join(dir, 'none.json'), count)).toEqual({ value: undefined, corrupt: false });
  });

  it('a valid file is parsed', async () => {
    writeFileSync(join(dir, 's.json'), '{"n": 3}\n');
    expect(await readJsonState(join(dir, 's.json'), count)).toEqual({ value: 3, corrupt: false });
  });

  it.each([
    ['truncated', '{"n": '],
    ['empty', ''],
    ['not an object', '[1, 2]'],
    ['refused by parse', '{"n": "three"}'],
    ['null', 'null'],
  ])('%s: empty and corrupt', async (_what, text) => {
    writeFileSync(join(dir, 's.json'), text);
    expect(await readJsonState(join(dir, 's.json'), count)).toEqual({ value: undefined, corrupt: true });
  });

  it('a file that cannot be read (a directory in its place) is corrupt, not missing', async () => {
    mkdirSync(join(dir, 's.json'));
    expect(await readJsonState(join(dir, 's.json'), count)).toEqual({ value: undefined, corrupt: true });
  });
});
