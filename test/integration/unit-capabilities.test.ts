// contrib/vifd.service bounds vifd to CAP_NET_ADMIN. This runs the real vifd
// the way that unit does — no --netns, capability bounding set CAP_NET_ADMIN
// only, no new privileges (setpriv) — inside a throwaway namespace
// (`ip netns exec`, so "the host" vifd sees is that namespace), and checks
// that it plugs a bridge binding with no more than that.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VIFD_BIN, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('caps');
let dirs: VifdDirs;
// Without --netns vifd would use the host's OVSDB if it ran: then this test must not run.
const hostOvs = existsSync('/run/openvswitch/db.sock');

beforeAll(() => {
  createNetns(netns);
  dirs = makeDirs('caps');
});

afterAll(() => {
  deleteNetns(netns);
  removeDirs(dirs);
});

describe.skipIf(hostOvs)('vifd with the unit\'s capabilities', () => {
  it('plugs a bridge binding with CAP_NET_ADMIN alone', async () => {
    writeBinding(dirs, 'one.json', bridgeBinding(1, 'brcap0'));
    const child = spawn(
      'ip',
      ['netns', 'exec', netns, 'setpriv', '--bounding-set=-all,+net_admin', '--inh-caps=-all', '--no-new-privs', '--', process.execPath, VIFD_BIN, 'run', '--desired-dir', dirs.desired, '--state-dir', dirs.state],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => readStatuses(dirs).get(portUuid(1))?.phase === 'Ready', 30_000, 'Ready');
      const links = linksIn(netns);
      const tap = readStatuses(dirs).get(portUuid(1))!.devices.find((d) => d.master === 'brcap0');
      expect(tap).toBeDefined();
      expect(links.get(tap!.name)?.master).toBe('brcap0');
      expect(links.get('brcap0')?.linkinfo?.info_kind).toBe('bridge');
      // The daemon really had CAP_NET_ADMIN (bit 12) and nothing else.
      // (`ip netns exec` and setpriv exec in place: the child's pid is vifd's.)
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      expect(status).toMatch(/^Name:\s+node/m);
      expect(status).toMatch(/^CapEff:\s+0000000000001000$/m);
      expect(status).toMatch(/^CapBnd:\s+0000000000001000$/m);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
