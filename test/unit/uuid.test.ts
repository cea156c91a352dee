import { describe, expect, it } from 'vitest';
import { UUID_ANY_CASE, UUID_CANONICAL, UUID_JSON_FILE, UUID_LOOSE } from '../../src/lib/uuid.js';

const ID = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';

describe('UUID patterns', () => {
  it.each([
    ['canonical', UUID_CANONICAL, [ID], [ID.toUpperCase(), ID.replaceAll('-', ''), `${ID}x`, ID.slice(1), '']],
    ['any case', UUID_ANY_CASE, [ID, ID.toUpperCase(), '3F2A8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f'], [ID.replaceAll('-', ''), `../${ID}`, `${ID}\n`]],
    ['loose', UUID_LOOSE, [ID, ID.toUpperCase(), ID.replaceAll('-', ''), '3f2a8c715b0e-4d2a-9c3e-7a1b2c3d4e5f'], [`${ID}0`, 'g'.repeat(32), '3f2a8c71--5b0e-4d2a-9c3e-7a1b2c3d4e5f']],
  ])('%s', (_name, re, good, bad) => {
    for (const s of good) expect(re.test(s), s).toBe(true);
    for (const s of bad) expect(re.test(s), s).toBe(false);
  });

  it('a port file name is a canonical UUID and .json, the UUID captured', () => {
    expect(UUID_JSON_FILE.exec(`${ID}.json`)?.[1]).toBe(ID);
    for (const name of [`${ID.toUpperCase()}.json`, `${ID}.json.tmp`, `.${ID}.json`, `${ID}`]) expect(UUID_JSON_FILE.test(name), name).toBe(false);
  });

  it('no pattern carries a flag JSON Schema would drop, nor a stateful one', () => {
    for (const re of [UUID_CANONICAL, UUID_ANY_CASE, UUID_LOOSE, UUID_JSON_FILE]) expect(re.flags).toBe('u');
  });
});
