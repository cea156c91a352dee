import { describe, expect, it } from 'vitest';
import { applyLinkActions } from '../../src/host/links/link-actuator.js';
import { renderIpBatch } from '../../src/host/links/ip-batch.js';
import { LinkActionError } from '../../src/errors/host-errors.js';
import { parseBatchErrors } from '../../src/host/ip.js';
import type { LinkAction } from '../../src/model/actions.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';

const actions: LinkAction[] = [
  { op: 'delete-link', key: 'p1', name: 'tapold', why: 'gone' },
  { op: 'delete-link', key: 'link:br9', name: 'br9', why: 'unused' },
  { op: 'create-bridge', key: 'p2', name: 'br1', group: 4242, alias: 'vifd:bridge', perPort: false },
  { op: 'create-tap', key: 'p2', name: 'tapnew' },
  { op: 'create-veth', key: 'p3', name: 'qvbx', peer: 'qvox', group: 4242, alias: 'vifd:port:p3', mtu: 1450 },
  { op: 'create-macvtap', key: 'p4', name: 'mvtx', lower: 'eth1', mode: 'vepa', mac: 'fa:16:3e:00:00:04', group: 4242, alias: 'vifd:port:p4' },
  { op: 'set-link', key: 'p2', name: 'tapnew', settings: { group: 4242, alias: 'vifd:port:p2', mac: 'fe:16:3e:00:00:02', mtu: 1450, master: 'br1', up: true }, why: 'new' },
  { op: 'set-link', key: 'p5', name: 'tapx', settings: { master: null, up: false, macvtapMode: 'bridge' }, why: 'repair' },
];

describe('renderIpBatch', () => {
  it('renders deletes in bulk through the doomed group, then creates and settings', () => {
    const batch = renderIpBatch(actions, DEFAULT_OWNERSHIP);
    expect(batch.lines).toEqual([
      'link set dev tapold group 4243',
      'link set dev br9 group 4243',
      'link del group 4243',
      'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
      'link set dev br1 alias vifd:bridge addrgenmode none up',
      'tuntap add dev tapnew mode tap',
      'link add name qvbx group 4242 mtu 1450 type veth peer name qvox group 4242 mtu 1450',
      'link add link eth1 name mvtx address fa:16:3e:00:00:04 group 4242 type macvtap mode vepa',
      'link set dev tapnew group 4242 alias vifd:port:p2 address fe:16:3e:00:00:02 mtu 1450 master br1 up',
      'link set dev tapx nomaster down type macvtap mode bridge',
    ]);
    expect(batch.keysOfLine[2]).toEqual(['p1', 'link:br9']);
    expect(batch.keysOfLine[8]).toEqual(['p2']);
  });
});

describe('batch errors', () => {
  // What `ip -force -batch -` printed for a failing tuntap and a missing device.
  const stderr = 'ioctl(TUNSETIFF): Device or resource busy\nCommand failed -:6\nCannot find device "tapx"\nCommand failed -:10\n';

  it('parses line numbers and messages', () => {
    const lines = renderIpBatch(actions, DEFAULT_OWNERSHIP).lines;
    const errors = parseBatchErrors(stderr, lines);
    expect(errors.map((e) => [e.lineNumber, e.line, e.reason])).toEqual([
      [6, 'tuntap add dev tapnew mode tap', 'ioctl(TUNSETIFF): Device or resource busy'],
      [10, 'link set dev tapx nomaster down type macvtap mode bridge', 'Cannot find device "tapx"'],
    ]);
    expect(errors.every((e) => e.retryable)).toBe(true);
  });

  it('attributes failures to the keys of the failing lines, and never sets up a device whose creation failed', async () => {
    // tuntap add of tapnew fails (another agent made tapnew first); tapx is missing.
    const batches: string[][] = [];
    const runner = {
      batch: async (lines: readonly string[]) => {
        batches.push([...lines]);
        const out: string[] = [];
        lines.forEach((line, i) => {
          if (line === 'tuntap add dev tapnew mode tap') out.push('ioctl(TUNSETIFF): Device or resource busy', `Command failed -:${i + 1}`);
          if (line.startsWith('link set dev tapx ')) out.push('Cannot find device "tapx"', `Command failed -:${i + 1}`);
        });
        return parseBatchErrors(out.join('\n'), lines);
      },
    };
    const result = await applyLinkActions(runner, actions, DEFAULT_OWNERSHIP);
    expect([...result.failures.keys()]).toEqual(['p2', 'p5']);
    expect(result.failures.get('p2')!.map((e) => e.line)).toEqual(['tuntap add dev tapnew mode tap']);
    // Creations first; the foreign tapnew gets no group, alias, MAC, master or up.
    expect(batches).toHaveLength(2);
    expect(batches[0]!.at(-1)).toBe('link add link eth1 name mvtx address fa:16:3e:00:00:04 group 4242 type macvtap mode vepa');
    expect(batches[1]![0]).toBe('link set dev br1 alias vifd:bridge addrgenmode none up');
    expect(batches.flat().filter((l) => l.startsWith('link set dev tapnew'))).toEqual([]);
    expect(result.skipped).toEqual(['link set dev tapnew group 4242 alias vifd:port:p2 address fe:16:3e:00:00:02 mtu 1450 master br1 up']);
    expect(result.linesRun).toBe(9);
  });

  it('a round that creates nothing runs one batch', async () => {
    const batches: string[][] = [];
    const runner = { batch: async (lines: readonly string[]) => (batches.push([...lines]), []) };
    await applyLinkActions(runner, actions.filter((a) => !a.op.startsWith('create-')), DEFAULT_OWNERSHIP);
    expect(batches).toHaveLength(1);
  });

  it('a line enslaving to a bridge whose creation failed is not run', async () => {
    const racing: LinkAction[] = [
      { op: 'create-bridge', key: 'p2', name: 'br1', group: 4242, alias: 'vifd:bridge', perPort: true },
      { op: 'create-tap', key: 'p2', name: 'tapnew' },
      { op: 'set-link', key: 'p2', name: 'tapnew', settings: { group: 4242, alias: 'vifd:port:p2', master: 'br1', up: true }, why: 'new' },
    ];
    const run: string[] = [];
    const runner = {
      batch: async (lines: readonly string[]) => {
        run.push(...lines);
        const i = lines.findIndex((l) => l.startsWith('link add name br1 '));
        return i < 0 ? [] : parseBatchErrors(`RTNETLINK answers: File exists\nCommand failed -:${i + 1}\n`, lines);
      },
    };
    const result = await applyLinkActions(runner, racing, DEFAULT_OWNERSHIP);
    expect(run).toEqual(['link add name br1 group 4242 type bridge forward_delay 0 stp_state 0 ageing_time 0', 'tuntap add dev tapnew mode tap']);
    expect(result.skipped).toHaveLength(2);
  });

  it('classifies a kernel refusal as terminal', () => {
    const error = new LinkActionError({ line: 'link set dev x mtu 99999', lineNumber: 1, message: 'Error: mtu greater than device maximum. RTNETLINK answers: Invalid argument' });
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('LINK_ACTION_REJECTED');
  });
});
