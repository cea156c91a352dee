// Starts the real `vifd run` as a child process against a test namespace, and
// reads what it reports. Tests check the namespace itself with `ip -j`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

export const VIFD_BIN = join(repoRoot(), 'bin/vifd.js');

export interface VifdDirs {
  root: string;
  desired: string;
  state: string;
}

export function makeDirs(prefix: string): VifdDirs {
  const root = mkdtempSync(join(tmpdir(), `vifd-${prefix}-`));
  const dirs = { root, desired: join(root, 'desired'), state: join(root, 'state') };
  mkdirSync(dirs.desired);
  return dirs;
}

export function removeDirs(dirs: VifdDirs): void {
  rmSync(dirs.root, { recursive: true, force: true });
}

/** `<state-dir>.run` beside the state directory the arguments name (else the temp dir). */
function runtimeDirFor(args: readonly string[]): string {
  const i = args.indexOf('--state-dir');
  return i >= 0 && args[i + 1] ? `${args[i + 1]}.run` : join(tmpdir(), 'vifd-test-run');
}

export class VifdProcess {
  /** Every vifd a test started that has not exited: killed after each test
   * file (test/support/no-leftover-vifd.ts), so a test that fails or times
   * out before its own cleanup leaves no daemon behind. */
  static readonly live = new Set<VifdProcess>();
  readonly child: ChildProcess;
  readonly logs: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [VIFD_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The runtime directory (the intent journal's fallback) in the test's own temp space.
      env: { ...process.env, VIFD_LOG_LEVEL: 'debug', RUNTIME_DIRECTORY: runtimeDirFor(args), ...env },
    });
    // Whole lines only: a pipe read can end in the middle of one.
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line !== '') this.logs.push(line);
      });
      stream.on('end', () => {
        if (partial !== '') this.logs.push(partial);
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    VifdProcess.live.add(this);
    void this.exited.then(() => VifdProcess.live.delete(this));
  }

  /** Waits for a log line matching `pattern`: lines reach the test through a
   * pipe, maybe after the status file the same round wrote. */
  waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<void> {
    return waitFor(() => this.logs.some((line) => pattern.test(line)), timeoutMs, `a log line matching ${String(pattern)}`);
  }

  static run(dirs: VifdDirs, netns: string, extra: string[] = []): VifdProcess {
    return new VifdProcess(['run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', netns, ...extra]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface StatusJson {
  port: string;
  phase: string;
  message: string;
  attempts: number;
  devices: Array<{ name: string; ifindex: number; mtu: number; master?: string; up: boolean; mac?: string }>;
  libvirt?: string;
  conflicts?: string[];
  problems?: Array<{ path: string; message: string }>;
}

export function readStatuses(dirs: VifdDirs): Map<string, StatusJson> {
  const out = new Map<string, StatusJson>();
  let names: string[] = [];
  try {
    names = readdirSync(join(dirs.state, 'status'));
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      const status = JSON.parse(readFileSync(join(dirs.state, 'status', name), 'utf8')) as StatusJson;
      out.set(status.port, status);
    } catch {
      // being replaced right now; the next poll reads it
    }
  }
  return out;
}

/** Polls until `check` returns true (or throws its last error at the deadline). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function writeBinding(dirs: VifdDirs, file: string, doc: unknown): void {
  const tmp = join(dirs.desired, `.${file}.tmp`);
  writeFileSync(tmp, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  // atomic replace, as a careful operator (or a config tool) does
  renameSync(tmp, join(dirs.desired, file));
}



/** A bridge-type binding document with a port UUID derived from `n`. */
export function bridgeBinding(n: number, bridge: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'vifd/v1',
    kind: 'PortBinding',
    port: portUuid(n),
    mac: macFor(n),
    vif: { type: 'bridge', bridge },
    ...extra,
  };
}

/** Port UUIDs whose first 11 characters differ, so default tap names do too. */
export function portUuid(n: number): string {
  const hex = n.toString(16).padStart(8, '0');
  return `${hex}-${hex.slice(0, 2)}aa-4bbb-8ccc-${n.toString(16).padStart(12, '0')}`;
}

export function macFor(n: number): string {
  return `fa:16:3e:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}
