// contrib/vifd.service: what the unit must say, and `systemd-analyze verify`
// (when the machine has it) on a copy whose ExecStart is this checkout's
// bin/vifd.js and whose man page is the generated one.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manPage } from '../../src/cli/man.js';

const UNIT = resolve(import.meta.dirname, '../../contrib/vifd.service');
const BIN = resolve(import.meta.dirname, '../../bin/vifd.js');
const text = readFileSync(UNIT, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'vifd-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every `Key=value` of the unit (a key may repeat). */
function directives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

function copyForVerify(): string {
  const unitDir = join(dir, 'unit');
  const man8 = join(dir, 'man', 'man8');
  mkdirSync(unitDir, { recursive: true });
  mkdirSync(man8, { recursive: true });
  writeFileSync(join(man8, 'vifd.8'), manPage('0.0.0'));
  const path = join(unitDir, 'vifd.service');
  writeFileSync(path, text.replace('ExecStart=/usr/bin/vifd ', `ExecStart=${BIN} `));
  return path;
}

describe('contrib/vifd.service', () => {
  const d = directives(text);
  it('is a notify service with a watchdog, restarted on failure', () => {
    expect(d.get('Type')).toEqual(['notify']);
    expect(d.get('NotifyAccess')).toEqual(['all']); // the helper, vifd's child, sends
    expect(Number(d.get('WatchdogSec')?.[0])).toBeGreaterThan(0);
    expect(d.get('Restart')).toEqual(['on-failure']);
    expect(d.get('KillMode')).toEqual(['mixed']); // SIGTERM to vifd alone; it stops its helpers
    expect(d.get('ExecStart')?.[0]).toMatch(/^\/usr\/bin\/vifd run /);
  });

  it('is hardened: CAP_NET_ADMIN only, read-only system, private /tmp, no new privileges', () => {
    expect(d.get('CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN']);
    expect(d.get('ProtectSystem')).toEqual(['strict']);
    expect(d.get('ProtectHome')).toEqual(['yes']);
    expect(d.get('PrivateTmp')).toEqual(['yes']);
    expect(d.get('NoNewPrivileges')).toEqual(['yes']);
    expect(d.get('StateDirectory')).toEqual(['vifd']);
    expect(d.get('ConfigurationDirectory')?.[0]).toMatch(/^vifd\b/);
    expect(d.get('ReadWritePaths')).toEqual(['-/run/openvswitch']);
  });

  it.runIf(hasAnalyze)('passes systemd-analyze verify', () => {
    const path = copyForVerify();
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', env: { ...process.env, MANPATH: join(dir, 'man') } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(hasAnalyze)('rates "OK" or better in systemd-analyze security (exposure below 4.0; the Type=simple unit it replaces: 9.6)', () => {
    const path = copyForVerify();
    const out = execFileSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', path], { encoding: 'utf8' });
    const m = /Overall exposure level for vifd\.service: ([\d.]+)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(4.0);
  });
});
