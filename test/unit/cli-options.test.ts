// The option tables drive parsing, --help, usage errors, the man page and the
// bash completion: every option a table has is accepted by the parser and
// appears in each generated text, and nothing else is accepted.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bashCompletion } from '../../src/cli/completion.js';
import { commandHelp, synopsis, usage } from '../../src/cli/help.js';
import { main } from '../../src/cli/main.js';
import { manPage } from '../../src/cli/man.js';
import { COMMANDS, PLAN, RUN, WAIT, type CommandSpec } from '../../src/cli/option-tables.js';
import { HelpRequest, parseCommand, UsageError } from '../../src/cli/options.js';
import { version } from '../../src/cli/version.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function sampleArgv(command: CommandSpec): string[] {
  const argv: string[] = [];
  for (const [name, spec] of Object.entries(command.options)) {
    argv.push(`--${name}`);
    if (spec.type === 'string') argv.push(spec.choices?.[0] ?? `value-of-${name}`);
  }
  if (command.positionals) argv.push(command.positionals.choices?.[0] ?? 'arg');
  return argv;
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('option tables', () => {
  const man = manPage('9.9.9', '2026-01-01');
  const completion = bashCompletion();
  for (const command of COMMANDS) {
    it(`${command.name}: the parser accepts every option of the table, and every text shows it`, () => {
      const { values, positionals } = parseCommand(command, sampleArgv(command));
      for (const [name, spec] of Object.entries(command.options)) {
        expect((values as Record<string, unknown>)[name]).toBe(spec.type === 'boolean' ? true : (spec.choices?.[0] ?? `value-of-${name}`));
        expect(synopsis(command)).toContain(`--${name}`);
        expect(commandHelp(command)).toContain(`--${name}`);
        expect(man).toContain(`\\-\\-${name.replace(/-/g, '\\-')}`);
        expect(completion).toContain(`--${name}`);
      }
      expect(positionals.length).toBe(command.positionals ? 1 : 0);
      expect(usage()).toContain(`vifd ${command.name}`);
      expect(completion).toContain(`    ${command.name})`);
    });

    it(`${command.name}: an option no table has is a usage error naming the command`, () => {
      const error = (() => {
        try {
          parseCommand(command, [...sampleArgv(command), '--no-such-option']);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).command).toBe(command.name);
    });

    it(`${command.name}: --help and -h ask for help, not an error`, () => {
      expect(() => parseCommand(command, ['--help'])).toThrow(HelpRequest);
      expect(() => parseCommand(command, ['-h'])).toThrow(HelpRequest);
    });
  }

  it('the usage shows the options that the old hand-written text left out', () => {
    expect(usage()).toContain('--ovsdb');
    expect(usage()).toContain('--ovs-datapath system|netdev');
    expect(synopsis(PLAN)).toContain('[--json]');
    expect(synopsis(RUN)).toContain('[--api-token-file FILE]');
  });

  it('a required option is required, and shown without brackets', () => {
    expect(() => parseCommand(WAIT, ['3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f'])).toThrow(/wait needs --for/);
    expect(synopsis(WAIT)).toMatch(/ --for Ready\|Removed /);
    expect(synopsis(WAIT)).toContain('[--timeout S]');
  });

  it('rejects a value outside an option\'s choices, and arguments a command does not take', () => {
    expect(() => parseCommand(PLAN, ['--ovs-datapath', 'dpdk'])).toThrow(/system, netdev/);
    expect(() => parseCommand(RUN, ['extra'])).toThrow(/takes no arguments/);
  });

  it('defaults come from the tables', () => {
    const { values } = parseCommand(RUN, []);
    expect(values['desired-dir']).toBe('/etc/vifd/bindings.d');
    expect(values['resync-seconds']).toBe('60');
    expect(commandHelp(RUN)).toContain('Default: /var/lib/vifd.');
  });
});

describe('main', () => {
  it('`vifd run --help` prints run\'s options and exits 0', async () => {
    const r = await capture(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--ovs-datapath system|netdev');
    expect(r.err).toBe('');
  });

  it('`vifd help plan` prints plan\'s help', async () => {
    const r = await capture(['help', 'plan']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--json');
  });

  it('a usage error exits 2 with the command\'s synopsis on stderr', async () => {
    const r = await capture(['plan', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--bogus'/);
    expect(r.err).toContain('usage: vifd plan');
    expect(r.out).toBe('');
  });

  it('`vifd --version` is package.json\'s version', async () => {
    const r = await capture(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`vifd ${pkg.version}\n`);
    expect(version()).toBe(pkg.version);
  });

  it('no command: usage on stderr, exit 2', async () => {
    const r = await capture([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage:');
  });
});

describe('README', () => {
  it('every vifd option it names is one a command table has', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const known = new Set(['help', 'version', ...COMMANDS.flatMap((c) => Object.keys(c.options))]);
    // Options of other tools the README quotes (systemctl, dpkg, the chaos bench).
    const others = new Set(['now', 'root', 'seconds', 'seed', 'bindings']);
    const named = [...readme.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !known.has(n) && !others.has(n))).toEqual([]);
  });
});

describe('generated files', () => {
  it('the bash completion is valid bash and completes commands, options and choices', () => {
    const script = bashCompletion();
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
    const probe = `${script}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _vifd; echo "\${COMPREPLY[*]}"; }
t vifd st; t vifd run --ovs; t vifd plan --ovs-datapath ""; t vifd status --wa; t vifd wait --state-dir "$STATE" 3f; t vifd wait --for ""`;
    const state = mkdtempSync(join(tmpdir(), 'vifd-completion-'));
    mkdirSync(join(state, 'status'));
    writeFileSync(join(state, 'status', '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f.json'), '{}');
    writeFileSync(join(state, 'status', '9e000000-5b0e-4d2a-9c3e-7a1b2c3d4e5f.json'), '{}');
    const lines = execFileSync('bash', ['-c', probe], { encoding: 'utf8', env: { ...process.env, STATE: state } }).trim().split('\n');
    rmSync(state, { recursive: true, force: true });
    expect(lines).toEqual(['status', '--ovsdb --ovs-datapath', 'system netdev', '--watch', '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f', 'Ready Removed']);
  });

  it('the man page has the sections a man page has and groff reads it without warnings', () => {
    const page = manPage('1.2.3', '2026-01-01');
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS']) expect(page).toContain(`.SH ${section}`);
    expect(page).toContain('.TH VIFD 8 "2026-01-01" "vifd 1.2.3"');
    const groff = spawnSync('groff', ['-man', '-ww', '-z', '-Tutf8'], { input: page, encoding: 'utf8' });
    expect(groff.error).toBeUndefined(); // groff-base is in scripts/setup.sh
    expect(groff.status).toBe(0);
    expect(groff.stderr).toBe('');
  });
});
