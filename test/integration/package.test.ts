// npm run package: the Debian package holds what it must, installs into a
// throwaway root (dpkg --root, maintainer scripts chrootless with DPKG_ROOT)
// without touching the host's /usr, runs from there — `vifd --version`,
// `vifd validate`, and `vifd run` finding its own vifd-notify helper — and
// purging removes what it installed and vifd's state, calling nothing that
// could touch a device.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { NotifyListener } from '../helpers/notify-listener.js';
import { bridgeBinding, portUuid, waitFor } from '../helpers/vifd-process.js';

const repo = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'vifd-package-'));
const root = join(work, 'root');
const stubs = join(work, 'stubs');
const calls = join(work, 'calls');
const netns = uniqueNetnsName('package');
let deb = '';
const hostHadVifd = { lib: existsSync('/usr/lib/vifd'), bin: existsSync('/usr/bin/vifd') };

/** dpkg against the throwaway root; commands a maintainer script might run are stubs that only log. */
function dpkg(...args: string[]): string {
  return execFileSync('dpkg', [`--root=${root}`, '--force-depends', '--force-script-chrootless', '--log=/dev/null', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${stubs}:${process.env['PATH']}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function files(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = `${prefix}/${e.name}`;
    return e.isDirectory() ? [rel + '/', ...files(join(dir, e.name), rel)] : [rel];
  });
}

beforeAll(() => {
  const out = execFileSync('bash', [join(repo, 'scripts/package.sh')], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  deb = join(repo, out.trim().split('\n').pop()!);
  for (const dir of ['info', 'updates', 'triggers']) mkdirSync(join(root, 'var/lib/dpkg', dir), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  mkdirSync(stubs);
  for (const command of ['ip', 'bridge', 'ovs-vsctl', 'vdptool', 'lldptool', 'systemctl', 'deb-systemd-invoke', 'deb-systemd-helper', 'vifd']) {
    writeFileSync(join(stubs, command), `#!/bin/sh\necho "${command} $*" >> ${calls}\n`);
    chmodSync(join(stubs, command), 0o755);
  }
}, 300_000);

afterAll(() => {
  deleteNetns(netns);
  rmSync(work, { recursive: true, force: true });
});

describe('the Debian package', () => {
  it('lists what it must hold', () => {
    expect(deb).toMatch(new RegExp(`/dist/deb/vifd_${pkg.version}_[a-z0-9]+\\.deb$`));
    const listing = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' });
    for (const path of [
      './usr/bin/vifd',
      './usr/lib/vifd/bin/vifd.js',
      './usr/lib/vifd/dist/vifd.mjs',
      './usr/lib/vifd/package.json',
      './usr/lib/vifd/native/build/vifd-netlink',
      './usr/lib/vifd/native/build/vifd-notify',
      './lib/systemd/system/vifd.service',
      './usr/share/man/man8/vifd.8.gz',
      './usr/share/bash-completion/completions/vifd',
      './etc/vifd/bindings.d/',
    ]) {
      expect(listing).toMatch(new RegExp(`\\s${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\n|$)`, 'm'));
    }
    expect(listing).not.toMatch(/node_modules/);
    expect(listing).toMatch(/-rwxr-xr-x root\/root .* \.\/usr\/bin\/vifd\n/);
  });

  it('says what it depends on, at package.json\'s version', () => {
    const field = (name: string) => execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
    expect(field('Package')).toBe('vifd');
    expect(field('Version')).toBe(pkg.version);
    expect(field('Depends')).toMatch(/nodejs \(>= 20[.\d]*\)/);
    expect(field('Recommends')).toBe('openvswitch-switch, lldpad');
  });

  it('maintainer scripts run nothing that touches a device', () => {
    const control = join(work, 'control');
    execFileSync('dpkg-deb', ['-e', deb, control]);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const text = readFileSync(join(control, script), 'utf8');
      expect(spawnSync('sh', ['-n', join(control, script)]).status).toBe(0);
      const code = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
      expect(code).not.toMatch(/\b(ip|bridge|ovs-vsctl|ovs-ofctl|vdptool|lldptool|tc|vifd) /);
      expect(code).not.toMatch(/\/sys\/|\/proc\//);
    }
  });

  it('installs into a throwaway root and runs from there', () => {
    dpkg('-i', deb);
    // Nothing landed on the host's own /usr or /lib.
    expect(existsSync('/usr/lib/vifd')).toBe(hostHadVifd.lib);
    expect(existsSync('/usr/bin/vifd')).toBe(hostHadVifd.bin);
    const vifd = join(root, 'usr/bin/vifd');
    const run = (args: string[]) => spawnSync(vifd, args, { encoding: 'utf8', cwd: '/' });
    expect(run(['--version']).stdout).toBe(`vifd ${pkg.version}\n`);
    const good = join(root, 'etc/vifd/bindings.d/10-good.json');
    writeFileSync(good, JSON.stringify(bridgeBinding(1, 'br0')));
    const ok = run(['validate', good]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('ok (1 binding)');
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...bridgeBinding(2, 'br0'), mac: 'not-a-mac' }));
    expect(run(['validate', bad]).status).toBe(1);
    expect(run(['run', '--help']).stdout).toContain('--ovs-datapath system|netdev');
    // The man page and the completion are the generated ones.
    const page = gunzipSync(readFileSync(join(root, 'usr/share/man/man8/vifd.8.gz'))).toString();
    expect(page).toContain(`.TH VIFD 8`);
    expect(page).toContain(`"vifd ${pkg.version}"`);
    expect(spawnSync('bash', ['-n', join(root, 'usr/share/bash-completion/completions/vifd')]).status).toBe(0);
    expect(readFileSync(join(root, 'lib/systemd/system/vifd.service'), 'utf8')).toBe(readFileSync(join(repo, 'contrib/vifd.service'), 'utf8'));
    expect(existsSync(calls)).toBe(false); // postinst ran no command
  });

  it('the installed vifd runs its own vifd-notify helper (READY=1 from it) on a throwaway netns', async () => {
    createNetns(netns);
    const desired = join(work, 'desired');
    const state = join(work, 'state');
    mkdirSync(desired);
    writeFileSync(join(desired, 'one.json'), JSON.stringify(bridgeBinding(1, 'brpkg0')));
    const listener = await NotifyListener.start(join(work, 'notify.sock'));
    const child = spawn(join(root, 'usr/bin/vifd'), ['run', '--desired-dir', desired, '--state-dir', state, '--netns', netns], {
      cwd: '/',
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NOTIFY_SOCKET: listener.address },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => listener.with('READY=1').length > 0, 30_000, 'READY=1');
      const helper = listener.with('READY=1')[0]!.pid;
      expect(readlinkSync(`/proc/${helper}/exe`)).toBe(join(root, 'usr/lib/vifd/native/build/vifd-notify'));
      expect(JSON.parse(readFileSync(join(state, 'status', `${portUuid(1)}.json`), 'utf8')).phase).toBe('Ready');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(() => listener.with('STOPPING=1').length === 1, 5000, 'STOPPING=1');
    } finally {
      child.kill('SIGKILL');
      listener.stop();
    }
  });

  it('purge removes what it installed and vifd\'s state; the operator\'s bindings stay', () => {
    mkdirSync(join(root, 'var/lib/vifd/status'), { recursive: true });
    writeFileSync(join(root, 'var/lib/vifd/status/x.json'), '{}');
    dpkg('-P', 'vifd');
    expect(files(join(root, 'var/lib')).filter((f) => !f.startsWith('/dpkg'))).toEqual([]);
    expect(files(join(root, 'etc'))).toEqual(['/vifd/', '/vifd/bindings.d/', '/vifd/bindings.d/10-good.json']);
    expect(files(join(root, 'usr'))).toEqual([]);
    expect(files(join(root, 'lib'))).toEqual([]);
    expect(existsSync(calls)).toBe(false); // no script ran any command
    // Without a binding left, /etc/vifd goes too.
    rmSync(join(root, 'etc/vifd/bindings.d/10-good.json'));
    dpkg('-i', deb);
    dpkg('-P', 'vifd');
    expect(existsSync(join(root, 'etc/vifd'))).toBe(false);
  });
});
