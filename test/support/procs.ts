// vifd's helper processes, from /proc: who they are, whether they outlive
// it (the chaos harness), how many there are (the soak).
import { readdirSync, readFileSync } from 'node:fs';

/** The parent pid from a /proc/<pid>/stat line (the comm field may hold spaces and parentheses). */
export function ppidOfStat(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** pid → parent pid of every process. */
function table(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    try {
      const ppid = ppidOfStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (ppid !== undefined) out.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  return [...table()].filter(([, parent]) => parent === pid).map(([child]) => child);
}

/** Every process below `pid` (children, their children, ...). */
export function descendants(pid: number): number[] {
  const t = table();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of t) if (parent === p) { out.push(child); walk(child); }
  };
  walk(pid);
  return out;
}

/** Running (a zombie or a vanished pid is not). */
export function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/u.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Process state letter (R, S, D, Z, ...) and whether SIGKILL is pending on it. */
export function stateOf(pid: number): { state: string; killPending: boolean } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const state = /^State:\s+(\S)/mu.exec(status)?.[1] ?? '?';
    const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s+([0-9a-f]+)/gmu)].some((m) => (BigInt(`0x${m[1]}`) & 0x100n) !== 0n);
    return { state, killPending: pending };
  } catch {
    return undefined;
  }
}
