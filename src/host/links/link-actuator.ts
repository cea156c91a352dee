// Runs planned link actions as `ip -batch` and reports failures per key.
//
// A line that marks or changes a device must only ever reach a device vifd
// just created or already owns. Between vifd's snapshot and its batch
// another agent may create a device by a name vifd is creating: the
// creation then fails, and with one `ip -force -batch` the lines after it
// would still set vifd's group, alias, MAC, master and up on the foreign
// device. So a round that creates devices runs two batches: first the
// deletes and creations, then (once their failures are known) the lines
// that set up devices, minus every line touching a device (as itself or as
// its master) whose creation failed. `ip link add` could carry the group
// atomically for bridges, veths and macvtaps, but not the alias (the kernel
// ignores IFLA_IFALIAS at creation) and not for taps (created by ioctl), so
// two batches are needed anyway. Cost: one more `ip` process only in rounds
// that create something and set something up (every creating round), about
// the cost of one spawn (~3 ms, bench/spawn-guard-bench.ts); other rounds
// still run one batch.
import { isNoSuchDeviceMessage, type LinkActionError } from '../../errors/host-errors.js';
import type { LinkAction } from '../../model/actions.js';
import type { WorkKey } from '../../model/work-key.js';
import type { OwnershipConfig } from '../../model/ownership.js';
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
  /** How many `ip -batch` runs it took (1, or 2 when devices were created). */
  batches: number;
  /** Lines not run because they would have touched a device whose creation failed. */
  skipped: string[];
  /** Devices whose creation failed: whatever holds those names now is not vifd's
   * (they must leave the intent journal, or the next round would adopt them). */
  notCreated: string[];
}

const isHarmless = (error: LinkActionError) =>
  // Deleting the doomed group fails harmlessly when nothing is left in it.
  /^link del group /u.test(error.line) && isNoSuchDeviceMessage(error.message);

export async function applyLinkActions(runner: LinkBatchRunner, actions: readonly LinkAction[], ownership: OwnershipConfig): Promise<ActuationResult> {
  const batch = renderIpBatch(actions, ownership);
  const failures = new Map<WorkKey, LinkActionError[]>();
  const record = (errors: LinkActionError[], indexOf: (lineNumber: number) => number) => {
    for (const error of errors) {
      if (isHarmless(error)) continue;
      const keys = batch.keysOfLine[indexOf(error.lineNumber)] ?? [];
      for (const key of keys) failures.set(key, [...(failures.get(key) ?? []), error]);
    }
  };
  const firstCreate = batch.createsOfLine.findIndex((names) => names.length > 0);
  const lastCreate = batch.createsOfLine.reduce((last, names, i) => (names.length > 0 ? i : last), -1);
  const hasLater = lastCreate >= 0 && lastCreate < batch.lines.length - 1;
  const failedCreations = (errors: LinkActionError[], indexOf: (lineNumber: number) => number) =>
    new Set(errors.flatMap((e) => batch.createsOfLine[indexOf(e.lineNumber)] ?? []));
  // New taps get a noqueue root qdisc (main's rule), only those vifd made.
  const noQueue = async (notCreated: ReadonlySet<string>) => {
    const created = actions.filter((a) => a.op === 'create-tap' && !notCreated.has(a.name) && !failures.has(a.key)).map((a) => a.name);
    if (created.length > 0) await runner.noQueue?.(created);
  };
  if (!hasLater) {
    const errors = await runner.batch(batch.lines);
    record(errors, (n) => n - 1);
    const notCreated = failedCreations(errors, (n) => n - 1);
    await noQueue(notCreated);
    return { failures, linesRun: batch.lines.length, batches: batch.lines.length > 0 ? 1 : 0, skipped: [], notCreated: [...notCreated] };
  }
  // Stage 1: what comes before the first creation (out of and into the
  // doomed group, the bulk delete) and the creations; stage 2 the rest (a
  // new bridge's alias line included).
  const first: number[] = [];
  const second: number[] = [];
  batch.lines.forEach((_, i) => (i < firstCreate || batch.createsOfLine[i]!.length > 0 ? first : second).push(i));
  const firstErrors = await runner.batch(first.map((i) => batch.lines[i]!));
  record(firstErrors, (n) => first[n - 1]!);
  const notCreated = failedCreations(firstErrors, (n) => first[n - 1]!);
  const run: number[] = [];
  const skipped: string[] = [];
  for (const i of second) (batch.touchesOfLine[i]!.some((n) => notCreated.has(n)) ? skipped.push(batch.lines[i]!) : run.push(i));
  if (run.length > 0) record(await runner.batch(run.map((i) => batch.lines[i]!)), (n) => run[n - 1]!);
  await noQueue(notCreated);
  return { failures, linesRun: first.length + run.length, batches: run.length > 0 ? 2 : 1, skipped, notCreated: [...notCreated] };
}
