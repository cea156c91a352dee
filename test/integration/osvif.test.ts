// The os-vif plugin (integrations/os-vif) driven by the real os-vif library
// (Debian's python3-os-vif under /usr/bin/python3) against the real vifd on a
// throwaway namespace with a private Open vSwitch. The Python tests do the
// plugging and the checks; this file starts and stops everything and asserts
// that they all ran and passed.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { waitForApi } from '../helpers/api-watch.js';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { startOvs, stopOvs, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { makeDirs, removeDirs, VifdProcess, type VifdDirs } from '../helpers/vifd-process.js';

const PYTHON = '/usr/bin/python3';
const PLUGIN_DIR = resolve(import.meta.dirname, '../../integrations/os-vif');
const netns = uniqueNetnsName('osvif');
let dirs: VifdDirs;
let ovs: PrivateOvs;
let vifd: VifdProcess | undefined;
let client: ApiClient | undefined;
let cache: string;

function python(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(PYTHON, args, { cwd: PLUGIN_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => done({ code, out }));
  });
}

/** unittest's summary: how many ran, and the skipped tests with their reasons. */
function summary(out: string): { ran: number; ok: boolean; skipped: string[] } {
  const ran = Number(/^Ran (\d+) tests? in/mu.exec(out)?.[1] ?? -1);
  const ok = /^OK( \(skipped=\d+\))?$/mu.test(out);
  // unittest quotes the reason with repr(): '...' or "..." when it holds a '.
  const skipped = [...out.matchAll(/^(test\S+) .*\.\.\. skipped (['"])(.*)\2$/gmu)].map((m) => `${m[1]}: ${m[3]}`);
  const skippedCount = Number(/^OK \(skipped=(\d+)\)$/mu.exec(out)?.[1] ?? 0);
  if (skippedCount !== skipped.length) skipped.push(`(${skippedCount} skipped in unittest's summary)`);
  return { ran, ok, skipped };
}

beforeAll(async () => {
  createNetns(netns);
  ovs = startOvs(netns);
  vsctl(ovs, 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
  dirs = makeDirs('osvif');
  cache = mkdtempSync(join(tmpdir(), 'vifd-osvif-cache-'));
  // --resync-seconds 10: an unused bridge of a Linux-bridge binding whose tap
  // was the hypervisor's is today removed only by the full resync (see the
  // Python test); a short resync keeps this file quick.
  vifd = VifdProcess.run(dirs, netns, ['--ovsdb', ovs.address, '--resync-seconds', '10']);
  client = new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') });
  await waitForApi(client, 40_000);
});

afterAll(async () => {
  client?.destroy();
  await vifd?.stop('SIGKILL');
  stopOvs(ovs);
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
  if (cache) rmSync(cache, { recursive: true, force: true });
});

describe('os-vif through the vifd plugin', () => {
  it('the installed plugin is what Debian\'s /usr/bin/python3 finds (scripts/setup.sh installs it)', () => {
    // No PYTHONPATH: only what set-up installed into a dist-packages directory.
    const out = execFileSync(
      PYTHON,
      ['-c', 'import os_vif, vif_plug_vifd; from oslo_config import cfg; cfg.CONF([], project="t"); os_vif.initialize(); print(sorted(p.plugin_name for p in os_vif.host_info().plugin_info)); print(vif_plug_vifd.__file__)'],
      { cwd: '/', encoding: 'utf8', env: { ...process.env, PYTHONPATH: '', XDG_CACHE_HOME: cache } },
    );
    expect(out, 'run scripts/setup.sh to install the os-vif plugin').toContain("'vifd'");
    expect(out).toMatch(/dist-packages\/vif_plug_vifd\/__init__\.py/u);
  });

  it('the Python tests pass: translation, wait rule, and plug/unplug of OVS and hybrid VIFs on the real vifd', async () => {
    const { code, out } = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
      PYTHONPATH: PLUGIN_DIR,
      XDG_CACHE_HOME: cache, // stevedore's entry-point cache: keep it private
      VIFD_OSVIF_API: `unix:${join(dirs.state, 'vifd.sock')}`,
      VIFD_OSVIF_NETNS: netns,
      VIFD_OSVIF_OVSDB: ovs.address,
      VIFD_OSVIF_SOURCE: PLUGIN_DIR,
    });
    const result = summary(out);
    expect(code, out).toBe(0);
    expect(result.ok, out).toBe(true);
    expect(result.ran, out).toBeGreaterThanOrEqual(40);
    expect(result.skipped, out).toEqual([]); // vif.tapOwner is in the schema: the hypervisor-owned tap tests run
  }, 300_000);
});
