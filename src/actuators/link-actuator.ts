// Runs planned link actions as one `ip -batch` and reports failures per key.
import type { LinkActionError } from '../errors/host-errors.js';
import type { LinkAction, WorkKey } from '../reconcile/actions.js';
import type { OwnershipConfig } from '../reconcile/ownership.js';
import { renderIpBatch } from './ip-batch.js';

export interface LinkBatchRunner {
  batch(lines: readonly string[]): Promise<LinkActionError[]>;
  /** Root qdisc noqueue on these new taps (best effort). */
  noQueue?(devices: readonly string[]): Promise<number>;
}

export interface ActuationResult {
  /** Failures by work key. */
  failures: Map<WorkKey, LinkActionError[]>;
  linesRun: number;
}

export async function applyLinkActions(runner: LinkBatchRunner, actions: readonly LinkAction[], ownership: OwnershipConfig): Promise<ActuationResult> {
  const batch = renderIpBatch(actions, ownership);
  const errors = await runner.batch(batch.lines);
  const failures = new Map<WorkKey, LinkActionError[]>();
  for (const error of errors) {
    // Deleting the doomed group fails harmlessly when nothing is left in it.
    if (/^link del group /u.test(error.line) && /Cannot find device|No such device/u.test(error.message)) continue;
    const keys = batch.keysOfLine[error.lineNumber - 1] ?? [];
    for (const key of keys) failures.set(key, [...(failures.get(key) ?? []), error]);
  }
  const created = actions.filter((a) => a.op === 'create-tap' && !failures.has(a.key)).map((a) => a.name);
  if (created.length > 0) await runner.noQueue?.(created);
  return { failures, linesRun: batch.lines.length };
}
