// The netlink link parser against `ip -j -d link show` of the same moment:
// test/fixtures/rtnl-link-dump.bin is a raw RTM_GETLINK dump (vifd-netlink
// one-shot) of a namespace holding a bridge with an up tap (one queue held
// open), a multi-queue tap with two queues held, a veth pair, a veth whose
// peer is in another namespace, macvtaps (vepa, bridge) and a macvlan on a
// veth lower, a tun, groups and aliases; rtnl-link-dump.ip.json is ip's JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLinkMessage, type LinkMessage } from '../../src/host/netlink/link-message.js';
import { LinkTable } from '../../src/host/netlink/link-table.js';
import { NLMSG_DONE, parseMessages, RTM_DELLINK, RTM_NEWLINK } from '../../src/host/netlink/wire.js';
import { parseIpLinkJson } from '../../src/observed/parse-ip-link.js';
import { repoRoot } from '../helpers/repo-root.js';

const fixture = (name: string) => readFileSync(join(repoRoot(), 'test/fixtures', name));
const messages = parseMessages(fixture('rtnl-link-dump.bin'));
const fromIp = parseIpLinkJson(fixture('rtnl-link-dump.ip.json').toString('utf8')).links;
const parsed = messages.map(parseLinkMessage).filter((m): m is LinkMessage => m !== undefined);

function tableOf(list: readonly LinkMessage[]): LinkTable {
  const table = new LinkTable();
  for (const m of list) table.apply(m);
  return table;
}

describe('RTM_NEWLINK parser', () => {
  it('reads the whole dump: every message a link but the NLMSG_DONE', () => {
    expect(messages.at(-1)!.type).toBe(NLMSG_DONE);
    expect(parsed).toHaveLength(messages.length - 1);
    expect(parsed.length).toBe(fromIp.size);
  });

  it('gives exactly what parseIpLinkJson gives, device by device', () => {
    const links = tableOf(parsed).links;
    expect([...links.keys()].sort()).toEqual([...fromIp.keys()].sort());
    for (const [name, link] of fromIp) expect(links.get(name), name).toEqual(link);
  });

  it('resolves masters and lower devices that arrive after their slaves', () => {
    const links = tableOf([...parsed].reverse()).links;
    for (const [name, link] of fromIp) expect(links.get(name), name).toEqual(link);
  });

  it('covers what the planner reads (the fixture is what it says)', () => {
    const links = tableOf(parsed).links;
    expect(links.get('tapfix0')).toMatchObject({ kind: 'tap', master: 'brq-fixture', mtu: 1450, group: 4242, up: true, carrier: true, persistent: true, multiQueue: false });
    expect(links.get('tapfix0')!.alias).toMatch(/^vifd:port:/u);
    expect(links.get('tapmq0')).toMatchObject({ kind: 'tap', multiQueue: true, tunQueues: 2, master: 'brq-fixture' });
    expect(links.get('qvbfix')).toMatchObject({ kind: 'veth', link: 'qvofix', master: 'brq-fixture' });
    expect(links.get('xnsA')).toMatchObject({ kind: 'veth', link: undefined }); // peer in another netns
    expect(links.get('mvtfix0')).toMatchObject({ kind: 'macvtap', link: 'uplink0', macvtapMode: 'vepa' });
    expect(links.get('mvtfix1')).toMatchObject({ kind: 'macvtap', macvtapMode: 'bridge', group: 7, alias: 'an alias with spaces' });
    expect(links.get('mvlfix')).toMatchObject({ kind: 'macvlan', macvtapMode: 'private' });
    expect(links.get('tunfix')).toMatchObject({ kind: 'tun', mac: undefined, persistent: true });
    expect(links.get('lo')).toMatchObject({ kind: 'other', rawKind: undefined, up: true });
  });

  it('reads RTM_DELLINK as a deletion and ignores AF_BRIDGE messages about ports', () => {
    const tap = messages.find((m) => parseLinkMessage(m)?.op === 'new' && (parseLinkMessage(m) as { record: { name: string } }).record.name === 'tapfix0')!;
    expect(parseLinkMessage({ ...tap, type: RTM_DELLINK })).toEqual({ op: 'del', ifindex: fromIp.get('tapfix0')!.ifindex, name: 'tapfix0' });
    const bridgeFamily = Buffer.from(tap.payload);
    bridgeFamily[0] = 7; // AF_BRIDGE
    expect(parseLinkMessage({ ...tap, type: RTM_NEWLINK, payload: bridgeFamily })).toBeUndefined();
    expect(parseLinkMessage({ ...tap, type: RTM_DELLINK, payload: bridgeFamily })).toBeUndefined();
  });
});
