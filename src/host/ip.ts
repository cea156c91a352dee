// iproute2, in the managed namespace: one JSON snapshot, one batch per round.
import { LinkActionError } from '../errors/host-errors.js';
import type { LinkSnapshot } from '../observed/links.js';
import { parseIpLinkJson } from '../observed/parse-ip-link.js';
import { runCommand } from './run.js';

const MAX_DUMP_ATTEMPTS = 5;

export class Ip {
  constructor(private readonly netns: string | undefined) {}

  private argv(...args: string[]): string[] {
    return this.netns ? ['ip', '-n', this.netns, ...args] : ['ip', ...args];
  }

  /** One consistent `ip -j -d link show`. The kernel flags a dump that raced
   * with link changes (NLM_F_DUMP_INTR; ip says "Dump was interrupted" and
   * still exits 0): such a snapshot may miss devices, so it is taken again. */
  async snapshotLinks(): Promise<LinkSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const { stdout, stderr } = await runCommand(this.argv('-j', '-d', 'link', 'show'));
      if (!stderr.includes('Dump was interrupted') || attempt >= MAX_DUMP_ATTEMPTS) return parseIpLinkJson(stdout);
    }
  }

  /** New taps get a `noqueue` root qdisc, as libvirt gives its own (the
   * kernel's default pfifo_fast queues in front of a VM that has its own
   * queues: a known 10-50 % throughput loss). Best effort, at creation
   * only: an operator's later qdisc is never touched. One `tc -batch`. */
  async noQueue(devices: readonly string[]): Promise<number> {
    if (devices.length === 0) return 0;
    const argv = this.netns ? ['tc', '-n', this.netns, '-force', '-batch', '-'] : ['tc', '-force', '-batch', '-'];
    const { exitCode } = await runCommand(argv, { input: devices.map((d) => `qdisc replace dev ${d} root noqueue`).join('\n') + '\n', allowFailure: true });
    return exitCode;
  }

  /** Runs all lines as one `ip -force -batch -`; returns the lines that failed. */
  async batch(lines: readonly string[]): Promise<LinkActionError[]> {
    if (lines.length === 0) return [];
    const { stderr, exitCode } = await runCommand(this.argv('-force', '-batch', '-'), {
      input: lines.join('\n') + '\n',
      allowFailure: true,
      timeoutMs: 120_000,
    });
    if (exitCode === 0) return [];
    return parseBatchErrors(stderr, lines);
  }
}

/** `ip -force -batch -` prints each failing command's messages followed by
 * `Command failed -:N`. */
export function parseBatchErrors(stderr: string, lines: readonly string[]): LinkActionError[] {
  const errors: LinkActionError[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const text = raw.trim();
    if (text === '') continue;
    const failed = /^Command failed (?:-|\S+):(\d+)$/u.exec(text);
    if (failed) {
      const lineNumber = Number(failed[1]);
      errors.push(new LinkActionError({ line: lines[lineNumber - 1] ?? '?', lineNumber, message: pending.join('; ') || 'failed' }));
      pending = [];
    } else {
      pending.push(text);
    }
  }
  if (pending.length > 0 && errors.length === 0) {
    errors.push(new LinkActionError({ line: '(batch)', lineNumber: 0, message: pending.join('; ') }));
  }
  return errors;
}
