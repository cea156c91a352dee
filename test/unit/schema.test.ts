import { describe, expect, it } from 'vitest';
import { parseDocumentText, parseDocumentValue } from '../../src/desired/parse.js';
import { portBindingJsonSchema } from '../../src/desired/json-schema.js';
import { defaultDeviceName, ifnameProblem, tapMacFor } from '../../src/desired/names.js';

const PORT = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const base = { apiVersion: 'vifd/v1', kind: 'PortBinding', port: PORT, mac: 'fa:16:3e:5d:12:7a' };

const valid: Array<[string, unknown]> = [
  ['bridge', { ...base, mtu: 1450, vif: { type: 'bridge', bridge: 'brq6a1c2b3d-4e' } }],
  ['ovs plain', { ...base, instance: 'b1e2c3d4-0000-4000-8000-000000000001', vif: { type: 'ovs', bridge: 'br-int', profile: {} } }],
  ['ovs hybrid', { ...base, vif: { type: 'ovs', bridge: 'br-int', hybrid: true, datapathType: 'netdev', profile: { interfaceId: PORT, profileId: 'gold' } } }],
  ['802.1qbg', { ...base, vif: { type: '802.1qbg', device: 'eth1', profile: { managerId: 12, typeId: 1193046, typeIdVersion: 1, instanceId: PORT } } }],
  ['802.1qbh', { ...base, vif: { type: '802.1qbh', device: 'eth1', mode: 'private', profile: { profileId: 'finance' } } }],
  ['list', { apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [{ ...base, vif: { type: 'bridge', bridge: 'br0' } }] }],
];

const invalid: Array<[string, unknown, string, RegExp]> = [
  ['unknown field', { ...base, vif: { type: 'bridge', bridge: 'br0' }, colour: 'red' }, '(document)', /Unrecognized key: "colour"/],
  ['typo in vif', { ...base, vif: { type: 'bridge', brige: 'br0' } }, 'vif', /Unrecognized key|expected string/],
  ['bad port', { ...base, port: 'nope', vif: { type: 'bridge', bridge: 'br0' } }, 'port', /UUID/],
  ['multicast mac', { ...base, mac: '01:00:5e:00:00:01', vif: { type: 'bridge', bridge: 'br0' } }, 'mac', /unicast/],
  ['mtu too small', { ...base, mtu: 67, vif: { type: 'bridge', bridge: 'br0' } }, 'mtu', /68|>=/],
  ['bridge name too long', { ...base, vif: { type: 'bridge', bridge: 'a-very-long-bridge' } }, 'vif.bridge', /at most 15 bytes/],
  ['bridge name with slash', { ...base, vif: { type: 'bridge', bridge: 'br/0' } }, 'vif.bridge', /"\/"/],
  ['tap named ..', { ...base, vif: { type: 'bridge', bridge: 'br0', tap: '..' } }, 'vif.tap', /"\."/],
  ['unknown vif type', { ...base, vif: { type: 'vhostuser' } }, 'vif.type', /Invalid discriminator/],
  ['qbg managerId 0', { ...base, vif: { type: '802.1qbg', device: 'eth1', profile: { managerId: 0, typeId: 1, typeIdVersion: 1, instanceId: PORT } } }, 'vif.profile.managerId', /1|>=/],
  ['qbh profileId too long', { ...base, vif: { type: '802.1qbh', device: 'eth1', profile: { profileId: 'x'.repeat(40) } } }, 'vif.profile.profileId', /39|<=/],
  ['qbg mode passthrough', { ...base, vif: { type: '802.1qbg', device: 'eth1', mode: 'passthrough', profile: { managerId: 1, typeId: 1, typeIdVersion: 1, instanceId: PORT } } }, 'vif.mode', /Invalid option|expected one of/i],
  ['wrong apiVersion', { ...base, apiVersion: 'vifd/v2', vif: { type: 'bridge', bridge: 'br0' } }, 'apiVersion', /vifd\/v1/],
  ['list item bad', { apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [{ ...base, mac: 'zz', vif: { type: 'bridge', bridge: 'br0' } }] }, 'items[0].mac', /MAC/],
  [
    'list with one port twice',
    { apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [{ ...base, vif: { type: 'bridge', bridge: 'br0' } }, { ...base, vif: { type: 'bridge', bridge: 'br1' } }] },
    'items[1].port',
    /already bound by items\[0\]/,
  ],
];

describe('PortBinding v1 schema', () => {
  it.each(valid)('accepts %s', (_name, doc) => {
    const result = parseDocumentValue(doc);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it.each(invalid)('rejects %s with path and reason', (_name, doc, path, reason) => {
    const result = parseDocumentValue(doc);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems.find((p) => p.path === path);
    expect(problem, JSON.stringify(result.problems)).toBeDefined();
    expect(problem!.message).toMatch(reason);
  });

  it('names the ports of an invalid document, so the edit is reported on its binding', () => {
    const result = parseDocumentValue({ ...base, mtu: 1, vif: { type: 'bridge', bridge: 'br0' } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.ports).toEqual([PORT]);
  });

  it('normalises UUID and MAC case', () => {
    const result = parseDocumentValue({ ...base, port: PORT.toUpperCase(), mac: 'FA:16:3E:5D:12:7A', vif: { type: 'bridge', bridge: 'br0' } });
    expect(result.ok && result.bindings[0]).toMatchObject({ port: PORT, mac: 'fa:16:3e:5d:12:7a' });
  });

  it('reports JSON syntax errors with line and column', () => {
    const result = parseDocumentText('{\n  "apiVersion": "vifd/v1",\n  "kind": ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]!.message).toMatch(/not valid JSON/);
    const empty = parseDocumentText('   ');
    expect(!empty.ok && empty.problems[0]!.message).toBe('empty document');
  });

  it('is published as JSON Schema generated from the same definition', () => {
    const schema = portBindingJsonSchema();
    const text = JSON.stringify(schema);
    expect(schema['$schema']).toMatch(/2020-12/);
    for (const type of ['bridge', 'ovs', '802.1qbg', '802.1qbh', 'PortBindingList']) expect(text).toContain(`"${type}"`);
    expect(text).toContain('"additionalProperties":false');
  });
});

describe('names', () => {
  it('derives OpenStack-style default names', () => {
    expect(defaultDeviceName('tap', PORT)).toBe('tap3f2a8c71-5b');
    expect(defaultDeviceName('qvo', PORT)).toHaveLength(14);
  });
  it('gives the tap the VM MAC with first byte fe', () => expect(tapMacFor('fa:16:3e:5d:12:7a')).toBe('fe:16:3e:5d:12:7a'));
  it.each(['', 'a'.repeat(16), '-x', 'a b', 'a:b', '.', 'é'.repeat(8)])('rejects interface name %j', (name) => expect(ifnameProblem(name)).toBeDefined());
  it.each(['eth0', 'br-int', 'a'.repeat(15), 'tap3f2a8c71-5b'])('accepts interface name %j', (name) => expect(ifnameProblem(name)).toBeUndefined());
});

describe('published JSON Schema', () => {
  it('schema/portbinding.v1.json is what `vifd schema` generates (regenerate with: node bin/vifd.js schema > schema/portbinding.v1.json)', async () => {
    const { readFileSync } = await import('node:fs');
    const published = JSON.parse(readFileSync(new URL('../../schema/portbinding.v1.json', import.meta.url), 'utf8')) as unknown;
    expect(published).toEqual(portBindingJsonSchema());
  });
});
