// Process-wide counts of what the host adapter did, for metrics: every
// process started (by program), every netlink request sent, and the link
// model's losses and drifts. Plain numbers; the API renders them.

const commands = new Map<string, number>();
const counts = { netlinkRequests: 0, linkEventsLost: 0, linkModelDrift: 0 };

export type HostCount = keyof typeof counts;

export function countCommand(program: string): void {
  commands.set(program, (commands.get(program) ?? 0) + 1);
}

export function count(what: HostCount, n = 1): void {
  counts[what] += n;
}

/** Processes started, by program name (the basename, never the guard's). */
export function commandCounts(): Readonly<Record<string, number>> {
  return Object.fromEntries(commands);
}

export function hostCounts(): Readonly<Record<HostCount, number>> {
  return { ...counts };
}
