import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGroup, parseIpLinkJson, IpOutputParseError } from '../../src/observed/parse-ip-link.js';

// Captured from `ip -j -d link show` (iproute2 6.1) in a test namespace holding
// a vifd-made bridge and tap, a plain bridge, a veth pair and a macvtap.
const captured = readFileSync(new URL('../fixtures/ip-link-mixed.json', import.meta.url), 'utf8');

describe('parseIpLinkJson on captured output', () => {
  const { links } = parseIpLinkJson(captured);

  it('reads every link', () => {
    expect([...links.keys()]).toEqual(['lo', 'brA', 'tapA', 'brB', 'vethB', 'vethA', 'mvt1']);
  });

  it('reads a vifd-owned tap with its marks, master and flags', () => {
    expect(links.get('tapA')).toMatchObject({
      kind: 'tap',
      group: 4242,
      alias: 'vifd:port:3f2a8c71-5b0e',
      master: 'brA',
      mtu: 1450,
      mac: 'fe:16:3e:5d:12:7a',
      up: true,
      persistent: true,
    });
  });

  it('reads bridges, veth peers and macvtap lower device and mode', () => {
    expect(links.get('brA')).toMatchObject({ kind: 'bridge', group: 4242, alias: 'vifd:bridge', up: true });
    expect(links.get('brB')).toMatchObject({ kind: 'bridge', group: 0, alias: undefined, up: false });
    expect(links.get('vethB')).toMatchObject({ kind: 'veth', link: 'vethA', master: 'brA' });
    expect(links.get('mvt1')).toMatchObject({ kind: 'macvtap', link: 'vethA', macvtapMode: 'vepa' });
    expect(links.get('lo')).toMatchObject({ kind: 'other', up: false });
  });
});

describe('parseGroup', () => {
  it.each([
    ['default', 0],
    ['4242', 4242],
    [7, 7],
    [undefined, 0],
  ])('%s → %s', (input, expected) => expect(parseGroup(input)).toBe(expected));
  it('maps an unknown group name to NaN (never ours)', () => expect(parseGroup('mygroup')).toBeNaN());
});

describe('bad ip output', () => {
  it('throws a typed error', () => {
    expect(() => parseIpLinkJson('not json')).toThrow(IpOutputParseError);
    expect(() => parseIpLinkJson('{}')).toThrow(/JSON array/);
    expect(() => parseIpLinkJson('[{"ifname":"x"}]')).toThrow(/ifindex/);
  });
});
