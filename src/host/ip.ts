// iproute2, in the managed namespace: one JSON snapshot, one batch per round.
import { LinkActionError } from '../errors/host-errors.js';
import type { LinkSnapshot } from '../observed/links.js';
import { parseIpLinkJson } from '../observed/parse-ip-link.js';
import { runCommand } from './run.js';

export class Ip {
  constructor(private readonly netns: string | undefined) {}

  private argv(...args: string[]): string[] {
    return this.netns ? ['ip', '-n', this.netns, ...args] : ['ip', ...args];
  }

  async snapshotLinks(): Promise<LinkSnapshot> {
    const { stdout } = await runCommand(this.argv('-j', '-d', 'link', 'show'));
    return parseIpLinkJson(stdout);
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
